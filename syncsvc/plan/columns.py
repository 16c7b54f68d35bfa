"""Plan table columns: which column a header names, header rows, semesters and title years.

Pure. Headers are matched by text, tolerant of case, accents, spaces inside words and partial
words (`KNYTTE T TIL TILTAK NR`, `Dato`, `Ansvar`); `plan.layouts.roles` finds the roles of
columns whose headers say nothing we know.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from syncsvc.plan.document import clean, fold
from syncsvc.plan.years import season_of

# --------------------------------------------------------------------------- columns


class Column(StrEnum):
    TITLE = "title"
    DATES = "dates"
    MEASURES = "measures"
    RESPONSIBLE = "responsible"
    COMPETENCE = "competence"
    VISIBILITY = "visibility"
    NOTES = "notes"
    TIME = "time"  # "18.00 – 20.00": the time of the dates in the row
    WEEK = "week"  # "Uke 34", "37-38": the week when no day is written
    MONTH = "month"  # "August": the month of day-only dates in the row
    PLACE = "place"  # "Bygdetunet": kept out of the title


# Short header words are matched whole: "HVA" is a header, "HVASKJER" in a cell is not.
_EXACT: Mapping[str, Column] = {
    **dict.fromkeys(("TID", "KL", "KLOKKA", "KLOKKESLETT", "TIDSPUNKT", "STARTTID"), Column.TIME),
    **dict.fromkeys(("UKE", "VEKE", "UKENR", "VEKENR", "UKER", "VEKER"), Column.WEEK),
    **dict.fromkeys(("MANED", "MANAD", "MND", "MANEDER", "MANADER"), Column.MONTH),
    **dict.fromkeys(
        ("HVA", "KVA", "TEMA", "INNHOLD", "INNHALD", "PROGRAM", "HENDELSE", "HENDING",
         "TITTEL", "BESKRIVELSE", "MOTE", "MOTER", "KURS"),
        Column.TITLE,
    ),
    **dict.fromkeys(
        ("STED", "STAD", "HVOR", "KVAR", "MOTESTED", "MOTESTAD", "LOKALE", "ADRESSE", "OPPMOTE"),
        Column.PLACE,
    ),
    **dict.fromkeys(
        ("HVEM", "KVEN", "FOREDRAGSHOLDER", "FOREDRAGSHALDAR", "KONTAKT", "ARRANGOR", "LEDER",
         "LEIAR", "MOTELEDER", "ANSV"),
        Column.RESPONSIBLE,
    ),
    **dict.fromkeys(("STATUS", "INFO", "BESKJED", "MALGRUPPE", "FOR", "GJELDERFOR", "OBS"),
                    Column.NOTES),
}  # fmt: skip


_DATES_EXACT = frozenset({"NAR", "NARTID", "TIDSROM", "PERIODE"})
# Every word the partial matches below look for (TILTAKNR and TILTAKSNR contain TILTAK): a
# folded cell with none of them, and not a whole header word, names no column. Most cells of
# a big table are no header, and each would otherwise go through every test.
_PARTS = re.compile(
    "KNYTT|DATO|ARBEIDSOPPGAVE|AKTIVITET|OPPGAVE|ARRANGEMENT|TILTAK|ANSVAR|SAMARBEID"
    "|KOMPETANSE|SYNLIG|NOTAT|ANNET|MERKNAD|KOMMENTAR|GJELDER"
)


@functools.lru_cache(maxsize=4096)
def column_of(header: str) -> Column | None:
    """Which column a header cell names, tolerant of case, accents, spaces and partial words."""
    f = fold(header)
    if not f or len(f) > 60:
        return None
    if f in _EXACT:
        return _EXACT[f]
    if f not in _DATES_EXACT and _PARTS.search(f) is None:
        return None
    return _by_parts(f)


def _by_parts(f: str) -> Column | None:
    """The column a folded header names by a word in it (in this order of precedence)."""
    if "KNYTT" in f or "TILTAKNR" in f or "TILTAKSNR" in f:
        return Column.MEASURES
    if "DATO" in f or f in _DATES_EXACT:
        return Column.DATES
    if any(w in f for w in ("ARBEIDSOPPGAVE", "AKTIVITET", "OPPGAVE", "ARRANGEMENT")):
        return Column.TITLE
    if "TILTAK" in f:
        return Column.MEASURES
    if "ANSVAR" in f or "SAMARBEID" in f:
        return Column.RESPONSIBLE
    if "KOMPETANSE" in f:
        return Column.COMPETENCE
    if "SYNLIG" in f:
        return Column.VISIBILITY
    if any(w in f for w in ("NOTAT", "ANNET", "MERKNAD", "KOMMENTAR", "GJELDER")):
        return Column.NOTES
    return None


@dataclass(frozen=True, slots=True)
class Header:
    index: Mapping[Column, int]  # column -> cell position
    names: Mapping[Column, str]  # column -> header text as written, for `Where`
    line: int | None


def detect_header(cells: Sequence[str], line: int | None) -> Header | None:
    """A header row names at least two known columns, one of them the title or the dates."""
    index: dict[Column, int] = {}
    names: dict[Column, str] = {}
    for i, text in enumerate(cells):
        col = column_of(text)
        if col is not None and col not in index:
            index[col] = i
            names[col] = clean(text)
    if Column.DATES not in index and Column.TIME in index and Column.WEEK not in index:
        # "Tid" alone is the date column ("Tid | Aktivitet"): old plans wrote it so.
        index[Column.DATES] = index.pop(Column.TIME)
        names[Column.DATES] = names.pop(Column.TIME)
    if len(index) < 2 or not ({Column.TITLE, Column.DATES} & index.keys()):
        return None
    if Column.TITLE not in index:
        # No title header: the first column that is not otherwise named carries the title.
        free = [i for i in range(len(cells)) if i not in index.values()]
        if not free:
            return None
        index[Column.TITLE] = free[0]
        names[Column.TITLE] = clean(cells[free[0]]) or "1"
    return Header(index, names, line)


_SEPARATOR_CELL = re.compile(r"^[-=_–—.*~\s]+$")


def is_separator(cells: Sequence[str]) -> bool:
    filled = [c for c in cells if c]
    return bool(filled) and all(_SEPARATOR_CELL.match(c) for c in filled)


# --------------------------------------------------------------------------- semesters, year

_TITLE_YEAR = re.compile(r"(?:års?plan|plan|aktivitet\w*|kalender)\D{0,20}((?:19|20)\d\d)", re.I)
_ANY_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?![\d.])")


def semester_of(text: str) -> tuple[str, int | None] | None:
    """'Våren 2024' -> ('Våren 2024', 2024); 'Haust 22' -> ('Haust 22', 2022); else None."""
    return season_of(text)


def year_of_title(title: str) -> int | None:
    m = _TITLE_YEAR.search(title) or _ANY_YEAR.search(title)
    return int(m.group(1)) if m else None
