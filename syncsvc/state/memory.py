"""TargetState in memory (tests, one-shot runs), a read-only view (dry runs), and a run
journal that keeps nothing."""

from __future__ import annotations

from collections.abc import Mapping

from syncsvc.domain.changes import Change, RunReport
from syncsvc.domain.events import ObservedEvent
from syncsvc.state.base import TargetState


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


class NullJournal:
    """RunJournal for runs without a history (tests, states that keep none)."""

    def begin(self, report: RunReport) -> None:
        return None

    def planned(self, report: RunReport) -> None:
        return None

    def settled(self, run_id: str, calendar: str, change: Change) -> None:
        return None

    def finish(self, report: RunReport) -> None:
        return None
