"""What a target may remember between runs (sync token, last-seen events), behind a small
protocol so targets stay testable with `MemoryState` and the daemon can persist it (SQLite)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from syncsvc.domain.changes import Change, RunReport
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


@runtime_checkable
class RunJournal(Protocol):
    """Run history as a run goes, so a run that never finishes (killed) is still on record
    with what it had applied. The engine calls these in order; `finish` may come alone."""

    def begin(self, report: RunReport) -> None:
        """The run has started (again, with more detail: idempotent)."""
        ...

    def planned(self, report: RunReport) -> None:
        """Every calendar's changes are known; none is written yet."""
        ...

    def settled(self, run_id: str, calendar: str, change: Change) -> None:
        """One change got its final status."""
        ...

    def finish(self, report: RunReport) -> None:
        """The run ended (ok or not): store its report."""
        ...
