"""What a sync run did, per calendar: the value the engine returns and everyone else reads
(CLI summary, `--json`, state store, metrics, admin endpoint)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from syncsvc.domain.errors import ExitCode


class ChangeKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


class Outcome(StrEnum):
    OK = "ok"  # applied (or nothing to do)
    PLANNED = "planned"  # dry run: computed, nothing written
    REFUSED = "refused"  # deletion guard; nothing written
    FAILED = "failed"  # target error; see `error`


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    uid: str
    summary: str
    start: date | datetime | None
    # "new in plan", "date moved", "edited in calendar: restored", "removed from plan", ...
    reason: str
    item_key: str = ""
    applied: bool = False


@dataclass(slots=True)
class CalendarReport:
    name: str
    target: str  # "folder", "caldav", ...
    outcome: Outcome = Outcome.OK
    changes: list[Change] = field(default_factory=list)
    requests: int = 0
    restored: int = 0  # drifted owned events put back
    conflicts: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    duration_seconds: float = 0.0

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind is kind)

    @property
    def counts(self) -> dict[str, int]:
        return {k.value: self.count(k) for k in ChangeKind}


@dataclass(slots=True)
class RunReport:
    run_id: str
    started: datetime
    finished: datetime | None = None
    dry_run: bool = False
    forced: bool = False
    plan_source: str = ""
    plan_items: int = 0
    plan_undated: int = 0
    plan_problems: int = 0
    calendars: list[CalendarReport] = field(default_factory=list)
    error: str | None = None  # the run failed before any calendar (plan unreadable, config)
    notes: list[str] = field(default_factory=list)  # run-wide warnings (unmatched overrides)

    @property
    def outcome(self) -> str:
        if self.error:
            return "failed"
        outcomes = {c.outcome for c in self.calendars}
        if Outcome.FAILED in outcomes:
            return "partial" if outcomes - {Outcome.FAILED} else "failed"
        if Outcome.REFUSED in outcomes:
            return "refused"
        return "ok"

    @property
    def exit_code(self) -> ExitCode:
        return {
            "ok": ExitCode.OK,
            "partial": ExitCode.PARTIAL,
            "failed": ExitCode.TARGET,
            "refused": ExitCode.GUARD,
        }[self.outcome]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome
        for cal, raw in zip(self.calendars, data["calendars"], strict=True):
            raw["counts"] = cal.counts
        result: dict[str, Any] = _jsonable(data)
        return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value
