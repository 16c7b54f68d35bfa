"""Run history in the SQLite state store: every run from its start, each change as it settles,
each calendar's last result, and the runs that never finished.

A run is a row from `begin` on (outcome "running", a lease held, see `lease`). `planned`
stores its report with every change not attempted; `settled` adds one small row per change
as the target confirms it (a commit each: ~15 µs, far below any write it records); `finish`
(= `record_run`) replaces all that with the final report. A "running" row whose lease nobody
holds belongs to a process that died: it becomes "unfinished", with the settled changes
folded into its report, when anyone next reads or starts a run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from syncsvc.domain.changes import (
    Change,
    ChangeKind,
    Outcome,
    RunOutcome,
    RunReport,
    Tally,
    overlay,
    stored_tally,
)
from syncsvc.state.lease import Leases
from syncsvc.state.records import CalendarRecord, RunRecord

HISTORY_LIMIT = 500  # runs kept; older ones are pruned when a run is recorded
DID_NOT_FINISH = "did not finish: the process stopped (killed or crashed) before the run ended"


class RunHistory:
    """The run-history half of `SqliteState` (a mixin over its connection and lock)."""

    _db: sqlite3.Connection
    _lock: threading.RLock
    leases: Leases

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # SqliteState's: one IMMEDIATE transaction under the lock

    # --- RunJournal ----------------------------------------------------------------------
    def begin(self, report: RunReport) -> None:
        self.leases.take(report.run_id)  # before the row: a row without a lease is dead
        _sweep(self)
        data = json.dumps(report.to_dict(), ensure_ascii=False)
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (run_id, started, outcome, dry_run, forced, plan_source,"
                " plan_items, plan_undated, plan_problems, creates, updates, deletes, unchanged,"
                " requests, errors, report, counts)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, ?, ?)"
                " ON CONFLICT (run_id) DO UPDATE SET plan_source = excluded.plan_source,"
                " plan_items = excluded.plan_items, plan_undated = excluded.plan_undated,"
                " plan_problems = excluded.plan_problems, report = excluded.report"
                " WHERE runs.outcome = 'running'",
                (
                    report.run_id,
                    _iso(report.started),
                    int(report.dry_run),
                    int(report.forced),
                    report.plan_source,
                    report.plan_items,
                    report.plan_undated,
                    report.plan_problems,
                    data,
                    json.dumps(Tally().as_dict()),
                ),
            )

    def planned(self, report: RunReport) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET report = ? WHERE run_id = ? AND outcome = 'running'",
                (json.dumps(report.to_dict(), ensure_ascii=False), report.run_id),
            )

    def settled(self, run_id: str, calendar: str, change: Change) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO run_changes (run_id, calendar, uid, status, error,"
                " maybe_applied) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    calendar,
                    change.uid,
                    change.status.value,
                    change.error,
                    int(change.maybe_applied),
                ),
            )

    def finish(self, report: RunReport) -> None:
        self.record_run(report)

    def sweep(self) -> list[tuple[str, bool]]:
        """Mark runs whose process died as unfinished now; (run_id, dry_run) of each one."""
        return _sweep(self)

    # --- finished runs -----------------------------------------------------------------------
    def record_run(self, report: RunReport) -> None:
        """Store a finished run and, unless it was a dry run, each calendar's last result.
        Idempotent: the engine finishes its runs itself, callers may record them again."""
        finished = report.finished or datetime.now(UTC)
        with self._lock:
            row = self._db.execute(
                "SELECT finished FROM runs WHERE run_id = ?", (report.run_id,)
            ).fetchone()
        if row is not None and row["finished"] == _iso(finished):
            self.leases.release(report.run_id)
            return
        data = report.to_dict()
        tally = report.tally
        errors = sum(1 for c in report.calendars if c.error) + (1 if report.error else 0)
        with self._tx() as db:
            _write_run(db, data, report.dry_run, tally, errors, _iso(finished))
            if not report.dry_run:
                for cal in report.calendars:
                    ok = cal.outcome is Outcome.OK
                    _write_calendar(
                        db,
                        name=cal.name,
                        target=cal.target,
                        run_id=report.run_id,
                        outcome=cal.outcome.value,
                        at=_iso(finished),
                        counts=cal.tally.as_dict(),
                        requests=cal.requests,
                        error=cal.error,
                        success_at=_iso(finished) if ok else None,
                    )
            db.execute("DELETE FROM run_changes WHERE run_id = ?", (report.run_id,))
            db.execute(
                "DELETE FROM runs WHERE run_id NOT IN"
                " (SELECT run_id FROM runs ORDER BY started DESC LIMIT ?)",
                (HISTORY_LIMIT,),
            )
            db.execute("DELETE FROM run_changes WHERE run_id NOT IN (SELECT run_id FROM runs)")
        self.leases.release(report.run_id)

    # --- reading -------------------------------------------------------------------------------
    def runs(
        self, limit: int = 10, *, include_dry_runs: bool = True, include_running: bool = True
    ) -> list[RunRecord]:
        """The newest runs first (no per-event detail). A run still going shows what it has
        applied so far."""
        _sweep(self)
        where = ["1 = 1"]
        if not include_dry_runs:
            where.append("dry_run = 0")
        if not include_running:
            where.append("outcome != 'running'")
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM runs WHERE {' AND '.join(where)}"  # noqa: S608 - fixed text
                " ORDER BY started DESC LIMIT ?",
                (limit,),
            ).fetchall()
            out = []
            for row in rows:
                counts = _row_counts(row)
                if row["outcome"] == RunOutcome.RUNNING:
                    counts = Tally.from_dict(_live(self._db, row)["counts"])
                out.append(_run_record(row, counts))
        return out

    def last_run(self, *, include_dry_runs: bool = False) -> RunRecord | None:
        """The newest run that has ended (ok or not; unfinished counts as ended)."""
        found = self.runs(1, include_dry_runs=include_dry_runs, include_running=False)
        return found[0] if found else None

    def last_report(self) -> dict[str, Any] | None:
        """The full report (RunReport.to_dict) of the newest real run that has ended."""
        _sweep(self)
        with self._lock:
            row = self._db.execute(
                "SELECT report FROM runs WHERE dry_run = 0 AND outcome != 'running'"
                " ORDER BY started DESC LIMIT 1"
            ).fetchone()
        return None if row is None else dict(json.loads(row["report"]))

    def report(self, run_id: str) -> dict[str, Any] | None:
        """The full report of one ended run (dry runs included), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT report FROM runs WHERE run_id = ? AND outcome != 'running'", (run_id,)
            ).fetchone()
        return None if row is None or not row["report"] else dict(json.loads(row["report"]))

    def calendars(self) -> list[CalendarRecord]:
        _sweep(self)
        with self._lock:
            rows = self._db.execute(
                "SELECT c.*, (SELECT COUNT(*) FROM events e WHERE e.calendar = c.name) AS events"
                " FROM calendars c ORDER BY c.name"
            ).fetchall()
        return [
            CalendarRecord(
                name=row["name"],
                target=row["target"],
                outcome=row["last_outcome"],
                at=_when(row["last_at"]),
                last_success_at=_when(row["last_success_at"]),
                run_id=row["last_run_id"],
                counts=_calendar_counts(row["last_counts"], row["last_outcome"]),
                requests=row["last_requests"],
                error=row["last_error"],
                events=int(row["events"]),
            )
            for row in rows
        ]


# --- internals ------------------------------------------------------------------------------


def _sweep(store: RunHistory) -> list[tuple[str, bool]]:
    """Mark runs whose process died as unfinished, with what they had applied."""
    with store._lock:
        running = [
            r["run_id"]
            for r in store._db.execute("SELECT run_id FROM runs WHERE outcome = 'running'")
        ]
    dead = [run_id for run_id in running if not store.leases.alive(run_id)]
    swept: list[tuple[str, bool]] = []
    if not dead:
        return swept
    with store._tx() as db:
        for run_id in dead:
            row = db.execute(
                "SELECT * FROM runs WHERE run_id = ? AND outcome = 'running'", (run_id,)
            ).fetchone()
            if row is None:
                continue  # it finished after all, between our two looks
            swept.append((run_id, bool(row["dry_run"])))
            data = _live(db, row)
            data["outcome"] = RunOutcome.UNFINISHED.value
            data["error"] = DID_NOT_FINISH
            data["finished"] = None
            tally = Tally.from_dict(data["counts"])
            _write_run(db, data, bool(row["dry_run"]), tally, 1, None)
            for cal in data.get("calendars") or ():
                if row["dry_run"] or not cal.get("changes"):
                    continue  # never got as far as planning this calendar
                cal["outcome"] = RunOutcome.UNFINISHED.value
                _write_calendar(
                    db,
                    name=cal["name"],
                    target=cal.get("target"),
                    run_id=run_id,
                    outcome=RunOutcome.UNFINISHED.value,
                    at=row["started"],
                    counts=cal["counts"],
                    requests=cal.get("requests") or 0,
                    error=DID_NOT_FINISH,
                    success_at=None,
                )
            db.execute("DELETE FROM run_changes WHERE run_id = ?", (run_id,))
    return swept


def _live(db: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    """A running (or dead) run's stored report with its settled changes folded in."""
    settled = db.execute(
        "SELECT calendar, uid, status, error, maybe_applied FROM run_changes WHERE run_id = ?",
        (row["run_id"],),
    ).fetchall()
    return overlay(dict(json.loads(row["report"])), [dict(s) for s in settled])


def _write_run(
    db: sqlite3.Connection,
    data: Mapping[str, Any],
    dry_run: bool,
    tally: Tally,
    errors: int,
    finished: str | None,
) -> None:
    db.execute(
        "INSERT OR REPLACE INTO runs (run_id, started, finished, outcome, dry_run, forced,"
        " plan_source, plan_items, plan_undated, plan_problems, creates, updates, deletes,"
        " unchanged, requests, errors, error, report, counts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            data["run_id"],
            _iso(datetime.fromisoformat(data["started"])),
            finished,
            data["outcome"],
            int(dry_run),
            int(bool(data.get("forced"))),
            data.get("plan_source"),
            data.get("plan_items"),
            data.get("plan_undated"),
            data.get("plan_problems"),
            # The legacy columns hold what was applied (what `status` always claimed to show).
            tally.applied.create,
            tally.applied.update,
            tally.applied.delete,
            tally.unchanged,
            sum(int(c.get("requests") or 0) for c in data.get("calendars") or ()),
            errors,
            data.get("error"),
            json.dumps(data, ensure_ascii=False),
            json.dumps(tally.as_dict()),
        ),
    )


def _write_calendar(
    db: sqlite3.Connection,
    *,
    name: str,
    target: str | None,
    run_id: str,
    outcome: str,
    at: str,
    counts: Mapping[str, object],
    requests: int,
    error: str | None,
    success_at: str | None,
) -> None:
    db.execute(
        "INSERT INTO calendars (name, target, last_run_id, last_outcome, last_at,"
        " last_counts, last_requests, last_error, last_success_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET target = excluded.target,"
        " last_run_id = excluded.last_run_id,"
        " last_outcome = excluded.last_outcome, last_at = excluded.last_at,"
        " last_counts = excluded.last_counts,"
        " last_requests = excluded.last_requests,"
        " last_error = excluded.last_error,"
        " last_success_at = COALESCE(excluded.last_success_at,"
        " calendars.last_success_at)",
        (name, target, run_id, outcome, at, json.dumps(counts), requests, error, success_at),
    )


def _row_counts(row: sqlite3.Row) -> Tally:
    if row["counts"]:
        return Tally.from_dict(json.loads(row["counts"]))
    # Recorded before per-change statuses: count from the stored report's `applied` flags.
    report = json.loads(row["report"])
    total = Tally()
    for cal in report.get("calendars") or ():
        total += stored_tally(cal)
    return total


def _calendar_counts(text: str | None, outcome: str | None) -> Tally:
    data = json.loads(text) if text else {}
    if not data or "applied" in data:
        return Tally.from_dict(data)
    # Recorded before per-change statuses: {"create": n, ...} were planned counts; an ok
    # calendar applied them all, of any other nothing is known to have been applied.
    planned = {k.value: int(data.get(k.value) or 0) for k in ChangeKind if k.value in data}
    unchanged = planned.pop("unchanged", 0)
    bucket = "applied" if outcome == Outcome.OK else "not_attempted"
    return Tally.from_dict({bucket: planned, "unchanged": unchanged})


def _run_record(row: sqlite3.Row, counts: Tally) -> RunRecord:
    return RunRecord(
        run_id=row["run_id"],
        started=datetime.fromisoformat(row["started"]),
        finished=_when(row["finished"]),
        outcome=RunOutcome(row["outcome"]),
        dry_run=bool(row["dry_run"]),
        forced=bool(row["forced"]),
        plan_source=row["plan_source"],
        plan_items=row["plan_items"],
        plan_undated=row["plan_undated"],
        plan_problems=row["plan_problems"],
        counts=counts,
        requests=int(row["requests"]),
        errors=int(row["errors"]),
        error=row["error"],
    )


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _iso(value: datetime) -> str:
    # Naive datetimes are taken as UTC so history sorts and compares consistently.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
