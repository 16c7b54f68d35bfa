"""The daemon: one sync at a time with coalesced triggers, plan watch, failures survived,
graceful SIGTERM, and an end-to-end run of the real engine on the seed plan."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import icalendar
import pytest

from syncsvc.domain.changes import CalendarReport, RunReport
from syncsvc.domain.errors import ConfigError, PlanError
from syncsvc.domain.plan import Plan
from syncsvc.service.daemon import DaemonInfo, PlanWatch, SyncRunner, expected_period, run_daemon
from syncsvc.settings import HttpSettings, Settings, SyncSettings
from syncsvc.state.base import TargetState
from syncsvc.state.records import RunRecord, SyncStatus
from syncsvc.state.sqlite import status
from tests import builders

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 60.0  # generous upper bound for any wait; tests normally finish in well under it


def wait_for(condition: Callable[[], bool], timeout: float = DEADLINE, every: float = 0.05) -> bool:
    """Poll `condition` until true or the deadline; the condition is the synchronisation."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(every)
    return condition()


def replace_text(path: Path, text: str) -> None:
    """Write a file the way careful editors do: a temporary file renamed over it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)


# --- SyncRunner --------------------------------------------------------------------------------
def test_triggers_during_a_run_coalesce_into_exactly_one_more() -> None:
    gate = threading.Event()
    started = threading.Semaphore(0)
    seen: list[tuple[str, ...]] = []

    def run_once(reasons: tuple[str, ...]) -> None:
        seen.append(reasons)
        started.release()
        if len(seen) == 1:
            assert gate.wait(DEADLINE)

    runner = SyncRunner(run_once)
    runner.start()
    try:
        runner.trigger("startup")
        assert started.acquire(timeout=DEADLINE)
        results = [runner.trigger(r) for r in ("admin", "plan-changed", "admin", "schedule")]
        assert [r.coalesced for r in results] == [False, True, True, True]
        assert all(r.running for r in results)
        gate.set()
        assert runner.wait_idle(DEADLINE)
        assert seen == [("startup",), ("admin", "plan-changed", "schedule")]
        assert runner.status() == SyncStatus(running=False, pending=False, runs=2)
    finally:
        runner.stop(DEADLINE)


def test_stop_lets_the_current_run_finish_and_drops_the_pending_one() -> None:
    gate = threading.Event()
    began = threading.Event()
    finished: list[str] = []

    def run_once(reasons: tuple[str, ...]) -> None:
        began.set()
        assert gate.wait(DEADLINE)
        finished.append(reasons[0])

    runner = SyncRunner(run_once)
    runner.start()
    runner.trigger("first")
    assert began.wait(DEADLINE)
    runner.trigger("second")
    stopper = threading.Thread(target=runner.stop, args=(DEADLINE,))
    stopper.start()
    gate.set()
    stopper.join(DEADLINE)
    assert finished == ["first"]
    late = runner.trigger("late")
    assert late.queued is False
    assert late.reason == "shutting down"


def test_a_crashing_run_does_not_kill_the_worker() -> None:
    calls: list[int] = []

    def run_once(reasons: tuple[str, ...]) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    runner = SyncRunner(run_once)
    runner.start()
    try:
        runner.trigger("a")
        assert runner.wait_runs(1, DEADLINE)
        runner.trigger("b")
        assert runner.wait_runs(2, DEADLINE)
        assert len(calls) == 2
    finally:
        runner.stop(DEADLINE)


def test_cron_period_and_bad_cron() -> None:
    hourly = Settings(sync=SyncSettings(cron="0 * * * *"))
    assert expected_period(hourly, datetime(2024, 3, 1, 8, 30, tzinfo=UTC)) == timedelta(hours=1)
    assert expected_period(Settings()) == timedelta(minutes=15)
    with pytest.raises(ConfigError, match=r"sync\.cron"):
        expected_period(Settings(sync=SyncSettings(cron="not a cron")))


def test_plan_watch_waits_for_the_file_to_settle_and_ignores_identical_bytes(
    tmp_path: Path,
) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("Sommerles\t1.juni\n")
    watch = PlanWatch(builders.settings(tmp_path / "var", plan=plan))
    assert watch.changed() == []
    plan.write_text("Sommerles\t8.juni\n")
    assert watch.changed() == []  # just moved: settling
    assert watch.changed() == [str(plan)]
    assert watch.changed() == []
    os.utime(plan, ns=(1, 1))  # touched, same bytes
    assert watch.changed() == []
    assert watch.changed() == []
    plan.write_text("Sommerles\t8.juni\nBiblioteksjefmøte\t10.- 11. april\n")
    assert watch.changed() == []
    plan.write_text("Sommerles\t8.juni\nBiblioteksjefmøte\t10.- 11. april\nmore\n")
    assert watch.changed() == []  # still being written: moved again
    assert watch.changed() == [str(plan)]


# --- run_daemon in a thread with a stand-in engine --------------------------------------------
class FakeEngine:
    """Records runs; the first run can be held at a gate; the plan can be made unreadable."""

    def __init__(self, plan_file: Path) -> None:
        self.plan_file = plan_file
        self.gate = threading.Event()
        self.gate.set()
        self.running = threading.Event()
        self.plans: list[str] = []
        self.forced: list[bool] = []
        self.dry_runs: list[bool] = []

    def load_plan(self, settings: Settings) -> Plan:
        text = self.plan_file.read_text()
        if "BROKEN" in text:
            raise PlanError("no table found", where=None)
        return Plan(title="Årsplan", year=2024, items=(), source=text.strip())

    def sync(
        self,
        settings: Settings,
        *,
        plan: Plan | None = None,
        state: TargetState | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> RunReport:
        assert plan is not None
        assert state is not None
        self.forced.append(force)
        self.dry_runs.append(dry_run)
        self.running.set()
        assert self.gate.wait(DEADLINE)
        self.plans.append(plan.source)
        return RunReport(
            run_id=run_id or "x",
            started=datetime.now(UTC),
            finished=datetime.now(UTC),
            plan_source=plan.source,
            calendars=[CalendarReport(name="org", target="folder")],
        )


class DaemonThread:
    def __init__(
        self, tmp: Path, *, token: str | None = "tok-daemon-test-admin-token-0000001"
    ) -> None:
        self.plan_file = tmp / "plan.txt"
        self.plan_file.write_text("version 1\n")
        self.engine = FakeEngine(self.plan_file)
        self.settings = builders.settings(
            tmp / "var",
            plan=self.plan_file,
            sync={"interval_minutes": 60},
            http=HttpSettings(port=0, admin_token=token),  # type: ignore[arg-type]
        )
        self.reports: queue.Queue[RunReport] = queue.Queue()
        self.stop = threading.Event()
        self.info: queue.Queue[DaemonInfo] = queue.Queue()
        self.code: list[int] = []
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        self.code.append(
            run_daemon(
                self.settings,
                stop=self.stop,
                on_run=self.reports.put,
                sync=self.engine.sync,
                load_plan=self.engine.load_plan,
                on_start=self.info.put,
                watch_seconds=0.05,
            )
        )

    def start(self) -> DaemonInfo:
        self.thread.start()
        return self.info.get(timeout=DEADLINE)

    def next_report(self) -> RunReport:
        return self.reports.get(timeout=DEADLINE)

    def finish(self) -> int:
        self.stop.set()
        self.thread.join(DEADLINE)
        assert not self.thread.is_alive()
        return self.code[0]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonThread]:
    d = DaemonThread(tmp_path)
    yield d
    if d.thread.is_alive():
        d.engine.gate.set()
        d.finish()


def test_daemon_syncs_at_start_and_when_the_plan_changes(daemon: DaemonThread) -> None:
    info = daemon.start()
    assert info.ready_within == timedelta(hours=2)
    first = daemon.next_report()
    assert first.plan_source == "version 1"
    assert first.outcome == "ok"
    replace_text(daemon.plan_file, "version 2, a date moved\n")
    second = daemon.next_report()
    assert second.plan_source == "version 2, a date moved"
    assert daemon.finish() == 0
    runs = status(daemon.settings).runs
    assert [r.run_id for r in runs] == [second.run_id, first.run_id]


def test_a_failed_run_is_recorded_and_the_daemon_keeps_going(daemon: DaemonThread) -> None:
    daemon.plan_file.write_text("BROKEN\n")
    info = daemon.start()
    failed = daemon.next_report()
    assert failed.outcome == "failed"
    assert failed.error == "no table found"
    assert info.http_address is not None
    base = f"http://{info.http_address[0]}:{info.http_address[1]}"
    assert httpx.get(f"{base}/readyz").status_code == 503
    replace_text(daemon.plan_file, "fixed\n")
    ok = daemon.next_report()
    assert ok.outcome == "ok"
    assert httpx.get(f"{base}/readyz").status_code == 200
    assert daemon.finish() == 0
    assert [r.outcome for r in status(daemon.settings).runs] == ["ok", "failed"]


def test_admin_triggers_during_a_run_give_exactly_one_more_run(daemon: DaemonThread) -> None:
    daemon.engine.gate.clear()  # hold the first run
    info = daemon.start()
    assert info.http_address is not None
    base = f"http://{info.http_address[0]}:{info.http_address[1]}"
    auth = {"Authorization": "Bearer tok-daemon-test-admin-token-0000001"}
    assert daemon.engine.running.wait(DEADLINE)
    answers = [httpx.post(f"{base}/admin/sync", headers=auth) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json()["coalesced"] for a in answers] == [False, True, True]
    daemon.engine.gate.set()
    daemon.next_report()
    daemon.next_report()

    def idle() -> bool:
        sync = httpx.get(f"{base}/admin/status", headers=auth).json()["sync"]
        return not sync["running"] and not sync["pending"]

    assert wait_for(idle)
    assert httpx.get(f"{base}/admin/status", headers=auth).json()["sync"]["runs"] == 2
    assert daemon.reports.empty()
    assert daemon.finish() == 0


def test_port_in_use_is_a_config_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        settings = builders.settings(tmp_path, http=HttpSettings(port=busy.getsockname()[1]))
        with pytest.raises(ConfigError, match="cannot listen"):
            run_daemon(settings, sync=lambda *a, **k: None, load_plan=lambda s: None)  # type: ignore[arg-type, return-value]


# --- SIGTERM on a real process ---------------------------------------------------------------
SIGTERM_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from syncsvc.service.daemon import run_daemon
    from syncsvc.domain.plan import Plan
    from syncsvc.domain.changes import RunReport
    from syncsvc.settings import HttpSettings, Settings, SyncSettings

    work = Path(sys.argv[1])
    runs = 0

    def sync(settings, *, plan=None, state=None, run_id=None, dry_run=False, force=False):
        global runs
        runs += 1
        (work / f"started-{runs}").touch()
        while not (work / "release").exists():  # a slow sync, held by the test
            time.sleep(0.02)
        (work / f"finished-{runs}").touch()
        now = datetime.now(UTC)
        return RunReport(run_id=run_id, started=now, finished=now)

    settings = Settings(
        sync=SyncSettings(data_dir=str(work / "var")), http=HttpSettings(enabled=False)
    )
    code = run_daemon(settings, sync=sync, load_plan=lambda s: Plan("p", 2024, ()))
    (work / "exited").write_text(str(code))
    sys.exit(code)
    """
)


def test_sigterm_lets_the_running_sync_finish_and_exits_0(tmp_path: Path) -> None:
    script = tmp_path / "daemon.py"
    script.write_text(SIGTERM_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=ROOT, env=env)
    try:
        assert wait_for(lambda: (tmp_path / "started-1").exists() or proc.poll() is not None)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        (tmp_path / "release").touch()
        assert proc.wait(DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (tmp_path / "finished-1").exists()
    assert not (tmp_path / "started-2").exists()
    assert (tmp_path / "exited").read_text() == "0"


# --- end to end: the real engine, the CLI, the seed plan --------------------------------------
def _ended(data: Path) -> list[RunRecord]:
    return [r for r in status(data).runs if r.outcome != "running"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _events(folder: Path) -> dict[str, icalendar.Event]:
    found: dict[str, icalendar.Event] = {}
    for file in folder.glob("*.ics"):
        for ev in icalendar.Calendar.from_ical(file.read_bytes()).walk("VEVENT"):
            if isinstance(ev, icalendar.Event):
                found[str(ev["UID"])] = ev
    return found


def _start_of(events: dict[str, icalendar.Event], title: str) -> list[date]:
    out = []
    for ev in events.values():
        if str(ev["SUMMARY"]) == title:
            start = ev.decoded("DTSTART")
            out.append(start.date() if isinstance(start, datetime) else start)
    return sorted(out)


@pytest.mark.slow
def test_daemon_end_to_end_with_the_real_engine(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    shutil.copy(ROOT / "config" / "arsplan-2024.txt", config_dir / "arsplan-2024.txt")
    for extra in ("overrides.toml",):
        if (ROOT / "config" / extra).exists():
            shutil.copy(ROOT / "config" / extra, config_dir / extra)
    port = _free_port()
    toml = (ROOT / "config" / "syncsvc.toml").read_text()
    toml = toml.replace("port = 8080", f"port = {port}")
    assert f"port = {port}" in toml
    (config_dir / "syncsvc.toml").write_text(toml)
    data = tmp_path / "var"
    plan = config_dir / "arsplan-2024.txt"
    title = "Oppstartsmøte «Livslang lesing»"
    line = next(x for x in plan.read_text().splitlines() if x.startswith(title))
    assert "\t7. mars\t" in line

    env = {**os.environ, "SYNCSVC_LOGGING__FORMAT": "json", "PYTHONPATH": str(ROOT)}
    env.pop("SYNCSVC_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncsvc", "--config", str(config_dir / "syncsvc.toml"), "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # A run is in the history from its start ("running"): wait for one that has ended.
        assert wait_for(lambda: bool(_ended(data)) or proc.poll() is not None)
        if proc.poll() is not None:
            pytest.fail(f"the daemon exited early:\n{proc.communicate()[0].decode()}")
        first = _ended(data)[0]
        assert first.outcome == "ok", first
        assert first.counts.applied.create > 0
        org = data / "calendars" / "org"
        assert _start_of(_events(org), title) == [date(2024, 3, 7)]
        uid_before = {u for u, e in _events(org).items() if str(e["SUMMARY"]) == title}
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/hva-skjer.ics").status_code == 200

        plan.write_text(plan.read_text().replace(line, line.replace("\t7. mars\t", "\t14. mars\t")))

        def moved() -> bool:
            return len(_ended(data)) >= 2 and _start_of(_events(org), title) == [date(2024, 3, 14)]

        assert wait_for(moved)
        second = _ended(data)[0]
        assert second.counts.applied.update >= 1
        assert second.counts.applied.create == 0
        # A moved date updates the event in place: same UID.
        assert {u for u, e in _events(org).items() if str(e["SUMMARY"]) == title} == uid_before

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate(timeout=DEADLINE)[0].decode(errors="replace")
    assert "daemon.stopped" in output


def test_seed_config_and_plan_exist() -> None:
    # The end-to-end test depends on these; fail loudly if they move.
    assert (ROOT / "config" / "syncsvc.toml").exists()
    assert (ROOT / "config" / "arsplan-2024.txt").exists()


def test_only_the_admin_pages_force_trigger_passes_force(tmp_path: Path) -> None:
    from syncsvc.service.daemon import _run_and_record
    from syncsvc.state.sqlite import SqliteState
    from syncsvc.web.admin_ui import FORCE_REASON
    from syncsvc.web.metrics import Metrics

    plan = tmp_path / "plan.txt"
    plan.write_text("Sommerles\t8.juni\n")
    engine = FakeEngine(plan)
    settings = builders.settings(tmp_path)
    store = SqliteState(tmp_path / "state.sqlite3")
    try:
        for reasons in [("schedule",), ("plan-changed", "admin"), (FORCE_REASON,)]:
            _run_and_record(settings, engine.sync, engine.load_plan, store, Metrics(), reasons)
    finally:
        store.close()
    assert engine.forced == [False, False, True]
    assert engine.dry_runs == [False, False, False]


def test_the_admin_pages_preview_is_a_dry_run_of_the_current_plan(tmp_path: Path) -> None:
    from syncsvc.service.daemon import _preview
    from syncsvc.state.sqlite import SqliteState

    plan = tmp_path / "plan.txt"
    plan.write_text("Sommerles\t8.juni\n")
    engine = FakeEngine(plan)
    store = SqliteState(tmp_path / "state.sqlite3")
    try:
        report = _preview(
            builders.settings(tmp_path),
            engine.sync,
            engine.load_plan,
            store,
        )
        assert store.runs() == []  # nothing recorded
    finally:
        store.close()
    assert engine.dry_runs == [True]
    assert engine.forced == [False]
    assert report["plan_source"] == "Sommerles\t8.juni"
