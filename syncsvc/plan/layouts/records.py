"""Events written as labelled lines, one field a line (event pages, newsletters). Pure.

    Sted: Austmarka - Austbo
    Dato: 25. september
    Tid: 12:00 - 16:00
    Innhold: Godt måltid og sosialt samvær
    Påmelding: Jarl på telefon

Consecutive "Label: value" lines with a date label (Dato, Når, Tidspunkt) are one event: they
become one list line, date and time first, then the title (Innhold/Hva/Tema/Arrangement, else
the place), then the other fields as notes. Blocks without a date label are left as they are.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from syncsvc.plan.columns import Column, column_of
from syncsvc.plan.rowdates import time_text

if TYPE_CHECKING:
    from syncsvc.plan.layouts.lists import Line

_LABELLED = re.compile(
    r"^\s*(?:[•·*-]\s*)?(?P<label>[^\W\d_][\w /.-]{0,24}?)\s*:\s*(?P<value>\S.*)$"
)
_FIELDS = {Column.DATES, Column.TIME, Column.TITLE, Column.PLACE, Column.RESPONSIBLE, Column.NOTES}


def _labelled(text: str) -> tuple[str, str, Column | None] | None:
    m = _LABELLED.match(text)
    if m is None:
        return None
    return m["label"].strip(), m["value"].strip(), column_of(m["label"])


def merge_records(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    block: list[tuple[Line, str, str, Column | None]] = []

    def flush() -> None:
        fields = {col: value for _, _, value, col in block if col is not None}
        if Column.DATES not in fields:
            out.extend(line for line, _, _, _ in block)
        else:
            when = fields[Column.DATES]
            if Column.TIME in fields:
                when += " " + time_text(fields[Column.TIME])
            title = fields.get(Column.TITLE) or fields.get(Column.PLACE) or ""
            used = {
                Column.DATES,
                Column.TIME,
                Column.TITLE if Column.TITLE in fields else Column.PLACE,
            }
            notes = [f"{label}: {value}" for _, label, value, col in block if col not in used]
            text = " ".join(p for p in (when, title.rstrip(".")) if p)
            if notes:
                text += ". " + ". ".join(notes)
            out.append(replace(block[0][0], text=text))
        block.clear()

    for line in lines:
        found = _labelled(line.text)
        known = found is not None and found[2] in _FIELDS
        repeated = found is not None and any(
            found[2] is not None and found[2] == b[3] for b in block
        )
        if found is not None and (known or block) and not repeated:
            block.append((line, *found))
            continue
        if block:
            flush()
        if found is not None and known:
            block.append((line, *found))
        else:
            out.append(line)
    if block:
        flush()
    return out
