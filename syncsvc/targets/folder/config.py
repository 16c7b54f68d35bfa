"""A local vdir calendar."""

from __future__ import annotations

from typing import Literal

from syncsvc.targets.config import CalendarBase


class FolderCalendar(CalendarBase):
    target: Literal["folder"]
    path: str  # a vdir: one .ics per event; relative to data_dir
