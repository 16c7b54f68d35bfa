"""What a sync run did, per calendar and per change: the value the engine returns and everyone
else reads (CLI summary, `--json`, state store and `status`, metrics, admin endpoint).

Each change carries its own status, counted from what the target confirmed: applied (the
write was acknowledged, or a re-read shows the server holds it), failed (with the reason), or
not attempted (a dry run, a refused run, or a calendar that stopped before it). Every count
anyone shows is a `Tally` of those statuses, so the places that show counts cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from syncsvc.domain.errors import ExitCode


class ChangeKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


WRITES = (ChangeKind.CREATE, ChangeKind.UPDATE, ChangeKind.DELETE)


class ChangeStatus(StrEnum):
    NOT_ATTEMPTED = "not_attempted"
    APPLIED = "applied"
    FAILED = "failed"


class Outcome(StrEnum):
    OK = "ok"  # every change applied (or nothing to do); notes may say more
    PLANNED = "planned"  # dry run: computed, nothing written
    REFUSED = "refused"  # deletion guard; nothing written
    FAILED = "failed"  # a change failed or was not attempted, or the calendar could not be read


class RunOutcome(StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    REFUSED = "refused"
    RUNNING = "running"  # in the history only: started, still going
    UNFINISHED = "unfinished"  # in the history only: started, never finished (killed)


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    uid: str
    summary: str
    start: date | datetime | None
    # "new in plan", "date moved", "edited in calendar: restored", "removed from plan", ...
    reason: str
    item_key: str = ""
    status: ChangeStatus = ChangeStatus.NOT_ATTEMPTED
    error: str | None = None  # why it failed
    # Failed without an answer, and the re-read failed too: the server may hold it.
    maybe_applied: bool = False
    # For updates: (field, old, new) as display text, for every field known to differ.
    fields: tuple[tuple[str, str, str], ...] = ()

    @property
    def applied(self) -> bool:
        return self.status is ChangeStatus.APPLIED

    def settled(
        self, status: ChangeStatus, error: str | None = None, *, maybe_applied: bool = False
    ) -> Change:
        return replace(self, status=status, error=error, maybe_applied=maybe_applied)


@dataclass(frozen=True, slots=True)
class KindCounts:
    create: int = 0
    update: int = 0
    delete: int = 0

    @property
    def total(self) -> int:
        return self.create + self.update + self.delete

    def get(self, kind: ChangeKind) -> int:
        return int(getattr(self, kind.value, 0))

    def __add__(self, other: KindCounts) -> KindCounts:
        return KindCounts(
            self.create + other.create, self.update + other.update, self.delete + other.delete
        )

    def as_dict(self) -> dict[str, int]:
        return {"create": self.create, "update": self.update, "delete": self.delete}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> KindCounts:
        data = data or {}
        return cls(*(int(data.get(k.value) or 0) for k in WRITES))


@dataclass(frozen=True, slots=True)
class Tally:
    """Changes counted by status and kind; `planned` is their sum."""

    applied: KindCounts = field(default_factory=KindCounts)
    failed: KindCounts = field(default_factory=KindCounts)
    not_attempted: KindCounts = field(default_factory=KindCounts)
    unchanged: int = 0

    @property
    def planned(self) -> KindCounts:
        return self.applied + self.failed + self.not_attempted

    @property
    def complete(self) -> bool:
        """Every planned change applied."""
        return self.applied.total == self.planned.total

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.applied + other.applied,
            self.failed + other.failed,
            self.not_attempted + other.not_attempted,
            self.unchanged + other.unchanged,
        )

    @classmethod
    def count(cls, pairs: Iterable[tuple[str, str]]) -> Tally:
        """From (kind, status) pairs, as stored or as `Change` values."""
        buckets = {s: dict.fromkeys(("create", "update", "delete"), 0) for s in ChangeStatus}
        unchanged = 0
        for kind, status in pairs:
            if kind == ChangeKind.UNCHANGED:
                unchanged += 1
            elif kind in buckets[ChangeStatus.APPLIED]:
                buckets[ChangeStatus(status)][kind] += 1
        return cls(
            KindCounts.from_dict(buckets[ChangeStatus.APPLIED]),
            KindCounts.from_dict(buckets[ChangeStatus.FAILED]),
            KindCounts.from_dict(buckets[ChangeStatus.NOT_ATTEMPTED]),
            unchanged,
        )

    @classmethod
    def of(cls, changes: Iterable[Change]) -> Tally:
        return cls.count((c.kind.value, c.status.value) for c in changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned.as_dict(),
            "applied": self.applied.as_dict(),
            "failed": self.failed.as_dict(),
            "not_attempted": self.not_attempted.as_dict(),
            "unchanged": self.unchanged,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Tally:
        data = data or {}
        return cls(
            KindCounts.from_dict(data.get("applied")),
            KindCounts.from_dict(data.get("failed")),
            KindCounts.from_dict(data.get("not_attempted")),
            int(data.get("unchanged") or 0),
        )


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
        """Planned changes of this kind (what the diff found), whatever became of them."""
        return sum(1 for c in self.changes if c.kind is kind)

    @property
    def tally(self) -> Tally:
        return Tally.of(self.changes)

    def settle(self) -> None:
        """After apply: the outcome follows the data. OK only when every change is applied;
        a failure after that (bookkeeping) is a note, never the outcome."""
        if self.tally.complete:
            self.outcome, self.error = Outcome.OK, None
            return
        self.outcome = Outcome.FAILED
        self.error = self.error or failure_summary(self.changes)


def failure_summary(changes: Iterable[Change]) -> str:
    """'2 changes failed: «Fagdag» 2024-03-04: changed on the server while syncing; ...'."""
    failed = [c for c in changes if c.status is ChangeStatus.FAILED]
    if not failed:
        return "not every change was attempted"
    named = "; ".join(f"«{c.summary or c.uid}» {_day(c.start)}: {c.error}" for c in failed[:3])
    more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
    return f"{len(failed)} change{'s' if len(failed) != 1 else ''} failed: {named}{more}"


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "?"
    return (value.date() if isinstance(value, datetime) else value).isoformat()


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
            return RunOutcome.FAILED.value
        outcomes = {c.outcome for c in self.calendars}
        if Outcome.FAILED in outcomes:
            return (RunOutcome.PARTIAL if outcomes - {Outcome.FAILED} else RunOutcome.FAILED).value
        if Outcome.REFUSED in outcomes:
            return RunOutcome.REFUSED.value
        return RunOutcome.OK.value

    @property
    def exit_code(self) -> ExitCode:
        return {
            "ok": ExitCode.OK,
            "partial": ExitCode.PARTIAL,
            "failed": ExitCode.TARGET,
            "refused": ExitCode.GUARD,
        }[self.outcome]

    @property
    def tally(self) -> Tally:
        total = Tally()
        for cal in self.calendars:
            total += cal.tally
        return total

    def to_dict(self) -> dict[str, Any]:
        """What `dataclasses.asdict` gives, JSON-ready, plus outcome and counts. Written
        out: asdict deep-copies every value, and a run's report holds every unchanged
        event (0.1 s of a one-shot no-op with 1,000 events; the journal stores it twice)."""
        data: dict[str, Any] = _jsonable(self)
        data["outcome"] = self.outcome
        data["counts"] = self.tally.as_dict()
        for cal, raw in zip(self.calendars, data["calendars"], strict=True):
            raw["counts"] = cal.tally.as_dict()
        return data


def _jsonable(value: Any) -> Any:
    if value is None or type(value) in _PLAIN:
        return value
    if is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.get(type(value)) or _FIELDS.setdefault(
            type(value), tuple(f.name for f in fields(value))
        )
        return {name: _jsonable(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


_PLAIN = frozenset({str, int, float, bool})
_FIELDS: dict[type, tuple[str, ...]] = {}


# --- stored reports (RunReport.to_dict) -------------------------------------------------------


def stored_tally(calendar: Mapping[str, Any]) -> Tally:
    """The tally of one stored calendar report. Reports written before change statuses
    existed carry `applied: bool` per change: applied stays applied, the rest counts as not
    attempted (those versions did not know better)."""
    return Tally.count(
        (
            str(c.get("kind")),
            str(c.get("status") or ("applied" if c.get("applied") else "not_attempted")),
        )
        for c in calendar.get("changes") or ()
    )


def overlay(report: dict[str, Any], settled: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A stored report with the changes settled since it was stored (calendar, uid, status,
    error, maybe_applied), and its counts recomputed."""
    by_key = {(s["calendar"], s["uid"]): s for s in settled}
    total = Tally()
    for cal in report.get("calendars") or ():
        for change in cal.get("changes") or ():
            found = by_key.get((cal.get("name"), change.get("uid")))
            if found is not None and change.get("kind") != ChangeKind.UNCHANGED:
                change["status"] = found["status"]
                change["error"] = found.get("error")
                change["maybe_applied"] = bool(found.get("maybe_applied"))
        cal["counts"] = stored_tally(cal).as_dict()
        total += stored_tally(cal)
    report["counts"] = total.as_dict()
    return report
