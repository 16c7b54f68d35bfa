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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncsvc.domain.errors import ConfigError, Where
from syncsvc.domain.events import ObservedEvent
from syncsvc.domain.ownership import LEGACY_MARKER
from syncsvc.domain.plan import Plan
from syncsvc.settings import Settings
from syncsvc.state.history import RunHistory
from syncsvc.state.lease import Leases
from syncsvc.state.records import UNDATED, PlanIssue, PlanIssues, PlanSummary, StatusReport

STATE_FILE = "state.sqlite3"

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
    """
    ALTER TABLE runs ADD COLUMN counts TEXT;
    CREATE TABLE run_changes (
        run_id TEXT NOT NULL,
        calendar TEXT NOT NULL,
        uid TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        maybe_applied INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, calendar, uid)
    );
    CREATE INDEX runs_outcome ON runs (outcome);
    """,
    # The owner marker each event carried: targets that answer from memory (CalDAV's sync
    # token) must hand the engine the marker to verify, not an unmarked event.
    """
    ALTER TABLE events ADD COLUMN marker TEXT;
    """,
)


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


class SqliteState(RunHistory):
    """TargetState backed by SQLite, plus run history (a RunJournal, see `history`) and
    status for `syncsvc status`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.leases = Leases(self.path.with_name(self.path.name + "-runs"))
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
        # Runs still open here never finished: their leases go, so they read as unfinished.
        self.leases.release_all()
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
                # Rows from before schema 3 were written by a version whose marker was the
                # constant: they are candidates for the one-time adoption, like the events.
                marker=row["marker"] if row["marker"] is not None else LEGACY_MARKER,
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
                " sequence, start, end, marker) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                        ev.marker,
                    )
                    for uid, ev in events.items()
                ],
            )

    # --- plan issues ---------------------------------------------------------------------
    def record_plan(self, plan: Plan) -> None:
        """Replace the stored plan issues (undated items and problems) with this plan's."""
        titles = {item.key: item.title for item in plan.items}
        rows: list[tuple[str, str, str, str | None, str | None, str | None]] = [
            (
                UNDATED,
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

    def plan_issues(self) -> PlanIssues:
        with self._lock:
            rows = self._db.execute("SELECT * FROM plan_issues ORDER BY seq").fetchall()
            meta = self._db.execute("SELECT value FROM meta WHERE key = 'plan'").fetchone()
        issues = [
            PlanIssue(
                kind=row["kind"],
                severity=row["severity"],
                message=row["message"],
                where=row["location"],
                item_key=row["item_key"],
                title=row["title"],
            )
            for row in rows
        ]
        plan = json.loads(meta["value"]) if meta else None
        return PlanIssues(
            plan=PlanSummary(plan.get("title"), plan.get("year"), plan.get("source"))
            if plan
            else None,
            undated=tuple(i for i in issues if i.undated),
            problems=tuple(i for i in issues if not i.undated),
        )

    def status(self, runs: int = 5) -> StatusReport:
        """Everything `syncsvc status` shows."""
        return StatusReport(
            state=str(self.path),
            schema_version=self.schema_version,
            runs=tuple(self.runs(runs)),
            calendars=tuple(self.calendars()),
        )


def open_state(where: Settings | Path) -> SqliteState:
    """The state store of these settings (or under this data directory)."""
    return SqliteState(state_path(where.data_dir if isinstance(where, Settings) else where))


def status(where: Settings | Path, runs: int = 5) -> StatusReport:
    """Status of the state store; an empty status if there is none yet (creates nothing)."""
    path = state_path(where.data_dir if isinstance(where, Settings) else where)
    if not path.exists():
        return StatusReport(state=str(path), schema_version=0)
    with SqliteState(path) as store:
        return store.status(runs)


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
