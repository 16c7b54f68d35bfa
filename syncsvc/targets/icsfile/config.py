"""One .ics file holding every event."""

from __future__ import annotations

from typing import Literal

from syncsvc.targets.config import CalendarBase


class IcsFileCalendar(CalendarBase):
    target: Literal["ics-file"]
    path: str  # one .ics file holding every event; relative to data_dir
