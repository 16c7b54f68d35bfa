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

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncsvc.errors import ConfigError
from syncsvc.plan.dates_lexer import Kind, Token, tokenize
from syncsvc.plan.model import TIMEZONE, Occurrence, ProblemKind, Severity, Status

__all__ = ["DateReading", "find_dates", "read_dates"]

_Problem = tuple[ProblemKind, Severity, str]

_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MIN_YEAR, _MAX_YEAR = 1900, 2199  # explicit years outside this are typos, not plans
_TOPIC_STRIP = " \t\r\n-‐‒–—−,;:.&+/()[]«»\"'"


@dataclass(frozen=True, slots=True)
class DateReading:
    occurrences: tuple[Occurrence, ...] = ()
    undated_reason: str | None = None  # set iff no occurrence: the text (stripped), or "empty"
    problems: tuple[tuple[ProblemKind, Severity, str], ...] = ()


@dataclass(slots=True)
class _Elem:
    """One day ("16. januar", "10.") or week number of a unit."""

    number: int  # day of month, or week number
    month: int | None = None  # None for a partial day until filled from the next full element
    year: int | None = None  # explicit year only
    weekday: int | None = None
    week: bool = False
    start: int = 0  # character span in the cell text
    end: int = 0


@dataclass(slots=True)
class _Unit:
    elems: list[_Elem]
    conns: list[Kind]  # RANGE or AND between elems[k] and elems[k + 1]
    first: int  # token indices, inclusive
    last: int
    time: Token | None = None
    status: Status = Status.PLANNED
    topic: str | None = None


@dataclass(slots=True)
class _Cell:
    text: str
    toks: list[Token]
    units: list[_Unit] = field(default_factory=list)
    problems: list[_Problem] = field(default_factory=list)


# --- parsing: tokens -> units ------------------------------------------------------------


def _kind(toks: list[Token], i: int) -> Kind | None:
    return toks[i].kind if i < len(toks) else None


def _day_number(tok: Token) -> int | None:
    # A day is written with one or two digits; "2024" or "007" is not a day.
    if tok.kind is Kind.NUM and len(tok.text) <= 2 and isinstance(tok.value, int):
        return tok.value
    return None


def _parse_element(toks: list[Token], i: int) -> tuple[_Elem, int] | None:
    """[weekday ["den"]] (day [","] [month [year]] | numeric-date) starting at token i."""
    start, weekday = i, None
    if _kind(toks, i) is Kind.WEEKDAY:
        weekday = toks[i].value
        i += 1
        if i < len(toks) and toks[i].text.lower() == "den":  # "tirsdag den 16. januar"
            i += 1
    if i >= len(toks):
        return None
    tok = toks[i]
    assert weekday is None or isinstance(weekday, int)
    if tok.kind is Kind.NUMDATE:
        d, m, y = cast(tuple[int, int, int | None], tok.value)
        return _weekday_after(toks, _Elem(d, m, y, weekday), start, i + 1)
    day = _day_number(tok)
    if day is None:
        return None
    i += 1
    # "21, februar": a comma between day and month is a typo for the ordinal dot.
    if _kind(toks, i) is Kind.AND and toks[i].text == "," and _kind(toks, i + 1) is Kind.MONTH:
        i += 1
    if _kind(toks, i) is not Kind.MONTH:
        return _Elem(day, None, None, weekday, start=toks[start].start, end=toks[i - 1].end), i
    month = toks[i].value
    assert isinstance(month, int)
    i += 1
    year = None
    nxt = toks[i] if i < len(toks) else None
    if nxt is not None and nxt.kind is Kind.NUM and len(nxt.text) == 4:  # "1. februar 2024"
        year = nxt.value if isinstance(nxt.value, int) else None
        i += 1
    return _weekday_after(toks, _Elem(day, month, year, weekday), start, i)


def _weekday_after(toks: list[Token], elem: _Elem, first: int, i: int) -> tuple[_Elem, int]:
    """Finish a full element at token i, taking a weekday written after it.

    "16. januar (tirsdag)" or "16.01 tirsdag"; but not when the weekday starts the next
    element ("16. januar tirsdag 17. januar").
    """
    j = i + (_kind(toks, i) is Kind.OTHER and toks[i].text == "(")
    if elem.weekday is None and _kind(toks, j) is Kind.WEEKDAY:
        k = j + 1
        if _kind(toks, k) is Kind.OTHER and toks[k].text == ")":
            k += 1
        elif j > i:
            k = -1  # "(" without ")"
        if k > 0 and _kind(toks, k) not in (Kind.NUM, Kind.NUMDATE):
            elem.weekday = cast(int, toks[j].value)
            i = k
    elem.start, elem.end = toks[first].start, toks[i - 1].end
    return elem, i


def _parse_chain(toks: list[Token], i: int) -> tuple[list[_Elem], list[Kind], int] | None:
    """(partial CONN)* full [RANGE chain]; None unless it ends in a full element."""
    elems: list[_Elem] = []
    conns: list[Kind] = []
    done: tuple[int, int, int] | None = None  # (len(elems), len(conns), i) after the last full
    while True:
        parsed = _parse_element(toks, i)
        if parsed is None:
            break
        elem, i = parsed
        elems.append(elem)
        if elem.month is not None:
            done = (len(elems), len(conns), i)
            # "26. februar-1. mars": a range word after a full date may start its other end.
            if _kind(toks, i) is not Kind.RANGE:
                break
        elif _kind(toks, i) not in (Kind.RANGE, Kind.AND):
            break  # a partial day must be followed by a connector and another element
        conns.append(toks[i].kind)
        i += 1
    if done is None:
        return None
    return elems[: done[0]], conns[: done[1]], done[2]


def _parse_weeks(toks: list[Token], i: int) -> tuple[list[_Elem], list[Kind], int] | None:
    """WEEK ["nr"] n ((RANGE|AND) [WEEK] n)* starting at the WEEK token i."""

    def number(j: int) -> tuple[_Elem, int] | None:
        if j < len(toks) and toks[j].text.lower().rstrip(".") == "nr":  # "uke nr. 43"
            j += 1
        n = _day_number(toks[j]) if j < len(toks) else None
        # "uke 43 og 16. januar": a number followed by a month is a day, not a week.
        if n is None or _kind(toks, j + 1) is Kind.MONTH:
            return None
        return _Elem(n, week=True, start=toks[j].start, end=toks[j].end), j + 1

    first = number(i + 1)
    if first is None:
        return None
    elems, conns, i = [first[0]], [], first[1]
    while _kind(toks, i) in (Kind.RANGE, Kind.AND):
        j = i + 1 + (_kind(toks, i + 1) is Kind.WEEK)
        nxt = number(j)
        if nxt is None:
            break
        conns.append(toks[i].kind)
        elems.append(nxt[0])
        i = nxt[1]
    return elems, conns, i


def _parse_units(toks: list[Token]) -> list[_Unit]:
    units: list[_Unit] = []
    i = 0
    while i < len(toks):
        j = i + 1 if toks[i].kind is Kind.FROM else i
        parser = _parse_weeks if _kind(toks, j) is Kind.WEEK else _parse_chain
        parsed = parser(toks, j)
        if parsed is None:
            i += 1
            continue
        elems, conns, end = parsed
        units.append(_Unit(elems, conns, i, end - 1))
        i = end
    return units


# --- attaching times, status words and topics to units ----------------------------------


def _attach(cell: _Cell) -> None:
    toks, units = cell.toks, cell.units
    owner_at: dict[int, _Unit] = {}  # token index -> the unit covering it
    for u in units:
        for k in range(u.first, u.last + 1):
            owner_at[k] = u
    whole_done = False
    whole_tentative = False
    for p, tok in enumerate(toks):
        before = [u for u in units if u.last < p]
        prev = before[-1] if before else None
        if tok.kind is Kind.TIME:
            after = [u for u in units if u.first > p]
            target = prev if prev is not None else (after[0] if after else None)
            if target is None:
                cell.problems.append(
                    (
                        ProblemKind.UNPARSED_DATE,
                        Severity.WARNING,
                        f"{tok.text!r}: a time without a date",
                    )
                )
            elif target.time is None:
                target.time = tok
            else:
                cell.problems.append(
                    (
                        ProblemKind.UNPARSED_DATE,
                        Severity.WARNING,
                        f"{tok.text!r}: second time for one date ignored",
                    )
                )
        elif tok.kind is Kind.DONE:
            if prev is None:
                whole_done = True
            else:
                prev.status = Status.DONE
        elif tok.kind is Kind.QMARK:
            k = p - 1
            while k >= 0 and (toks[k].kind is Kind.TIME or toks[k].text in "()"):
                k -= 1
            unit = owner_at.get(k)
            if unit is not None and unit.last == k:
                if unit.status is Status.PLANNED:
                    unit.status = Status.TENTATIVE
            elif all(t.text in "()" for t in toks[p + 1 :]):
                whole_tentative = True
    for u in units:
        if whole_done:
            u.status = Status.DONE
        elif whole_tentative and u.status is Status.PLANNED:
            u.status = Status.TENTATIVE
    for n, u in enumerate(units):
        stop = units[n + 1].first if n + 1 < len(units) else len(toks)
        u.topic = _topic(cell.text, toks[u.last + 1 : stop])


def _topic(text: str, between: list[Token]) -> str | None:
    """The text between a unit and the next one, without times, status words and separators."""
    dropped = (Kind.TIME, Kind.DONE, Kind.QMARK)
    kept = [t for t in between if t.kind not in dropped]
    if not any(t.kind not in (Kind.AND, Kind.RANGE, Kind.OTHER, Kind.DOT) for t in kept):
        return None
    lo, hi = kept[0].start, kept[-1].end
    chars = list(text[lo:hi])
    for t in between:
        if t.kind in dropped and lo <= t.start < hi:
            chars[t.start - lo : t.end - lo] = " " * (t.end - t.start)
    words = "".join(chars).split()
    # Connector words at the edges belong to the grammar, not to the topic.
    while words and words[0].strip(_TOPIC_STRIP).lower() in ("", "og", "til", "fra", "frå"):
        words.pop(0)
    while words and words[-1].strip(_TOPIC_STRIP).lower() in ("", "og", "til", "fra", "frå"):
        words.pop()
    topic = " ".join(words).strip(_TOPIC_STRIP)
    return topic or None


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


def _fill_partials(unit: _Unit) -> None:
    """Give partial days the month and year of the next element ("10.- 11. april")."""
    elems = unit.elems
    for k in range(len(elems) - 2, -1, -1):
        e, nxt = elems[k], elems[k + 1]
        if e.week or e.month is not None or nxt.month is None:
            continue
        e.month, e.year = nxt.month, nxt.year
        if unit.conns[k] is Kind.RANGE and e.number > nxt.number:
            # "30.-2. mars": the first day is in the month before.
            if e.month == 1:
                e.month = 12
                e.year = None if e.year is None else e.year - 1
            else:
                e.month -= 1


def _month_name(month: int | None) -> str:
    return _MONTH_NAMES[month - 1] if month and 1 <= month <= 12 else f"month {month}"


def _resolve(e: _Elem, state: _YearState, cell: _Cell, written: str) -> date | None:
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
    first: date, last: date, tok: Token, zone: ZoneInfo, cell: _Cell
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


def _unit_occurrences(u: _Unit, state: _YearState, cell: _Cell, zone: ZoneInfo) -> list[Occurrence]:
    _fill_partials(u)
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
            if last < first:
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


def _read(text: str, year: int, tz: str) -> tuple[list[Occurrence], list[_Problem]]:
    zone = _zone(tz)
    toks = [t for t in tokenize(text) if t.kind is not Kind.DOT]  # ordinal dots carry nothing
    cell = _Cell(text, toks)
    cell.units = _parse_units(toks)
    _attach(cell)
    state = _YearState(year)
    occurrences = [o for u in cell.units for o in _unit_occurrences(u, state, cell, zone)]
    return occurrences, cell.problems


def read_dates(text: str, year: int, *, tz: str = TIMEZONE) -> DateReading:
    """Read a date cell ("16.januar OK 20.februar OK 19.mars", "10.- 11. april", "Uke 43", "?")."""
    occurrences, problems = _read(text, year, tz)
    reason = None if occurrences else (text.strip() or "empty")
    return DateReading(tuple(occurrences), reason, tuple(problems))


def find_dates(text: str, year: int, *, tz: str = TIMEZONE) -> tuple[Occurrence, ...]:
    """Lenient scan of prose (note columns) for date mentions, used only as hints for the admin.

    Same grammar as `read_dates`; problems are dropped and topics are not kept (prose after a
    date is rarely its topic). "23. og 24.mai" gives two one-day occurrences.
    """
    occurrences, _ = _read(text, year, tz)
    return tuple(replace(o, topic=None) for o in occurrences)
