"""The Norwegian date grammar: reads the free-text date cells of the annual plan.

Pure: no clock, no I/O. `read_dates` never raises for any text; what it cannot read becomes
`undated_reason` and/or problems. Tokens come from `dates_lexer`; this module parses them into
*units* and resolves units into `Occurrence`s.

Grammar (Bokmål and Nynorsk, case-insensitive)::

    unit     := [FROM] chain | [FROM] week-unit
    chain    := (partial CONN)* full [RANGE chain]      # "10.- 11. april", "23. og 24.mai"
    full     := [weekday] day [","] month [year] | [weekday] numeric-date
    partial  := [weekday] day                           # takes month/year from the next full
    week-unit:= WEEK n ((RANGE|AND) [WEEK] n)*          # "Uke 43", "uke 45-48", "uke 28 og 29"

Semantics:

* Elements joined by a range word ("-", "til", "t.o.m.") form one occurrence from the first to
  the last day; elements joined by "og", "&", "," or written one after another are separate
  occurrences. So "23. og 24.mai" is two one-day occurrences, "10.- 11. april" one range.
* All-day occurrences are `date`s with an exclusive end. A week is Monday to Sunday.
* Times ("kl. 10.00-11.30", "klokken 1800-1930", "kl 15:30 – 16:30", "kl. 9", "10:00") apply
  to the nearest unit before them (or, if none, the next one). A time without an end lasts
  **one hour**. A range of days with a time starts on the first day at the start time and ends
  on the last day at the end time; an end at or before the start means the next day. Times on
  weeks are ignored (with a warning).
* Year: the `year` argument, unless written ("1. februar 2024", "16.01.24"). A date without a
  year that comes before the previous date of the cell rolls into the next year ("24. des -
  2.januar" ends in year+1; "... 17. desember 14. januar" is January of year+1). In a range
  whose first day is greater than its last ("30.-2. mars"), the first day is in the month before.
* Status: "OK"/"Gjennomført" after a unit marks that unit done (text such as a topic may come
  between); before any date it marks the whole cell. "?" right after a unit marks it tentative;
  a "?" ending the cell elsewhere marks every not-done occurrence tentative.
* Topic: text after a unit, up to the next unit, without times, status words and separators
  ("Tirsdagsmøtet 16. Januar – Kartleggingen Gjennomført" → topic "Kartleggingen"). Text before
  the first date is a label and is dropped.
* A weekday that disagrees with the date keeps the date and adds a WEEKDAY_MISMATCH error.
  Impossible dates ("30. februar", "uke 54") add an UNPARSED_DATE error.
* Bare numbers ("4", "2 7 15") and years ("2024") are never dates; neither are "12.30"-style
  times. Day.month without a year ("27.2", "1/3") is a date when both parts are plausible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncsvc.domain.errors import ConfigError
from syncsvc.domain.plan import TIMEZONE, Occurrence, ProblemKind, Severity
from syncsvc.plan.dates.lexer import Kind, Token, may_have_dates, tokenize
from syncsvc.plan.dates.parse import (
    Cell,
    Elem,
    ProblemTuple,
    Unit,
    attach,
    fill_partials,
    parse_units,
)

__all__ = ["DateReading", "find_dates", "read_dates"]

_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MIN_YEAR, _MAX_YEAR = 1900, 2199  # explicit years outside this are typos, not plans
_MAX_ROLLED_RANGE_DAYS = 183  # a range into the next year longer than this runs backwards


@dataclass(frozen=True, slots=True)
class DateReading:
    occurrences: tuple[Occurrence, ...] = ()
    undated_reason: str | None = None  # set iff no occurrence: the text (stripped), or "empty"
    problems: tuple[tuple[ProblemKind, Severity, str], ...] = ()


# --- resolving units into occurrences -----------------------------------------------------


@lru_cache(maxsize=16)
def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(f"unknown time zone {tz!r}") from err


@dataclass(slots=True)
class _YearState:
    """The year a date without one falls in, rolling forward as the cell goes on."""

    year: int
    prev: date | None = None


def _month_name(month: int | None) -> str:
    return _MONTH_NAMES[month - 1] if month and 1 <= month <= 12 else f"month {month}"


def _resolve(e: Elem, state: _YearState, cell: Cell, written: str) -> date | None:
    """The first day of an element, or None (with a problem) when there is no such day.

    `written` is the unit's text, for messages.
    """
    year = state.year if e.year is None else e.year
    if e.year is not None and not _MIN_YEAR <= e.year <= _MAX_YEAR:
        cell.problems.append(
            (
                ProblemKind.UNPARSED_DATE,
                Severity.ERROR,
                f"{written!r}: year {e.year} is out of range",
            )
        )
        return None
    try:
        if e.week:
            day = date.fromisocalendar(year, e.number, 1)
            if e.year is None and state.prev is not None and day < state.prev:
                year += 1
                day = date.fromisocalendar(year, e.number, 1)
        else:
            assert e.month is not None
            prev = state.prev
            if (
                e.year is None
                and prev is not None
                and prev.year == year
                and (e.month, e.number) < (prev.month, prev.day)
            ):
                year += 1  # a date before the previous one is in the next year
            day = date(year, e.month, e.number)
    except ValueError:
        what = (
            f"week {e.number} of {year}" if e.week else f"{e.number} {_month_name(e.month)} {year}"
        )
        cell.problems.append(
            (ProblemKind.UNPARSED_DATE, Severity.ERROR, f"{written!r}: no such date ({what})")
        )
        return None
    state.year, state.prev = year, day
    as_written = cell.text[e.start : e.end]
    if e.weekday is not None and day.weekday() != e.weekday:
        cell.problems.append(
            (
                ProblemKind.WEEKDAY_MISMATCH,
                Severity.ERROR,
                f"{as_written!r}: {day.day} {_MONTH_NAMES[day.month - 1]} {day.year} is a "
                f"{_DAY_NAMES[day.weekday()]}, not a {_DAY_NAMES[e.weekday]}",
            )
        )
    return day


def _clock(s: str) -> tuple[int, int] | None:
    """ "9", "10.00", "15:30", "1800" -> (hour, minute); None if not a time of day."""
    if "." in s or ":" in s:
        h, m = s.replace(":", ".").split(".")
    elif len(s) == 4:
        h, m = s[:2], s[2:]
    else:
        h, m = s, "0"
    hour, minute = int(h), int(m)
    if (0 <= hour <= 23 and 0 <= minute <= 59) or (hour, minute) == (24, 0):
        return hour, minute
    return None


def _timed(
    first: date, last: date, tok: Token, zone: ZoneInfo, cell: Cell
) -> tuple[datetime, datetime] | None:
    a, b = cast(tuple[str, str | None], tok.value)
    t1 = _clock(a)
    t2 = _clock(b) if b else None
    if t1 is None or t1 == (24, 0) or (b and t2 is None):
        cell.problems.append(
            (
                ProblemKind.UNPARSED_DATE,
                Severity.WARNING,
                f"{tok.text!r}: not a time of day; read as all-day",
            )
        )
        return None
    start = datetime.combine(first, time(*t1), tzinfo=zone)
    if t2 is None:
        end = datetime.combine(last, time(*t1), tzinfo=zone) + timedelta(hours=1)
    elif t2 == (24, 0):
        end = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=zone)
    else:
        end = datetime.combine(last, time(*t2), tzinfo=zone)
    if end <= start:  # "kl. 22-01": ends the next day
        end += timedelta(days=1)
    return start, end


def _groups(conns: list[Kind], n: int) -> list[tuple[int, int]]:
    """Split elements at list connectors; each (first, last) run of ranges is one occurrence."""
    out, lo = [], 0
    for k, conn in enumerate(conns):
        if conn is Kind.AND:
            out.append((lo, k))
            lo = k + 1
    out.append((lo, n - 1))
    return out


def _unit_occurrences(u: Unit, state: _YearState, cell: Cell, zone: ZoneInfo) -> list[Occurrence]:
    fill_partials(u)
    written = cell.text[cell.toks[u.first].start : cell.toks[u.last].end]
    days = [_resolve(e, state, cell, written) for e in u.elems]
    week = u.elems[0].week
    if u.time is not None and week:
        cell.problems.append(
            (
                ProblemKind.UNPARSED_DATE,
                Severity.WARNING,
                f"{u.time.text!r}: a time on a week is ignored",
            )
        )
    out: list[Occurrence] = []
    for lo, hi in _groups(u.conns, len(u.elems)):
        first, last = days[lo], days[hi]
        if first is None or last is None or None in days[lo : hi + 1]:
            continue  # the bad element already has its problem
        try:
            if week:
                last += timedelta(days=6)  # a week is Monday through Sunday
            # "18. desember - 2. desember" is no year-long range into the next December: a
            # range may run into the next year ("24. des - 2. januar"), but not that far.
            backwards = (
                not week
                and hi > lo
                and u.elems[hi].year is None
                and last.year > first.year
                and (last - first).days > _MAX_ROLLED_RANGE_DAYS
            )
            if last < first or backwards:
                cell.problems.append(
                    (
                        ProblemKind.UNPARSED_DATE,
                        Severity.ERROR,
                        f"{written!r}: the range ends before it starts",
                    )
                )
                continue
            span: tuple[date, date] | tuple[datetime, datetime] = (first, last + timedelta(days=1))
            if u.time is not None and not week:
                span = _timed(first, last, u.time, zone, cell) or span
        except (ValueError, OverflowError):
            cell.problems.append(
                (ProblemKind.UNPARSED_DATE, Severity.ERROR, f"{written!r}: date out of range")
            )
            continue
        out.append(Occurrence(span[0], span[1], u.status, u.topic, written))
    return out


_Reading = tuple[tuple[Occurrence, ...], tuple[ProblemTuple, ...]]
# Big tables repeat the same date and note texts row after row; a reading is immutable, so the
# same text in the same year reads from the cache. Long texts are prose, rarely repeated: they
# are read each time rather than held.
_CACHED_TEXT_MAX = 400


def _read(text: str, year: int, tz: str) -> _Reading:
    if len(text) <= _CACHED_TEXT_MAX:
        return _read_cached(text, year, tz)
    return _read_text(text, year, tz)


@lru_cache(maxsize=8192)
def _read_cached(text: str, year: int, tz: str) -> _Reading:
    return _read_text(text, year, tz)


def _read_text(text: str, year: int, tz: str) -> _Reading:
    zone = _zone(tz)
    toks = [t for t in tokenize(text) if t.kind is not Kind.DOT]  # ordinal dots carry nothing
    cell = Cell(text, toks)
    cell.units = parse_units(toks)
    attach(cell)
    state = _YearState(year)
    occurrences = [o for u in cell.units for o in _unit_occurrences(u, state, cell, zone)]
    return tuple(occurrences), tuple(cell.problems)


def read_dates(text: str, year: int, *, tz: str = TIMEZONE) -> DateReading:
    """Read a date cell ("16.januar OK 20.februar OK 19.mars", "10.- 11. april", "Uke 43", "?")."""
    occurrences, problems = _read(text, year, tz)
    reason = None if occurrences else (text.strip() or "empty")
    return DateReading(occurrences, reason, problems)


def find_dates(text: str, year: int, *, tz: str = TIMEZONE) -> tuple[Occurrence, ...]:
    """Lenient scan of prose (note columns) for date mentions, used only as hints for the admin.

    Same grammar as `read_dates`; problems are dropped and topics are not kept (prose after a
    date is rarely its topic). "23. og 24.mai" gives two one-day occurrences.
    """
    if not may_have_dates(text):  # most prose: no need to tokenize and parse it
        _zone(tz)  # an unknown zone is an error whatever the text
        return ()
    occurrences, _ = _read(text, year, tz)
    return tuple(replace(o, topic=None) for o in occurrences)
