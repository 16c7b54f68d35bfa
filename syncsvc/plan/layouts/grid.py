"""The grid layout: a meeting plan with one row per body and one column per month.

    Utvalg         Jan.  Feb.  Mar.  ...  Nov.        Des.
    Formannskapet  17.   7.    14.        7. og 28.
    Kommunestyret        16.   30.        23.         14.

Pure. A header row with six or more month names (full or abbreviated) starts a grid; each row
below it is an item titled by its first text cell, and each month cell's day numbers are dates
in that month. Everything else in the document is read as paragraphs (title, notes).
"""

from __future__ import annotations

import re

from syncsvc.domain.norwegian import MONTH_NAMES
from syncsvc.plan.document import Block, Document, Para, Row, clean
from syncsvc.plan.years import month_of_header

MIN_MONTHS = 6
HEADER = ("AKTIVITET", "DATO", "NOTATER")
_DAY = re.compile(r"(?<![\d.])(\d{1,2})(?![\d])\.?")
_FOOTNOTE = re.compile(r"\*+")


def grid_months(cells: list[str]) -> dict[int, int] | None:
    """Cell position -> month for a grid header row; None if the row is not one."""
    months = {i: m for i, c in enumerate(cells) if (m := month_of_header(c)) is not None}
    return months if len(months) >= MIN_MONTHS else None


def is_grid(doc: Document) -> bool:
    return any(
        isinstance(b, Row) and grid_months([clean(c.text) for c in b.cells]) for b in doc.blocks
    )


def _dates(cell: str, month: int) -> str:
    name = MONTH_NAMES[month - 1]
    return _DAY.sub(lambda m: f"{m[1]}. {name}", _FOOTNOTE.sub("", cell))


def read_grid(doc: Document) -> Document:
    blocks: list[Block] = []
    months: dict[int, int] | None = None
    header_done = False
    for block in doc.blocks:
        if isinstance(block, Para):
            blocks.append(block)
            continue
        cells = [clean(c.text) for c in block.cells]
        found = grid_months(cells)
        if found is not None:
            months = found
            continue
        if months is None or not any(cells):
            if any(cells):
                blocks.append(Para("   ".join(c for c in cells if c), block.line))
            continue
        title = next((c for i, c in enumerate(cells) if c and i not in months), "")
        parts = [_dates(cells[i], m) for i, m in sorted(months.items()) if i < len(cells)]
        dates = " ".join(p for p in parts if p)
        if not title:
            blocks.append(Para(dates, block.line))
            continue
        if not header_done:
            blocks.append(Row.of(*HEADER, line=block.line))
            header_done = True
        blocks.append(Row.of(title, dates, "", line=block.line))
    return Document(doc.name, tuple(blocks), doc.format, doc.problems, title=doc.title)
