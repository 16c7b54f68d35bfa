"""Typed records of what syncsvc has done and is doing: the run history, each calendar's last
result, the stored plan issues, and the scheduler's state, as `syncsvc status`, `/admin/status`
and the admin page show them.

Each record's `to_json()` is the JSON shape `status --json` and `/admin/status` print; those
shapes are an interface admins script against, so field names and order stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from syncsvc.domain.changes import RunOutcome, Tally

UNDATED = "undated-item"  # the kind of a plan issue that is an item without a date


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run in the history, newest first in `runs()`; no per-event detail."""

    run_id: str
    started: datetime
    finished: datetime | None
    outcome: RunOutcome
    dry_run: bool
    forced: bool
    plan_source: str | None
    plan_items: int | None
    plan_undated: int | None
    plan_problems: int | None
    counts: Tally  # what the targets confirmed; a running run: so far
    requests: int
    errors: int
    error: str | None

    @property
    def duration_seconds(self) -> float | None:
        return (self.finished - self.started).total_seconds() if self.finished else None

    def to_json(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "started": _iso(self.started),
            "finished": _iso(self.finished),
            "duration_seconds": self.duration_seconds,
            "outcome": self.outcome.value,
            "dry_run": self.dry_run,
            "forced": self.forced,
            "plan_source": self.plan_source,
            "plan_items": self.plan_items,
            "plan_undated": self.plan_undated,
            "plan_problems": self.plan_problems,
            "counts": self.counts.as_dict(),
            "requests": self.requests,
            "errors": self.errors,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class CalendarRecord:
    """A calendar's last real (not dry) run; `outcome` is an `Outcome` or "unfinished", None
    for a calendar whose state exists but that no recorded run has reached yet."""

    name: str
    target: str | None
    outcome: str | None
    at: datetime | None
    last_success_at: datetime | None
    run_id: str | None
    counts: Tally
    requests: int | None
    error: str | None
    events: int  # events the state store holds for it

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "target": self.target,
            "outcome": self.outcome,
            "at": _iso(self.at),
            "last_success_at": _iso(self.last_success_at),
            "run_id": self.run_id,
            "counts": self.counts.as_dict(),
            "requests": self.requests,
            "error": self.error,
            "events": self.events,
        }


@dataclass(frozen=True, slots=True)
class PlanIssue:
    """An undated item (kind "undated-item", severity "info") or a plan problem."""

    kind: str
    severity: str
    message: str
    where: str | None
    item_key: str | None
    title: str | None

    @property
    def undated(self) -> bool:
        return self.kind == UNDATED

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "where": self.where,
            "item_key": self.item_key,
            "title": self.title,
        }


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """Which plan the stored issues came from."""

    title: str | None
    year: int | None
    source: str | None

    def to_json(self) -> dict[str, object]:
        return {"title": self.title, "year": self.year, "source": self.source}


@dataclass(frozen=True, slots=True)
class PlanIssues:
    """The last plan read's undated items and problems (`plan` None: no plan read yet)."""

    plan: PlanSummary | None = None
    undated: tuple[PlanIssue, ...] = ()
    problems: tuple[PlanIssue, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "plan": self.plan.to_json() if self.plan else None,
            "undated": [i.to_json() for i in self.undated],
            "problems": [i.to_json() for i in self.problems],
        }


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Everything `syncsvc status` shows."""

    state: str  # the state store's path
    schema_version: int  # 0: no store yet
    runs: tuple[RunRecord, ...] = ()
    calendars: tuple[CalendarRecord, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "schema_version": self.schema_version,
            "runs": [r.to_json() for r in self.runs],
            "calendars": [c.to_json() for c in self.calendars],
        }


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """The scheduler's runner: a run going, one pending, runs finished since start."""

    running: bool
    pending: bool
    runs: int = 0

    def to_json(self) -> dict[str, object]:
        return {"running": self.running, "pending": self.pending, "runs": self.runs}


@dataclass(frozen=True, slots=True)
class TriggerResult:
    """What a trigger (admin "sync now", schedule, plan change) did: `queued` for the next
    run, `coalesced` into a pending one, or refused with a `reason` (shutting down)."""

    queued: bool
    running: bool
    coalesced: bool | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"queued": self.queued}
        if self.coalesced is not None:
            out["coalesced"] = self.coalesced
        out["running"] = self.running
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    def log_fields(self) -> dict[str, object]:
        """For a log line that already names the trigger's `reason` (why it was triggered):
        why it was refused goes under `refused`."""
        out = self.to_json()
        refused = out.pop("reason", None)
        if refused is not None:
            out["refused"] = refused
        return out
