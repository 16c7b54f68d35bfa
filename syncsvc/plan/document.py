"""The reader-neutral document model: paragraphs and table rows in reading order.

Every format reader (text export, HTML, DOCX, spreadsheets, CSV, PDF) produces a `Document`;
the layout readers (`plan.layouts`) turn lists and grids into rows of the plan table, and
`plan.table.build_plan` turns the rows into a `Plan`. Pure.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from syncsvc.domain.plan import Problem, Status


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    spanned: bool = False  # a copy of a cell merged down from the row above (rowspan, vMerge)


@dataclass(frozen=True, slots=True)
class Row:
    """A table row; `line` is the text line (text export) or the row number (HTML, DOCX)."""

    cells: tuple[Cell, ...]
    line: int | None = None
    tentative: bool = False  # the activity list's trailing "?"
    # Set by the layout readers (lists, grids, tables without a header we know):
    year: int | None = None  # the year its dates are in, from a heading or the school year
    status: Status | None = None  # CANCELLED/TENTATIVE from status words in the line
    roles: tuple[str | None, ...] | None = None  # a header row whose column roles are known

    @classmethod
    def of(
        cls,
        *texts: str,
        line: int | None = None,
        tentative: bool = False,
        year: int | None = None,
        status: Status | None = None,
    ) -> Row:
        return cls(tuple(Cell(t) for t in texts), line, tentative, year, status)


@dataclass(frozen=True, slots=True)
class Para:
    """Text outside any table: title, notes, semester headings, the contact list."""

    text: str
    line: int | None = None
    heading: bool = False  # an HTML <h1>–<h3> or a Word title/heading style: may be the title


Block = Row | Para


@dataclass(frozen=True, slots=True)
class Document:
    """What a format reader found: paragraphs and rows in reading order.

    Readers of the file formats fill `name`, `blocks`, `format` and `problems`; the layout
    readers (`plan.layouts`) may also give the title, the year and the first year of a school
    year when the layout says them (a list's headings, say).
    """

    name: str  # file name or URL, for `Where`
    blocks: tuple[Block, ...]
    format: str
    problems: tuple[Problem, ...] = ()  # from decoding (e.g. cp1252 fallback)
    title: str | None = None
    year: int | None = None
    school_year: int | None = None  # first year of "2023/24": August-December in it


# --------------------------------------------------------------------------- text helpers


def clean(text: str) -> str:
    """One line of text: whitespace (also no-break and zero-width spaces) collapsed, stripped."""
    # str.split() splits at the characters re's \s matches (str.isspace), and drops the ends.
    return " ".join(text.replace("\u200b", "").replace("\ufeff", "").split())


_SLUG_MAP = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
_SLUG_MAX = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """ASCII identity slug: 'Våren 2024' -> 'varen-2024' (æ→ae ø→o å→a, other accents dropped)."""
    # Every item's key slugs its semester and its title; long texts are not held by the cache.
    return _slug(text) if len(text) <= 200 else _slug.__wrapped__(text)


@functools.lru_cache(maxsize=4096)
def _slug(text: str) -> str:
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(_SLUG_MAP))
        .encode("ascii", "ignore")
        .decode()
        .lower()
    )
    out = _NOT_SLUG.sub("-", ascii_text).strip("-")
    if len(out) > _SLUG_MAX:
        out = out[:_SLUG_MAX].rsplit("-", 1)[0]
    return out or "item"


_NOT_A_TO_Z = re.compile(r"[^A-Z]")


def fold(text: str) -> str:
    """Header text for matching: upper case, no accents (Ø→O), letters only."""
    t = unicodedata.normalize("NFKD", text.upper().replace("Ø", "O").replace("Æ", "AE"))
    return _NOT_A_TO_Z.sub("", t.encode("ascii", "ignore").decode())
