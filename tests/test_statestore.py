"""SqliteState: TargetState round trips, migrations, run history, status, thread safety."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syncsvc.domain.changes import (
    CalendarReport,
    Change,
    ChangeKind,
    ChangeStatus,
    Outcome,
    RunReport,
)
from syncsvc.domain.errors import ConfigError, Where
from syncsvc.domain.events import ObservedEvent
from syncsvc.domain.plan import Plan, PlanItem, Problem, ProblemKind, Severity
from syncsvc.present.status import format_status
from syncsvc.state.sqlite import (
    MIGRATIONS,
    SqliteState,
    decode_when,
    encode_when,
    status,
)

OSLO = ZoneInfo("Europe/Oslo")


def _event(uid: str, start: date | datetime | None = None) -> ObservedEvent:
    return ObservedEvent(
        uid=uid,
        remote_id=f"{uid}.ics",
        etag='"e1"',
        stored_hash="abc",
        actual_hash="abd",
        sequence=3,
        start=start,
        end=start,
        marker=f"v2.{uid}",
    )


def _report(run_id: str, started: datetime, *, failed: bool = False) -> RunReport:
    org = CalendarReport(
        name="org",
        target="folder",
        changes=[
            Change(
                ChangeKind.CREATE,
                "u1",
                "Biblioteksjefmøte",
                date(2024, 4, 10),
                "new in plan",
                status=ChangeStatus.APPLIED,
            ),
            Change(ChangeKind.UNCHANGED, "u2", "Sommerles", date(2024, 6, 1), ""),
        ],
        requests=4,
    )
    other = CalendarReport(name="hva-skjer", target="caldav", requests=2)
    if failed:
        other.outcome = Outcome.FAILED
        other.error = "server said 503"
    return RunReport(
        run_id=run_id,
        started=started,
        finished=started + timedelta(seconds=2),
        plan_items=20,
        plan_undated=3,
        plan_problems=1,
        calendars=[org, other],
    )


def test_events_round_trip_with_dates_zones_and_tokens(tmp_path: Path) -> None:
    store = SqliteState(tmp_path / "s.sqlite3")
    events = {
        "a": _event("a", date(2024, 3, 7)),
        "b": _event("b", datetime(2024, 3, 31, 2, 30, tzinfo=OSLO)),
        "c": _event("c", datetime(2024, 3, 7, 9, tzinfo=UTC)),
        "d": _event("d", None),
    }
    store.save("org", "token-1", events)
    assert store.get_token("org") == "token-1"
    assert store.get_events("org") == events
    assert store.get_events("other") == {}
    assert store.get_token("other") is None
    # A save replaces the calendar's memory; other calendars are untouched.
    store.save("hva-skjer", None, {"x": _event("x")})
    store.save("org", "token-2", {"a": events["a"]})
    assert store.get_events("org") == {"a": events["a"]}
    assert store.get_token("org") == "token-2"
    assert set(store.get_events("hva-skjer")) == {"x"}
    store.close()
    # Persisted: a new store on the same file sees it.
    with SqliteState(tmp_path / "s.sqlite3") as again:
        assert again.get_events("org") == {"a": events["a"]}


def test_events_remembered_before_markers_were_kept_read_as_the_old_constant_marker(
    tmp_path: Path,
) -> None:
    with SqliteState(tmp_path / "s.sqlite3") as store:
        store.save("org", "t", {"a": _event("a"), "b": replace(_event("b"), marker=None)})
        (a, b) = (store.get_events("org")[k] for k in "ab")
    assert a.marker == "v2.a"
    assert b.marker == "syncsvc"  # a candidate for the one-time adoption, never plain "ours"


def test_zone_is_kept_not_only_the_offset() -> None:
    value = datetime(2024, 10, 27, 12, 0, tzinfo=OSLO)
    back = decode_when(encode_when(value))
    assert isinstance(back, datetime)
    assert back == value
    assert getattr(back.tzinfo, "key", None) == "Europe/Oslo"
    assert decode_when(encode_when(date(2024, 1, 16))) == date(2024, 1, 16)
    assert decode_when(None) is None


def test_schema_is_migrated_to_the_latest_version_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SqliteState(path) as store:
        assert store.schema_version == len(MIGRATIONS)
    with SqliteState(path) as store:
        assert store.schema_version == len(MIGRATIONS)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_partly_migrated_store_gets_the_remaining_migrations(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(f"{MIGRATIONS[0]}\nPRAGMA user_version = 1;")
    db.close()
    with SqliteState(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.plan_issues().problems == ()


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(ConfigError, match="newer than this syncsvc"):
        SqliteState(path)


def test_record_run_keeps_history_and_last_result_per_calendar(tmp_path: Path) -> None:
    store = SqliteState(tmp_path / "s.sqlite3")
    t0 = datetime(2024, 3, 1, 8, tzinfo=UTC)
    store.record_run(_report("r1", t0))
    store.record_run(_report("r2", t0 + timedelta(minutes=15), failed=True))
    dry = _report("r3", t0 + timedelta(minutes=30), failed=False)
    dry.dry_run = True
    store.record_run(dry)

    runs = store.runs(10)
    assert [r.run_id for r in runs] == ["r3", "r2", "r1"]
    assert runs[1].outcome == "partial"
    assert runs[1].errors == 1
    assert runs[2].counts.as_dict() == {
        "planned": {"create": 1, "update": 0, "delete": 0},
        "applied": {"create": 1, "update": 0, "delete": 0},
        "failed": {"create": 0, "update": 0, "delete": 0},
        "not_attempted": {"create": 0, "update": 0, "delete": 0},
        "unchanged": 1,
    }
    assert runs[2].requests == 6
    assert runs[2].duration_seconds == 2.0
    assert runs[2].plan_undated == 3
    # The dry run is history, but not the last real result.
    last = store.last_run(include_dry_runs=False)
    assert last is not None
    assert last.run_id == "r2"
    cals = {c.name: c for c in store.calendars()}
    assert cals["hva-skjer"].outcome == "failed"
    assert cals["hva-skjer"].error == "server said 503"
    # The last success survives a later failure.
    assert cals["hva-skjer"].last_success_at == t0 + timedelta(seconds=2)
    assert cals["hva-skjer"].to_json()["last_success_at"] == (t0 + timedelta(seconds=2)).isoformat()
    assert cals["org"].counts.applied.create == 1
    report = store.last_report()
    assert report is not None
    assert report["run_id"] == "r2"


def test_plan_issues_replace_the_previous_plans(tmp_path: Path) -> None:
    store = SqliteState(tmp_path / "s.sqlite3")
    undated = PlanItem(key="v/opprette-programrad", title="Opprette programråd", date_text="?")
    problem = Problem(
        ProblemKind.UNKNOWN_PERSON,
        Severity.WARNING,
        "unknown person 'Edel'",
        where=Where("arsplan.txt", 17),
        item_key="v/opprette-programrad",
    )
    plan = Plan(title="Årsplan 2024", year=2024, items=(undated,), problems=(problem,))
    store.record_plan(plan)
    store.record_plan(plan)
    issues = store.plan_issues()
    assert issues.plan is not None
    assert issues.plan.year == 2024
    assert [i.title for i in issues.undated] == ["Opprette programråd"]
    assert issues.problems[0].where == "arsplan.txt:17"
    assert issues.problems[0].title == "Opprette programråd"


def test_status_and_its_text_form(tmp_path: Path) -> None:
    assert status(tmp_path).runs == ()
    assert "No runs recorded yet." in format_status(status(tmp_path))
    with SqliteState(tmp_path / "state.sqlite3") as store:
        store.record_run(_report("r1", datetime(2024, 3, 1, 8, tzinfo=UTC), failed=True))
        store.save("org", None, {"a": _event("a")})
    data = status(tmp_path)
    assert data.runs[0].run_id == "r1"
    text = format_status(data)
    assert "partial" in text
    assert "server said 503" in text
    assert "1 event" in text
    assert "1 events" not in text
    assert "3 undated" in text


def test_parallel_saves_from_threads_do_not_interfere(tmp_path: Path) -> None:
    store = SqliteState(tmp_path / "s.sqlite3")
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(30):
                store.save(f"cal{n}", f"t{i}", {f"u{i}": _event(f"u{i}")})
                store.get_events(f"cal{n}")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(store.get_token(f"cal{n}") == "t29" for n in range(6))
    assert all(set(store.get_events(f"cal{n}")) == {"u29"} for n in range(6))


def test_stores_opened_at_once_migrate_the_new_file_once(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    barrier = threading.Barrier(4)
    versions: list[int] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            with SqliteState(path) as store:
                versions.append(store.schema_version)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert versions == [len(MIGRATIONS)] * 4
