"""The activity list: month headings, then one line per activity.

    Januar
    9. januar: Samarbeidsmøte i Nord-Troms?
    Februar
    21, februar: Morsmålsdagen
    April
    10. - 11. april: Biblioteksjefmøte

A trailing "?" on the title marks the activity tentative. A date without a month takes the
month of its heading ("9.: …" under "Januar"); a heading with a year ("Januar 2025") gives
its year to dates that have none. Lines that are not activities add to the notes of the
activity above. The list becomes a three-column table (activity, date, notes) so it follows
the same rules as the plan table (semester headings, contact list, people, keys, problems).
"""

from __future__ import annotations

import re

from syncsvc.domain.norwegian import MONTH_NAMES
from syncsvc.plan.document import Document, Para, Row

_MONTH = "|".join(MONTH_NAMES)
_HEADING = re.compile(rf"^\s*(?P<month>{_MONTH})(?:\s+(?P<year>(?:19|20)\d\d))?\s*:?\s*$", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•–]\s+)?")
# The date part ends at the first colon that is not inside a clock time ("kl. 10:00").
_COLON = re.compile(r"(?<!\d):|:(?!\d)")
_DATEISH = re.compile(rf"^\s*(?:\d|uke\b|veke\b|(?:{_MONTH})\b)", re.I)
_HAS_MONTH = re.compile(rf"\b(?:{_MONTH})\b|\d{{1,2}}\.\d{{1,2}}", re.I)
_HAS_YEAR = re.compile(r"\b(?:19|20)\d\d\b|\d{1,2}\.\d{1,2}\.\d{2}")
_HEADER = Row.of("AKTIVITET", "DATO", "NOTATER")


def _split(line: str) -> tuple[str, str] | None:
    body = _BULLET.sub("", line, count=1)
    m = _COLON.search(body)
    if not m or m.start() > 60:
        return None
    date, title = body[: m.start()].strip(), body[m.end() :].strip()
    if not date or not title or not _DATEISH.match(date):
        return None
    return date, title


_DAYS = re.compile(r"^\s*\d{1,2}\s*\.?(?:\s*(?:-|–|og|til)\s*\d{1,2}\s*\.?)?", re.I)


def _complete(date: str, month: str | None, year: str | None) -> str:
    """Add the heading's month and year after the day(s): '3. kl. 10' -> '3. mai 2025 kl. 10'."""
    year = year if year and not _HAS_YEAR.search(date) else None
    named = _HAS_MONTH.search(date)
    if named:
        cut, add = named.end(), year
    elif month:
        days = _DAYS.match(date)
        cut, add = (days.end() if days else len(date)), f"{month} {year or ''}".strip()
    else:
        return date
    if not add:
        return date
    return f"{date[:cut].rstrip()} {add} {date[cut:].lstrip()}".strip()


def read_activity_list(text: str, name: str) -> Document:
    blocks: list[Row | Para] = []
    month: str | None = None
    year: str | None = None
    started = False
    for n, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        heading = _HEADING.match(line)
        if heading:
            month, year = heading["month"].lower(), heading["year"]
            continue
        split = _split(line)
        if split is None:
            if started and raw[:1].isspace():
                blocks.append(Row.of("", "", line.strip(), line=n))  # notes of the item above
            else:
                blocks.append(Para(line, n))
            continue
        date, title = split
        date = _complete(date, month, year)
        tentative = title.endswith("?")
        if not started:
            blocks.append(Row(_HEADER.cells, n))
            started = True
        blocks.append(
            Row.of(title.rstrip("?").strip() or title, date, "", line=n, tentative=tentative)
        )
    return Document(name, tuple(blocks), "activity-list")
