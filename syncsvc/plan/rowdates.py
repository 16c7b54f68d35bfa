"""The dates of one table row: its date, week, month and time cells read together. Pure.

* A week column ("Uke 34", "37-38") gives the dates when no day is written; a week written
  with its days ("veke 8, måndag 19.-fredag 23. februar") is the days.
* A month column ("August") gives day-only dates ("15.") their month.
* A time column ("18.00 – 20.00", "19.30", "ca. 16:00") gives every date of the row its time,
  with or without "kl".
* Status words anywhere in the date or time ("AVLYST", "avlyses", "ca.", "foreløpig",
  "bruker å være") make the dates cancelled or tentative; "UTSATT" and the like are reported.
* A day followed by a word that is almost a month ("17. septmber") is an error, not a silent
  loss of the date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache

from syncsvc.domain.norwegian import MONTH_NAMES
from syncsvc.domain.plan import Occurrence, ProblemKind, Severity, Status
from syncsvc.plan.dates import grammar as date_grammar
from syncsvc.plan.lines import complete_days
from syncsvc.plan.status import combine, take_status
from syncsvc.plan.years import month_of_header

ProblemTuple = tuple[ProblemKind, Severity, str]

_WEEK_WORD = re.compile(r"^\s*(?:uke|uka|veke|veka|week|u\.)", re.IGNORECASE)
_BARE_WEEKS = re.compile(r"^\s*\d{1,2}(?:\s*(?:[-–—+&,/]|og|til)\s*\d{1,2})*\s*$")
_KL = re.compile(r"^\s*(?:kl|klokka|klokken)\b", re.IGNORECASE)
_DAY_WORD = re.compile(r"(?<![\d.])(\d{1,2})\s*\.?\s*(?P<word>[^\W\d_]{4,})", re.UNICODE)
_KNOWN_WORDS = frozenset(
    {"mars", "juni", "juli", "sept", "febr", "klasse", "trinn", "trinnet", "time", "timer",
     "gang", "gangen", "dag", "dager", "dagar", "dagen", "året", "uke", "veke", "plass",
     "etasje", "runde", "omgang", "mai"}
)  # fmt: skip


def week_text(week: str) -> str:
    """A week cell as the grammar reads it: '36' -> 'uke 36', '19 + 21' -> 'uke 19 + 21'."""
    if _BARE_WEEKS.match(week):
        return f"uke {week.strip()}"
    return week


def time_text(time: str) -> str:
    """A time cell as the grammar reads it: '18.00 – 20.00' -> 'kl. 18.00 – 20.00'."""
    return time if _KL.match(time) else f"kl. {time.strip()}"


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, small strings only (month names)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def misspelt_months(text: str) -> list[ProblemTuple]:
    """'17. septmber' -> an error naming the word and the month it is probably."""
    out: list[ProblemTuple] = []
    if not any(c.isdigit() for c in text):
        return out
    for m in _DAY_WORD.finditer(text):
        word = m["word"].lower()
        if word in MONTH_NAMES or word in _KNOWN_WORDS:
            continue
        best = min(MONTH_NAMES, key=lambda name: _distance(word, name))
        limit = 1 if len(best) <= 5 else 2
        if _distance(word, best) <= limit or (len(word) >= 5 and best.startswith(word[:5])):
            out.append(
                (
                    ProblemKind.UNPARSED_DATE,
                    Severity.ERROR,
                    f"{m[0]!r}: {m['word']!r} is not a month (is it {best}?); not scheduled",
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class RowDates:
    occurrences: tuple[Occurrence, ...]
    undated_reason: str | None
    problems: tuple[ProblemTuple, ...]


def _days_win(occurrences: tuple[Occurrence, ...]) -> tuple[Occurrence, ...]:
    """Drop a week when days inside it are written too ("veke 8, 19.-23. februar")."""
    weeks = [o for o in occurrences if _WEEK_WORD.match(o.text)]
    if not weeks or len(weeks) == len(occurrences):
        return occurrences
    days = [o for o in occurrences if o not in weeks]
    covered = [w for w in weeks if any(w.first_day <= d.first_day < _end_day(w) for d in days)]
    return tuple(o for o in occurrences if o not in covered)


def _end_day(o: Occurrence) -> date:
    return o.end.date() if isinstance(o.end, datetime) else o.end


def _timed(o: Occurrence, time: str, year: int, tz: str) -> Occurrence:
    if not o.all_day:
        return o
    last = _end_day(o).toordinal() - 1
    first = o.first_day
    day = f"{first.day}.{first.month}.{first.year}"
    if last != first.toordinal():
        end = date.fromordinal(last)
        day += f"-{end.day}.{end.month}.{end.year}"
    reading = date_grammar.read_dates(f"{day} {time}", year, tz=tz)
    if len(reading.occurrences) != 1 or reading.occurrences[0].all_day:
        return o
    timed = reading.occurrences[0]
    return replace(o, start=timed.start, end=timed.end)


def read_row_dates(
    dates: str,
    year: int,
    *,
    week: str = "",
    month: str = "",
    time: str = "",
    status: Status | None = None,
    tz: str,
) -> RowDates:
    """The occurrences of one row's date text with its week, month and time cells."""
    if len(dates) + len(week) + len(month) + len(time) <= _CACHED_TEXT_MAX:
        return _row_dates_cached(dates, year, week, month, time, status, tz)
    return _row_dates(dates, year, week, month, time, status, tz)


# Rows of a big table repeat their date, week and time cells; a reading is immutable, so the
# same cells read from the cache (long texts are read each time rather than held).
_CACHED_TEXT_MAX = 400


@lru_cache(maxsize=8192)
def _row_dates_cached(
    dates: str, year: int, week: str, month: str, time: str, status: Status | None, tz: str
) -> RowDates:
    return _row_dates(dates, year, week, month, time, status, tz)


def _row_dates(
    dates: str, year: int, week: str, month: str, time: str, status: Status | None, tz: str
) -> RowDates:
    words = take_status(dates)
    text = words.text
    timed = take_status(time)
    problems: list[ProblemTuple] = [
        (
            ProblemKind.UNKNOWN_STATUS,
            Severity.WARNING,
            f"{w!r}: not a status we know; read as planned",
        )
        for w in words.unknown + timed.unknown
    ]
    if not text.strip() and week.strip():
        text = week_text(week)
    if month.strip():
        number = month_of_header(month)
        if number is not None:
            text = "\n".join(complete_days(line.strip(), number) for line in text.split("\n"))
    reading = date_grammar.read_dates(text, year, tz=tz)
    occurrences = _days_win(reading.occurrences)
    if timed.text.strip() and occurrences:
        clock = time_text(timed.text)
        occurrences = tuple(_timed(o, clock, year, tz) for o in occurrences)
    given = combine(status, words.status, timed.status)
    if given is Status.CANCELLED:
        occurrences = tuple(replace(o, status=Status.CANCELLED) for o in occurrences)
    elif given is Status.TENTATIVE:
        occurrences = tuple(
            replace(o, status=Status.TENTATIVE) if o.status is Status.PLANNED else o
            for o in occurrences
        )
    problems.extend(reading.problems)
    problems.extend(misspelt_months(text))
    reason = None if occurrences else (dates.strip() or week.strip() or "empty")
    return RowDates(occurrences, reason, tuple(problems))
