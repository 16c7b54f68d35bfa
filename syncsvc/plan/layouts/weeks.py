"""The week layout: a month plan with one row per week and one column per weekday.

    Veke  Måndag              Tysdag      ...  Fredag
    36    4.                  5.               8.
          Turdag til Storemyra  Forming         Avdelingsvis leik

Pure. A header row with four or more weekday names starts the layout. Each cell's first line
may be its day number; the next line is the activity, and the lines after it its notes (a
cell with only its number has no activity). The week column ("36", "Uke 36") and the weekday
give the date; without a week column, the day number and the month of the title or a month
heading do. The date is written out with its weekday ("Måndag 4. september 2023"), so the date
grammar checks that the day number fits the week.
"""

from __future__ import annotations

import re
from datetime import date

from syncsvc.domain.norwegian import MONTH_NAMES, WEEKDAY_NAMES
from syncsvc.domain.plan import Status
from syncsvc.plan.dates.lexer import WEEKDAYS
from syncsvc.plan.document import Block, Document, Para, Row, clean
from syncsvc.plan.lines import DatedLine, read_line
from syncsvc.plan.status import take_status
from syncsvc.plan.years import in_school_year, month_heading, school_year_of, year_of_text

MIN_WEEKDAYS = 4
HEADER = ("AKTIVITET", "DATO", "NOTATER")
_DAY = re.compile(r"^\s*(\d{1,2})\s*\.?\s*")
_WEEK = re.compile(r"^\s*(?:uke|uka|veke|veka|u\.?)?\s*(\d{1,2})\s*$", re.IGNORECASE)
_MONTH_WORD = re.compile("|".join(MONTH_NAMES), re.IGNORECASE)


def week_columns(cells: list[str]) -> dict[int, int] | None:
    """Cell position -> weekday (0 = Monday) for a week-layout header row, else None."""
    days = {
        i: WEEKDAYS[w]
        for i, c in enumerate(cells)
        if (w := c.strip().rstrip(".").lower()) in WEEKDAYS
    }
    return days if len(days) >= MIN_WEEKDAYS and len(set(days.values())) == len(days) else None


def is_week_plan(doc: Document) -> bool:
    return any(
        isinstance(b, Row) and week_columns([clean(c.text) for c in b.cells]) for b in doc.blocks
    )


def _context(doc: Document) -> tuple[int | None, int | None, int | None]:
    """(year, month, first year of a school year) from the paragraphs before the weeks."""
    year = month = school = None
    for b in doc.blocks:
        if isinstance(b, Row):
            break
        text = clean(b.text)
        school = school or school_year_of(text)
        year = year or year_of_text(text)
        heading = month_heading(text)
        found = _MONTH_WORD.search(text)
        if heading is not None:
            month = heading[0]
        elif month is None and found:
            month = MONTH_NAMES.index(found[0].lower()) + 1
    return year, month, school


def read_weeks(doc: Document) -> Document:
    year, month, school = _context(doc)
    blocks: list[Block] = []
    columns: dict[int, int] | None = None
    week_col: int | None = None
    header_done = False
    for block in doc.blocks:
        if isinstance(block, Para):
            blocks.append(block)
            heading = month_heading(clean(block.text))
            if heading is not None:
                month, year = heading[0], heading[1] or year
            continue
        cells = [c.text for c in block.cells]
        found = week_columns([clean(c) for c in cells])
        if found is not None:
            columns = found
            free = [i for i in range(len(cells)) if i not in found]
            week_col = free[0] if free else None
            continue
        if columns is None:
            if any(c.strip() for c in cells):
                blocks.append(Para("   ".join(clean(c) for c in cells if c.strip()), block.line))
            continue
        week = _week_number(cells, week_col)
        for i, weekday in sorted(columns.items()):
            if i >= len(cells) or not cells[i].strip():
                continue
            item = _cell_item(cells[i], weekday, week, year, month, school)
            if item is None:
                continue
            if not header_done:
                blocks.append(Row.of(*HEADER, line=block.line))
                header_done = True
            title, date_text, notes, status = item
            blocks.append(Row.of(title, date_text, notes, line=block.line, status=status))
    return Document(doc.name, tuple(blocks), doc.format, doc.problems, title=doc.title, year=year)


def _week_number(cells: list[str], col: int | None) -> int | None:
    if col is None or col >= len(cells):
        return None
    m = _WEEK.match(clean(cells[col]))
    return int(m[1]) if m and 1 <= int(m[1]) <= 53 else None


def _cell_item(
    text: str,
    weekday: int,
    week: int | None,
    year: int | None,
    month: int | None,
    school: int | None,
) -> tuple[str, str, str, Status | None] | None:
    lines = [clean(line) for line in text.split("\n") if clean(line)]
    if not lines:
        return None
    day_match = _DAY.match(lines[0])
    day = int(day_match[1]) if day_match else None
    if day_match:
        rest = lines[0][day_match.end() :]
        lines = ([rest] if rest else []) + lines[1:]
    if not lines:
        return None  # only the day number: nothing happens that day
    when = _date(weekday, week, day, year, month, school)
    if when is None:
        return None
    words = take_status(lines[0])
    first = words.text.strip(" :-–")
    dated: DatedLine | None = read_line(f"{when} {first}") if first else None
    title = dated.title if dated is not None and dated.title else first
    date_text = dated.date_text if dated is not None else when
    status = words.status or (dated.status if dated is not None else None)
    return title or lines[0], date_text, "\n".join(lines[1:]), status


def _date(
    weekday: int,
    week: int | None,
    day: int | None,
    year: int | None,
    month: int | None,
    school: int | None,
) -> str | None:
    name = WEEKDAY_NAMES[weekday]
    if week is not None:
        y = school if school is not None else year
        if y is None:
            return None
        if school is not None and week < 31:
            y += 1
        try:
            base = date.fromisocalendar(y, week, weekday + 1)
        except ValueError:
            return None
        d = day if day is not None else base.day
        return f"{name} {d}. {MONTH_NAMES[base.month - 1]} {base.year}"
    if day is None or month is None:
        return None
    y = in_school_year(school, month) if school is not None else year
    return f"{name} {day}. {MONTH_NAMES[month - 1]}" + (f" {y}" if y else "")
