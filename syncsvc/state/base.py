"""What a target may remember between runs (sync token, last-seen events), behind a small
protocol so targets stay testable with `MemoryState` and the daemon can persist it (SQLite)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from syncsvc.domain.events import ObservedEvent


class TargetState(Protocol):
    """Per-calendar memory. Keys are calendar names."""

    def get_token(self, calendar: str) -> str | None: ...

    def get_events(self, calendar: str) -> dict[str, ObservedEvent]:
        """The owned events as last observed (uid -> event); empty if never synced."""
        ...

    def save(self, calendar: str, token: str | None, events: Mapping[str, ObservedEvent]) -> None:
        """Replace the calendar's memory (called after a successful observe or apply)."""
        ...
