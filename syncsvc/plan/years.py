"""Which year a plan's dates are in: title years, school years, headings, weekdays. Pure.

* A title or heading year: "Årsplan 2024", "Møteplan 2024", "September 2018", "2024".
* A school year: "2020/2021", "2023/24", "Skoleåret 2023–24", "Haust 22 / Vår 23": August to
  December are in the first year, January to July in the second.
* Season headings: "Våren 2024", "Høsten 2024", "Haust 22", "Vår 23" (two-digit years are
  20xx), "1. halvår 2025".
* No year anywhere: the weekdays written with the dates ("Tirsdag 22.august") choose it among
  the years around the day the plan is read; without weekdays there is no year (an error).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from syncsvc.domain.norwegian import MONTH_NAMES
from syncsvc.domain.plan import ProblemKind
from syncsvc.plan.dates import grammar as date_grammar

FIRST_MONTH_OF_SCHOOL_YEAR = 8  # August

_YEAR = r"(?:19|20)\d\d"
_SCHOOL_YEAR = re.compile(
    rf"(?<![\d.])(?P<a>{_YEAR})\s*(?:/|-|–|—|til)\s*(?P<b>{_YEAR}|\d\d)(?![\d.])"
    r"|(?:haust|høst|hausten|høsten)\s*(?P<c>\d\d|" + _YEAR + r")\s*(?:/|-|–|og)\s*"
    r"(?:vår|våren|vinter)\s*(?P<d>\d\d|" + _YEAR + r")",
    re.IGNORECASE,
)
_SEASON = re.compile(
    r"^(?P<name>(?:vår|høst|sommar|sommer|vinter|haust)(?:en|a)?(?:semester(?:et)?|halvår(?:et)?)?"
    r"|[12]\.\s*(?:halvår|semester|tertial)|(?:første|andre|fyrste)\s+halvår)"
    rf"\s*(?P<year>{_YEAR}|\d\d)?\s*:?$",
    re.IGNORECASE,
)
_ABBREVIATED = {"jan": 1, "feb": 2, "febr": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7,
                "aug": 8, "sep": 9, "sept": 9, "okt": 10, "nov": 11, "des": 12}  # fmt: skip
_MONTH_HEADING = re.compile(
    rf"^\s*(?P<month>{'|'.join(MONTH_NAMES)})(?:\s*(?:/|-|–|og)\s*(?:{'|'.join(MONTH_NAMES)}))?"
    rf"\s*(?P<year>{_YEAR})?\s*:?\s*$",
    re.IGNORECASE,
)  # "August", "AUGUST 2021", "Mars/april" (day-only dates below take the first month)
_YEAR_HEADING = re.compile(rf"^\s*(?P<year>{_YEAR})\s*:?\s*$")


def two_digit(year: str) -> int:
    return 2000 + int(year) if len(year) == 2 else int(year)


def school_year_of(text: str) -> int | None:
    """The first year of a school year written in `text` ("2023/24" -> 2023), else None."""
    m = _SCHOOL_YEAR.search(text)
    if not m:
        return None
    if m["a"]:
        first = int(m["a"])
        second = first // 100 * 100 + int(m["b"]) if len(m["b"]) == 2 else int(m["b"])
    else:
        first, second = two_digit(m["c"]), two_digit(m["d"])
    return first if second == first + 1 else None


def season_of(text: str) -> tuple[str, int | None] | None:
    """'Våren 2024' -> ('Våren 2024', 2024); 'Haust 22' -> ('Haust 22', 2022); else None."""
    m = _SEASON.match(text.strip())
    if not m:
        return None
    return text.rstrip(":").strip(), two_digit(m["year"]) if m["year"] else None


def month_heading(text: str) -> tuple[int, int | None] | None:
    """'August' -> (8, None); 'AUGUST 2021' -> (8, 2021); anything else -> None."""
    m = _MONTH_HEADING.match(text)
    if not m:
        return None
    return MONTH_NAMES.index(m["month"].lower()) + 1, int(m["year"]) if m["year"] else None


_ANY_YEAR = re.compile(rf"(?<![\d.])({_YEAR})(?![\d.])")


def year_of_text(text: str) -> int | None:
    """The first year written in a text ("Månadsplan for september 2023" -> 2023)."""
    m = _ANY_YEAR.search(text)
    return int(m[1]) if m else None


def year_heading(text: str) -> int | None:
    m = _YEAR_HEADING.match(text)
    return int(m["year"]) if m else None


def month_of_header(text: str) -> int | None:
    """A grid header cell naming a month: 'Jan.', 'Sept.', 'Juni', 'MARS' -> 1..12."""
    word = text.strip().rstrip(".").strip().lower()
    if word in MONTH_NAMES:
        return MONTH_NAMES.index(word) + 1
    return _ABBREVIATED.get(word)


_WRITTEN_YEAR = re.compile(
    rf"(?<![\d.])\d{{1,2}}[./]\d{{1,2}}[./](?P<y>{_YEAR}|\d\d)(?![\d.])|(?<!\d)(?P<z>{_YEAR})(?!\d)"
)


def year_in_dates(date_texts: Iterable[str]) -> int | None:
    """The first year written in date cells ("03.09.2023", "1. februar 2024"), else None."""
    for text in date_texts:
        m = _WRITTEN_YEAR.search(text)
        if m:
            return two_digit(m["y"]) if m["y"] else int(m["z"])
    return None


def in_school_year(first_year: int, month: int) -> int:
    """The calendar year of `month` in the school year that starts in August of first_year."""
    return first_year if month >= FIRST_MONTH_OF_SCHOOL_YEAR else first_year + 1


def choose_year(date_texts: Iterable[str], today: date | None) -> tuple[int, int, int] | None:
    """The year the weekdays in the date texts agree with: (year, dates checked, mismatches).

    Candidates are the years from one before to two after `today`; the one with the fewest
    weekday mismatches wins, the nearest to today on a tie. None without weekdays or `today`.
    """
    if today is None:
        return None
    texts = [t for t in date_texts if t and _has_weekday(t)]
    if not texts:
        return None
    best: tuple[int, int, int] | None = None  # (mismatches, distance, year)
    for year in range(today.year - 1, today.year + 3):
        mismatches = 0
        base = year
        prev: date | None = None
        for text in texts:
            reading = date_grammar.read_dates(text, base)
            if reading.occurrences:
                first = reading.occurrences[0].first_day
                if prev is not None and (prev - first).days > 183:
                    base += 1  # the plan runs on into the next year
                    reading = date_grammar.read_dates(text, base)
                    first = reading.occurrences[0].first_day if reading.occurrences else first
                prev = first
            mismatches += sum(
                1 for k, _, _ in reading.problems if k is ProblemKind.WEEKDAY_MISMATCH
            )
        key = (mismatches, abs(year - today.year), year)
        if best is None or key < best:
            best = key
    assert best is not None
    return best[2], len(texts), best[0]


_WEEKDAY_HINT = re.compile(
    r"\b(?:man|tir|tys|ons|tor|fre|lør|lau|søn|sun)[a-zæøå]*\.?\s*(?:den\s+)?\d", re.IGNORECASE
)


def _has_weekday(text: str) -> bool:
    return _WEEKDAY_HINT.search(text) is not None
