"""Spreadsheet cell values as the text a person reads in them. Pure."""

from __future__ import annotations

from datetime import date, datetime, time

from syncsvc.plan.document import Block, Cell, Para, Row


def cell_text(value: object) -> str:
    """'2023-09-03 00:00' -> '03.09.2023', 18:30 -> '18:30', 36.0 -> '36', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        day = f"{value.day:02d}.{value.month:02d}.{value.year}"
        return day if value.time() == time(0, 0) else f"{day} kl. {value:%H:%M}"
    if isinstance(value, date):
        return f"{value.day:02d}.{value.month:02d}.{value.year}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def block_of(texts: list[str], line: int) -> Block | None:
    """A sheet row: a paragraph when only its first cell is filled, else a table row."""
    while texts and not texts[-1].strip():
        texts.pop()
    if not texts:
        return None
    if len(texts) == 1:
        return Para(texts[0], line)
    return Row(tuple(Cell(t) for t in texts), line)
