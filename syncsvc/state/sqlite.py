"""Persistent state in SQLite: what each target last saw, the last result per calendar and the
run history. Implements `TargetState`, so the engine uses it exactly like `MemoryState`.

One connection guarded by a lock: the engine saves calendars from parallel threads and the
HTTP server reads status from its own threads; every statement is short, so a lock is simpler
than a connection per thread and never hits "database is locked" inside one process. WAL lets
`syncsvc status` read from another process while the daemon writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncsvc.domain.changes import ChangeKind, Outcome, RunReport
from syncsvc.domain.errors import ConfigError, Where
from syncsvc.domain.events import ObservedEvent
from syncsvc.domain.plan import Plan
from syncsvc.settings import Settings

STATE_FILE = "state.sqlite3"
HISTORY_LIMIT = 500  # runs kept; older ones are pruned when a run is recorded

# Ordered migrations: index + 1 is the schema version it produces (PRAGMA user_version).
# Append only; never edit a migration that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE calendars (
        name TEXT PRIMARY KEY,
        token TEXT,
        target TEXT,
        last_run_id TEXT,
        last_outcome TEXT,
        last_at TEXT,
        last_counts TEXT,
        last_requests INTEGER,
        last_error TEXT,
        last_success_at TEXT
    );
    CREATE TABLE events (
        calendar TEXT NOT NULL,
        uid TEXT NOT NULL,
        remote_id TEXT NOT NULL,
        etag TEXT,
        stored_hash TEXT,
        actual_hash TEXT,
        sequence INTEGER NOT NULL DEFAULT 0,
        start TEXT,
        end TEXT,
        PRIMARY KEY (calendar, uid)
    );
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        outcome TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        forced INTEGER NOT NULL,
        plan_source TEXT,
        plan_items INTEGER,
        plan_undated INTEGER,
        plan_problems INTEGER,
        creates INTEGER NOT NULL,
        updates INTEGER NOT NULL,
        deletes INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        error TEXT,
        report TEXT NOT NULL
    );
    CREATE INDEX runs_started ON runs (started);
    """,
    """
    CREATE TABLE plan_issues (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        location TEXT,
        item_key TEXT,
        title TEXT
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    """,
)


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


class SqliteState:
    """TargetState backed by SQLite, plus run history and status for `syncsvc status`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False: the lock below serialises every use of the connection.
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, timeout=10.0, isolation_level=None
            )
        except (OSError, sqlite3.Error) as err:
            raise ConfigError(f"cannot open state store: {err}", where=Where(str(path))) from None
        self._lock = threading.RLock()
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()

    # --- plumbing ----------------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        # One IMMEDIATE transaction, version read inside it: two processes opening a new store
        # at once (daemon and `syncsvc status`) migrate it once. SQLite DDL is transactional.
        with self._tx() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise ConfigError(
                    f"state store has schema version {version}, newer than this syncsvc "
                    f"({len(MIGRATIONS)}); upgrade syncsvc or use another data_dir",
                    where=Where(str(self.path)),
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):  # migrations hold plain DDL, no triggers
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- TargetState -------------------------------------------------------------------------
    def get_token(self, calendar: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT token FROM calendars WHERE name = ?", (calendar,))
            found = row.fetchone()
        return None if found is None else found["token"]

    def get_events(self, calendar: str) -> dict[str, ObservedEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events WHERE calendar = ? ORDER BY uid", (calendar,)
            ).fetchall()
        return {
            row["uid"]: ObservedEvent(
                uid=row["uid"],
                remote_id=row["remote_id"],
                etag=row["etag"],
                stored_hash=row["stored_hash"],
                actual_hash=row["actual_hash"],
                sequence=row["sequence"],
                start=decode_when(row["start"]),
                end=decode_when(row["end"]),
            )
            for row in rows
        }

    def save(self, calendar: str, token: str | None, events: Mapping[str, ObservedEvent]) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO calendars (name, token) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET token = excluded.token",
                (calendar, token),
            )
            db.execute("DELETE FROM events WHERE calendar = ?", (calendar,))
            db.executemany(
                "INSERT INTO events (calendar, uid, remote_id, etag, stored_hash, actual_hash,"
                " sequence, start, end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        calendar,
                        uid,
                        ev.remote_id,
                        ev.etag,
                        ev.stored_hash,
                        ev.actual_hash,
                        ev.sequence,
                        encode_when(ev.start),
                        encode_when(ev.end),
                    )
                    for uid, ev in events.items()
                ],
            )

    # --- runs ----------------------------------------------------------------------------
    def record_run(self, report: RunReport) -> None:
        """Store a finished run and, unless it was a dry run, each calendar's last result."""
        data = report.to_dict()
        totals = dict.fromkeys(ChangeKind, 0)
        for cal in report.calendars:
            for kind in ChangeKind:
                totals[kind] += cal.count(kind)
        errors = sum(1 for c in report.calendars if c.error) + (1 if report.error else 0)
        finished = report.finished or datetime.now(UTC)
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, started, finished, outcome, dry_run, forced,"
                " plan_source, plan_items, plan_undated, plan_problems, creates, updates, deletes,"
                " unchanged, requests, errors, error, report)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    report.run_id,
                    _iso(report.started),
                    _iso(finished),
                    report.outcome,
                    int(report.dry_run),
                    int(report.forced),
                    report.plan_source,
                    report.plan_items,
                    report.plan_undated,
                    report.plan_problems,
                    totals[ChangeKind.CREATE],
                    totals[ChangeKind.UPDATE],
                    totals[ChangeKind.DELETE],
                    totals[ChangeKind.UNCHANGED],
                    sum(c.requests for c in report.calendars),
                    errors,
                    report.error,
                    json.dumps(data, ensure_ascii=False),
                ),
            )
            if not report.dry_run:
                for cal in report.calendars:
                    ok = cal.error is None and cal.outcome is Outcome.OK
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
                        (
                            cal.name,
                            cal.target,
                            report.run_id,
                            cal.outcome.value,
                            _iso(finished),
                            json.dumps(cal.counts),
                            cal.requests,
                            cal.error,
                            _iso(finished) if ok else None,
                        ),
                    )
            db.execute(
                "DELETE FROM runs WHERE run_id NOT IN"
                " (SELECT run_id FROM runs ORDER BY started DESC LIMIT ?)",
                (HISTORY_LIMIT,),
            )

    def record_plan(self, plan: Plan) -> None:
        """Replace the stored plan issues (undated items and problems) with this plan's."""
        titles = {item.key: item.title for item in plan.items}
        rows: list[tuple[str, str, str, str | None, str | None, str | None]] = [
            (
                "undated-item",
                "info",
                item.date_text.replace("\n", " ") or "no date",
                str(item.where) if item.where else None,
                item.key,
                item.title,
            )
            for item in plan.undated
        ]
        rows += [
            (
                p.kind.value,
                p.severity.value,
                p.message,
                str(p.where) if p.where else None,
                p.item_key,
                titles.get(p.item_key or ""),
            )
            for p in plan.problems
        ]
        with self._tx() as db:
            db.execute("DELETE FROM plan_issues")
            db.executemany(
                "INSERT INTO plan_issues (kind, severity, message, location, item_key, title)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('plan', ?)",
                (json.dumps({"title": plan.title, "year": plan.year, "source": plan.source}),),
            )

    def runs(self, limit: int = 10, *, include_dry_runs: bool = True) -> list[dict[str, Any]]:
        """The newest runs first, as plain dicts (no per-event detail)."""
        where = "" if include_dry_runs else "WHERE dry_run = 0"
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM runs {where} ORDER BY started DESC LIMIT ?",  # noqa: S608 - fixed text
                (limit,),
            ).fetchall()
        return [_run_row(row) for row in rows]

    def last_run(self, *, include_dry_runs: bool = False) -> dict[str, Any] | None:
        found = self.runs(1, include_dry_runs=include_dry_runs)
        return found[0] if found else None

    def last_report(self) -> dict[str, Any] | None:
        """The full report (RunReport.to_dict) of the newest real run."""
        with self._lock:
            row = self._db.execute(
                "SELECT report FROM runs WHERE dry_run = 0 ORDER BY started DESC LIMIT 1"
            ).fetchone()
        return None if row is None else dict(json.loads(row["report"]))

    def calendars(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.*, (SELECT COUNT(*) FROM events e WHERE e.calendar = c.name) AS events"
                " FROM calendars c ORDER BY c.name"
            ).fetchall()
        return [
            {
                "name": row["name"],
                "target": row["target"],
                "outcome": row["last_outcome"],
                "at": row["last_at"],
                "last_success_at": row["last_success_at"],
                "run_id": row["last_run_id"],
                "counts": json.loads(row["last_counts"]) if row["last_counts"] else {},
                "requests": row["last_requests"],
                "error": row["last_error"],
                "events": row["events"],
            }
            for row in rows
        ]

    def plan_issues(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM plan_issues ORDER BY seq").fetchall()
            meta = self._db.execute("SELECT value FROM meta WHERE key = 'plan'").fetchone()
        issues = [
            {
                "kind": row["kind"],
                "severity": row["severity"],
                "message": row["message"],
                "where": row["location"],
                "item_key": row["item_key"],
                "title": row["title"],
            }
            for row in rows
        ]
        return {
            "plan": json.loads(meta["value"]) if meta else None,
            "undated": [i for i in issues if i["kind"] == "undated-item"],
            "problems": [i for i in issues if i["kind"] != "undated-item"],
        }

    def status(self, runs: int = 5) -> dict[str, Any]:
        """Everything `syncsvc status` shows, JSON-ready."""
        return {
            "state": str(self.path),
            "schema_version": self.schema_version,
            "runs": self.runs(runs),
            "calendars": self.calendars(),
        }


def open_state(where: Settings | Path) -> SqliteState:
    """The state store of these settings (or under this data directory)."""
    return SqliteState(state_path(where.data_dir if isinstance(where, Settings) else where))


def status(where: Settings | Path, runs: int = 5) -> dict[str, Any]:
    """Status of the state store; an empty status if there is none yet (creates nothing)."""
    path = state_path(where.data_dir if isinstance(where, Settings) else where)
    if not path.exists():
        return {"state": str(path), "schema_version": 0, "runs": [], "calendars": []}
    with SqliteState(path) as store:
        return store.status(runs)


def _run_row(row: sqlite3.Row) -> dict[str, Any]:
    started = datetime.fromisoformat(row["started"])
    finished = datetime.fromisoformat(row["finished"]) if row["finished"] else None
    return {
        "run_id": row["run_id"],
        "started": row["started"],
        "finished": row["finished"],
        "duration_seconds": (finished - started).total_seconds() if finished else None,
        "outcome": row["outcome"],
        "dry_run": bool(row["dry_run"]),
        "forced": bool(row["forced"]),
        "plan_source": row["plan_source"],
        "plan_items": row["plan_items"],
        "plan_undated": row["plan_undated"],
        "plan_problems": row["plan_problems"],
        "counts": {
            "create": row["creates"],
            "update": row["updates"],
            "delete": row["deletes"],
            "unchanged": row["unchanged"],
        },
        "requests": row["requests"],
        "errors": row["errors"],
        "error": row["error"],
    }


def _iso(value: datetime) -> str:
    # Naive datetimes are taken as UTC so history sorts and compares consistently.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def encode_when(value: date | datetime | None) -> str | None:
    """Dates and datetimes as text that round-trips, including the zone name (not only the
    offset), so "past is history" comparisons and DST arithmetic behave after a reload."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return f"d:{value.isoformat()}"
    zone = getattr(value.tzinfo, "key", None)
    naive = value.replace(tzinfo=None).isoformat()
    if zone:
        return f"z:{naive}|{zone}"
    return f"t:{value.isoformat()}"


def decode_when(text: str | None) -> date | datetime | None:
    if not text:
        return None
    kind, _, body = text.partition(":")
    if kind == "d":
        return date.fromisoformat(body)
    if kind == "z":
        naive, _, zone = body.partition("|")
        try:
            return datetime.fromisoformat(naive).replace(tzinfo=ZoneInfo(zone))
        except ZoneInfoNotFoundError:
            return datetime.fromisoformat(naive).replace(tzinfo=UTC)
    return datetime.fromisoformat(body)
