"""The first pass over a `Document`: which rows are the plan table's items.

Header rows (found by their text, or given as roles by a layout reader), repeated headers,
separator and blank rows, continuation rows (an empty title cell) that belong to the item
above, semester and month headings, the title paragraph and the contact list. `plan.table`
then reads each raw item's cells (dates, status, people, visibility).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from syncsvc.domain.errors import PlanError, Where
from syncsvc.domain.plan import Person, Problem, ProblemKind, Severity
from syncsvc.plan.columns import (
    Column,
    Header,
    detect_header,
    is_separator,
    semester_of,
    year_of_title,
)
from syncsvc.plan.document import Cell, Document, Para, Row, clean
from syncsvc.plan.people import is_contact_heading, parse_contacts
from syncsvc.plan.years import month_heading


@dataclass
class RawItem:
    """An item while its rows are collected (main row, then continuation rows)."""

    header: Header
    semester: str | None
    semester_year: int | None
    rows: list[Row] = field(default_factory=list)
    month: str = ""  # a month heading above it ("AUGUST" in a row of its own): for "22."
    # texts() of every column, with how many rows they saw: an item's reading asks for each
    # column several times, and rows are only ever appended (by scan), which makes them stale.
    _texts: tuple[int, dict[Column, tuple[tuple[str, Row], ...]]] | None = field(
        default=None, repr=False, compare=False
    )

    def cell(self, row: Row, col: Column, *, main: bool) -> str:
        i = self.header.index.get(col)
        if i is None or i >= len(row.cells):
            return ""
        c = row.cells[i]  # already cleaned by scan
        return "" if c.spanned and not main else c.text

    def texts(self, col: Column) -> tuple[tuple[str, Row], ...]:
        """The column's non-empty cells of the item's rows (a spanned copy only in the main
        row), with their rows."""
        seen = self._texts
        if seen is None or seen[0] != len(self.rows):
            seen = self._texts = (len(self.rows), self._all_texts())
        return seen[1].get(col, ())

    def _all_texts(self) -> dict[Column, tuple[tuple[str, Row], ...]]:
        out: dict[Column, tuple[tuple[str, Row], ...]] = {}
        for col in self.header.index:
            found = []
            for n, row in enumerate(self.rows):
                t = self.cell(row, col, main=n == 0)
                if t:
                    found.append((t, row))
            out[col] = tuple(found)
        return out

    def joined(self, col: Column) -> str:
        texts = self.texts(col)
        if len(texts) == 1:
            return texts[0][0]  # most items have one row
        return "\n".join(t for t, _ in texts)


@dataclass
class Reading:
    raws: list[RawItem] = field(default_factory=list)
    title: str | None = None
    semester_years: list[int] = field(default_factory=list)
    contacts: list[Person] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seen_table: bool = False


_NAME_LINE = re.compile(r"^[A-ZÆØÅ][\w.'’-]*(?: [A-ZÆØÅ][\w.'’-]*){0,4}$")


def scan(doc: Document) -> Reading:
    """The document's blocks in order: the plan table's rows grouped into raw items, and the
    title, semester years and contact list around them. Raises `PlanError` for a plan table
    without a date column."""
    r = Reading()
    header: Header | None = None
    semester: str | None = None
    semester_year: int | None = None
    current: RawItem | None = None
    in_contacts = False
    pending_name = ""
    first_para: str | None = None
    first_heading = title_heading = False
    month = ""
    for block in doc.blocks:
        if isinstance(block, Para):
            text = clean(block.text)
            if not text:
                continue
            if in_contacts and pending_name:
                text, pending_name = f"{pending_name} {text}", ""
            if is_contact_heading(text) or (in_contacts and parse_contacts(text)):
                in_contacts = True
                r.contacts.extend(parse_contacts(text))
                current = None
                continue
            if in_contacts and _NAME_LINE.match(text):
                pending_name = text  # "Linda M. Tindholm" with the e-mail on the next line
                continue
            in_contacts = False
            current = None
            if month_heading(text) is not None:
                month = text
            sem = semester_of(text)
            if sem is not None:
                semester, semester_year = sem
                if semester_year is not None:
                    r.semester_years.append(semester_year)
                continue
            if first_para is None or (block.heading and not first_heading):
                first_para, first_heading = text, first_heading or block.heading
            # The first paragraph with a year is the title; a heading beats a paragraph.
            better = r.title is None or (block.heading and not title_heading)
            if better and not r.seen_table and year_of_title(text) is not None:
                r.title, title_heading = text, block.heading
            continue
        cells = [clean(c.text) for c in block.cells]
        pairs = tuple(zip(cells, block.cells, strict=True))
        if any(t != c.text for t, c in pairs):
            block = replace(block, cells=tuple(Cell(t, c.spanned) for t, c in pairs))
        if not any(cells) and block.roles is None:
            continue  # a blank row does not end the item above: continuation rows may follow
        if in_contacts:
            found = parse_contacts(" ".join(cells))
            if found:
                r.contacts.extend(found)
                continue
            in_contacts = False
        if is_separator(cells):
            continue
        found_header = (
            _role_header(block) if block.roles is not None else detect_header(cells, block.line)
        )
        if found_header is not None:
            if not {Column.DATES, Column.WEEK} & found_header.index.keys():
                raise PlanError(
                    "the plan table has no date column (expected a header like DATO/TID)",
                    where=Where(doc.name, block.line),
                )
            header, current = found_header, None
            r.seen_table = True
            continue
        filled = [c for c in cells if c]
        if len(filled) == 1 and cells[0] and (sem := semester_of(cells[0])) is not None:
            semester, semester_year = sem  # a semester heading inside the table
            if semester_year is not None:
                r.semester_years.append(semester_year)
            current = None
            continue
        if len(filled) == 1 and cells[0] and month_heading(cells[0]) is not None:
            month = cells[0]  # "AUGUST" across the table: day-only dates below are in it
            current = None
            continue
        if header is None:
            continue  # rows before the plan table's header (layout tables and the like)
        t = header.index[Column.TITLE]
        title_cell = block.cells[t] if t < len(block.cells) else Cell("")
        if not title_cell.text or title_cell.spanned:
            if current is not None:
                current.rows.append(block)
            else:
                r.problems.append(
                    Problem(
                        ProblemKind.OTHER,
                        Severity.WARNING,
                        "a row without a title and no item above it; ignored",
                        Where(doc.name, block.line, header.names[Column.TITLE]),
                    )
                )
            continue
        current = RawItem(header, semester, semester_year, [block], month)
        r.raws.append(current)
    if r.title is None:
        r.title = first_para
    return r


def _role_header(row: Row) -> Header | None:
    """A header row whose roles a layout reader worked out (tables without known headers)."""
    assert row.roles is not None
    index: dict[Column, int] = {}
    names: dict[Column, str] = {}
    for i, role in enumerate(row.roles):
        if role is not None and Column(role) not in index:
            index[Column(role)] = i
            text = row.cells[i].text if i < len(row.cells) else ""
            names[Column(role)] = text or Column(role).value
    if Column.TITLE not in index or not {Column.DATES, Column.WEEK} & index.keys():
        return None
    return Header(index, names, row.line)
