"""Tables whose headers say nothing we know, or that have no header row: roles from content.

Pure. For each table (a run of rows) without a header the plan table reader knows, the role of
each column is read from its cells (the first `SAMPLE` rows):

* dates: most filled cells hold a date ("Tirsdag 9. januar", "03.09.2023", "Uke 5");
* month: most cells are month names ("August"), giving day-only dates their month;
* time: most cells are times ("18.00 – 20.00");
* title: of the other text columns, the one with the most different and longest texts
  (a column repeating "Grendehuset" is a place, not a title);
* a column of numbers only (school days, measures) is left alone.

A header row of unknown words ("Måned | Skoledager | Merknader") names the columns for
messages. When no column but the date column holds text, each line of a date cell is an
activity of its own ("15. august: Første skoledag"), read as a list line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from syncsvc.plan.columns import Column, Header, detect_header, is_separator, semester_of
from syncsvc.plan.document import Block, Cell, Document, Row, clean
from syncsvc.plan.lines import read_line
from syncsvc.plan.status import take_status
from syncsvc.plan.years import month_of_header

SAMPLE = 40  # rows looked at per table to work out its columns
_TIME_ONLY = re.compile(
    r"^(?:ca\.?\s*)?(?:kl\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*[-–—]\s*\d{1,2}[.:]\d{2})?$", re.I
)
_NUMBERS = re.compile(r"^[\d\s.,;/+&-]*$")
HEADER = ("AKTIVITET", "DATO", "NOTATER")


@dataclass(frozen=True, slots=True)
class Roles:
    roles: tuple[str | None, ...]  # Column values by position
    combined: bool  # the date column also holds the titles


def _column(rows: list[list[str]], i: int) -> list[str]:
    return [r[i] for r in rows if i < len(r) and r[i]]


def _share(cells: list[str], test: Callable[[str], object]) -> float:
    if not cells:
        return 0.0
    return sum(1 for c in cells if test(c)) / len(cells)


def _is_dated(cell: str) -> bool:
    return read_line(take_status(cell).text) is not None


def infer_roles(rows: list[list[str]]) -> Roles | None:
    """The roles of the columns of `rows` (data rows, no header), or None without dates."""
    width = max((len(r) for r in rows), default=0)
    columns = [_column(rows, i) for i in range(width)]
    roles: list[str | None] = [None] * width
    month = [i for i, c in enumerate(columns) if c and _share(c, month_of_header) >= 0.8]
    for i in month[:1]:
        roles[i] = Column.MONTH.value
    time = [i for i, c in enumerate(columns) if c and _share(c, _TIME_ONLY.match) >= 0.7]
    for i in time[:1]:
        roles[i] = Column.TIME.value
    scores = [
        (_share(c, _is_dated), len(c), i)
        for i, c in enumerate(columns)
        if roles[i] is None and len(c) >= 2
    ]
    dated = [s for s in scores if s[0] >= 0.5]
    if not dated:
        return None
    _, _, d = max(dated)
    roles[d] = Column.DATES.value
    texts = [
        (len(set(c)) / len(c) * sum(map(len, c)) / len(c), i)
        for i, c in enumerate(columns)
        if roles[i] is None and c and _share(c, _NUMBERS.match) < 0.5
    ]
    if texts:
        roles[max(texts)[1]] = Column.TITLE.value
        for _, i in texts:
            if roles[i] is None:
                roles[i] = Column.NOTES.value
        return Roles(tuple(roles), combined=False)
    roles[d] = Column.DATES.value
    return Roles(tuple(roles), combined=True)


def _header_like(cells: list[str]) -> bool:
    filled = [c for c in cells if c]
    return (
        len(filled) >= 2
        and not any(_is_dated(c) for c in filled)
        and all(len(c) <= 40 for c in filled)
    )


def _runs(blocks: tuple[Block, ...]) -> list[tuple[int, int]]:
    """(start, end) of each run of table rows with two or more cells."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for n, b in enumerate(blocks):
        table_row = isinstance(b, Row) and len(b.cells) >= 2
        blank = False
        if table_row and start is None:
            start = n
        elif not table_row and not blank and start is not None:
            out.append((start, n))
            start = None
    if start is not None:
        out.append((start, len(blocks)))
    return out


def _explode(rows: list[Row], roles: Roles) -> list[Block]:
    """Each line of the date cells is an activity: '15. august: Første skoledag'."""
    d = roles.roles.index(Column.DATES.value)
    m = roles.roles.index(Column.MONTH.value) if Column.MONTH.value in roles.roles else None
    out: list[Block] = [Row.of(*HEADER, line=rows[0].line if rows else None)]
    for row in rows:
        cells = [c.text for c in row.cells]
        month = month_of_header(clean(cells[m])) if m is not None and m < len(cells) else None
        for text in (cells[d] if d < len(cells) else "").split("\n"):
            text = clean(text)
            dated = read_line(text, month=month) if text else None
            if dated is None:
                if text:
                    out.append(Row.of(text, text, "", line=row.line))
                continue
            out.append(
                Row.of(
                    dated.title or text, dated.date_text, dated.notes, line=row.line,
                    status=dated.status,
                )
            )  # fmt: skip
    return out


def _known(cells: list[str], line: int | None) -> Header | None:
    header = detect_header(cells, line)
    if header is None or not {Column.DATES, Column.WEEK} & header.index.keys():
        return None
    return header


def read_tables(doc: Document) -> Document:
    """The document with a roles header before each table that has no header we know."""
    blocks = list(doc.blocks)
    out: list[Block] = []
    pos = 0
    active_width: int | None = None
    for start, end in _runs(doc.blocks):
        out.extend(blocks[pos:start])
        pos = end
        run = [b for b in blocks[start:end] if isinstance(b, Row)]
        width = max(len(r.cells) for r in run)
        if active_width is not None and width <= active_width:
            out.extend(blocks[start:end])  # more rows of the table above (after a heading)
            continue
        if _has_known_header(run):
            out.extend(blocks[start:end])
            active_width = width
            continue
        # Only the rows the roles are worked out from are cleaned: big tables stay linear.
        texts = [[clean(c.text) for c in r.cells] for r in run[: SAMPLE + 1]]
        head = texts[0] if texts and _header_like(texts[0]) else None
        body = [t for t in (texts[1:] if head else texts) if not is_separator(t)]
        roles = infer_roles(body[:SAMPLE])
        if roles is None:
            out.extend(blocks[start:end])
            continue
        data = run[1:] if head else run
        if roles.combined:
            out.extend(_explode([r for r in data if not _semester_row(r)], roles))
            continue
        names = head or [""] * len(roles.roles)
        out.append(Row(tuple(Cell(n) for n in names), run[0].line, roles=roles.roles))
        out.extend(data)
        active_width = len(roles.roles)
    out.extend(blocks[pos:])
    return Document(
        doc.name, tuple(out), doc.format, doc.problems,
        title=doc.title, year=doc.year, school_year=doc.school_year,
    )  # fmt: skip


def _semester_row(row: Row) -> bool:
    filled = [c.text for c in row.cells if c.text.strip()]
    return len(filled) == 1 and semester_of(clean(filled[0])) is not None


def _has_known_header(run: list[Row]) -> bool:
    return any(_known([clean(c.text) for c in r.cells], r.line) for r in run)


def dated_table_rows(doc: Document) -> int:
    """How many rows are in tables that hold a column of dates (known header or content)."""
    count = 0
    for start, end in _runs(doc.blocks):
        run = [b for b in doc.blocks[start:end] if isinstance(b, Row)]
        if _has_known_header(run) or infer_roles(
            [[clean(c.text) for c in r.cells] for r in run[:SAMPLE]]
        ):
            count += len(run)
    return count
