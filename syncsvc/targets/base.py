"""The contract every calendar target keeps. Targets are thin: no diffing, no policy.

A target lists only the events that carry our ownership marker, and writes conditionally
(create only if absent, update/delete only if unchanged since observed). Everything else
(what to change, guards, retries of conflicts) lives in the core and the sync engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from syncsvc.domain.errors import TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent


@dataclass(slots=True)
class TargetStats:
    """Counters a target keeps for the run report and metrics."""

    requests: int = 0  # HTTP requests (0 for local targets)
    retries: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. "no sync-token support: etag listing"


@runtime_checkable
class Target(Protocol):
    """One calendar. Raises `TargetError` (or `AuthError`, `ConflictError`) on failure."""

    name: str
    stats: TargetStats

    def observe(self) -> Mapping[str, ObservedEvent]:
        """Owned events by UID. Foreign events are never returned."""
        ...

    def observe_one(self, uid: str) -> ObservedEvent | None:
        """Re-read one owned event (after a conflict, or to check a create whose reply was lost)."""
        ...

    def create(self, event: DesiredEvent) -> ObservedEvent:
        """Write a new event; fails with ConflictError if the UID exists already."""
        ...

    def update(self, old: ObservedEvent, event: DesiredEvent, sequence: int) -> ObservedEvent:
        """Replace `old` if it is still as observed (etag), else ConflictError."""
        ...

    def delete(self, old: ObservedEvent) -> None:
        """Delete `old` if it is still as observed; an already-gone event counts as deleted."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class BulkTarget(Protocol):
    """Optional: a target that writes many events in few requests (Graph's `$batch`).

    Results are per UID: an ObservedEvent (or None for a delete) on success, else the error
    (ConflictError for a 412, which the engine handles like a single write's conflict).
    """

    def create_many(
        self, events: Sequence[DesiredEvent]
    ) -> dict[str, ObservedEvent | TargetError]: ...

    def delete_many(self, olds: Sequence[ObservedEvent]) -> dict[str, TargetError | None]: ...


@runtime_checkable
class ConcurrentTarget(Protocol):
    """Optional: a target whose writes to different events may run at once, up to
    `max_in_flight` (CalDAV: several conditional PUTs per calendar). It keeps its own
    bookkeeping safe across threads; each write stays conditional, so order does not matter."""

    max_in_flight: int


@runtime_checkable
class CommitTarget(Protocol):
    """Optional: a target that holds accepted writes and stores them in one go (the single
    `.ics` file). The engine calls `commit()` after the last write; when it fails, none of
    those writes were kept. `close()` of every target is bookkeeping only: a failure there
    leaves the data as written."""

    def commit(self) -> None: ...


@runtime_checkable
class CreatingTarget(Protocol):
    """A target that can make its calendar exist before (or without) any event."""

    def ensure_calendar(self) -> None: ...
