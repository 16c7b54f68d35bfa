"""What a target may remember between runs (sync token, last-seen events), behind a small
protocol so targets stay testable with `MemoryState` and the daemon can persist it (SQLite)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from syncsvc.core.events import ObservedEvent


class TargetState(Protocol):
    """Per-calendar memory. Keys are calendar names."""

    def get_token(self, calendar: str) -> str | None: ...

    def get_events(self, calendar: str) -> dict[str, ObservedEvent]:
        """The owned events as last observed (uid -> event); empty if never synced."""
        ...

    def save(self, calendar: str, token: str | None, events: Mapping[str, ObservedEvent]) -> None:
        """Replace the calendar's memory (called after a successful observe or apply)."""
        ...


class MemoryState:
    """TargetState in memory: tests and one-shot runs without a state store."""

    def __init__(self) -> None:
        self._tokens: dict[str, str | None] = {}
        self._events: dict[str, dict[str, ObservedEvent]] = {}

    def get_token(self, calendar: str) -> str | None:
        return self._tokens.get(calendar)

    def get_events(self, calendar: str) -> dict[str, ObservedEvent]:
        return dict(self._events.get(calendar, {}))

    def save(self, calendar: str, token: str | None, events: Mapping[str, ObservedEvent]) -> None:
        self._tokens[calendar] = token
        self._events[calendar] = dict(events)


class ReadOnlyState:
    """A view of another TargetState that ignores saves: a dry run must leave no trace,
    not even an advanced sync token (the next real run must still see what changed)."""

    def __init__(self, inner: TargetState) -> None:
        self._inner = inner

    def get_token(self, calendar: str) -> str | None:
        return self._inner.get_token(calendar)

    def get_events(self, calendar: str) -> dict[str, ObservedEvent]:
        return self._inner.get_events(calendar)

    def save(self, calendar: str, token: str | None, events: Mapping[str, ObservedEvent]) -> None:
        return None
