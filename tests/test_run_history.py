"""Run history tells the truth about runs that did not finish.

A run is in the history from its start (outcome "running") and records each change as the
target confirms it, so a run killed with SIGKILL shows in `syncsvc status` as "did not finish"
with exactly what it had applied by then. A run still going (in this process or another) is
"running", never "did not finish": liveness is a lock the running process holds, not a guess
from the clock.
"""

from __future__ import annotations

import functools
import json
import random
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from syncsvc.cli.main import main as cli_main
from syncsvc.domain.changes import RunReport
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.engine.run import run_sync
from syncsvc.settings import HttpSettings, Settings, load_settings
from syncsvc.state.sqlite import open_state, status
from syncsvc.targets import registry
from syncsvc.targets.folder.target import FolderTarget
from syncsvc.web import WebContext, make_server, serve_in_thread
from syncsvc.web.metrics import Metrics
from tests.reliability import activity_list, dav_objects, folder_objects, uids_in
from tests.servers import DavServer, calendar_path
from tests.test_reliability_crash import _hook_caldav, _hook_folder, run_child

from tests.servers import dav_server, radicale, xandikos  # noqa: F401  isort: skip

SEED = 2021
EVENTS = 40
YEAR = datetime.now(UTC).year + 1  # the CLI uses the real clock: keep every event ahead
DEADLINE = 30.0  # seconds a test thread may take to reach its checkpoint
IN_FLIGHT = 4  # CalDAV writes in flight at once per calendar in the kill test


def folder_config(tmp_path: Path) -> Path:
    plan = tmp_path / "plan.txt"
    plan.write_text(activity_list(random.Random(SEED), EVENTS, YEAR), encoding="utf-8")
    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f'[plan]\nsource = "{plan}"\nformat = "activity-list"\n'
        f'[sync]\ndata_dir = "{tmp_path / "var"}"\n'
        '[[calendars]]\nname = "org"\ntarget = "folder"\npath = "calendars/org"\n'
        '[feed]\ncalendar = ""\n',
        encoding="utf-8",
    )
    return config


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = cli_main(list(args))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else out


def held_uids(tmp_path: Path) -> set[str]:
    objects = folder_objects(tmp_path / "var" / "calendars" / "org")
    return {uid for data in objects.values() for uid in uids_in(data)}


@pytest.mark.parametrize(
    ("kill_at", "where"), [(1, "before-write"), (9, "torn-temp"), (17, "after-rename")]
)
def test_kill_9_mid_run_then_status_shows_the_unfinished_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kill_at: int, where: str
) -> None:
    config = folder_config(tmp_path)
    killed = run_child(config, functools.partial(_hook_folder, kill_at, where))
    assert killed
    held = held_uids(tmp_path)
    # Killed before its k-th write reached the folder, or right after it (not yet recorded).
    assert len(held) == (kill_at if where == "after-rename" else kill_at - 1)
    recorded = kill_at - 1

    code, data = cli_json(capsys, "--config", str(config), "status", "--json")
    assert code == 0
    run = data["runs"][0]
    assert run["outcome"] == "unfinished"
    assert run["started"]
    assert run["finished"] is None
    assert run["counts"]["applied"]["create"] == recorded
    assert run["counts"]["planned"]["create"] == EVENTS
    assert run["counts"]["not_attempted"]["create"] == EVENTS - recorded
    org = next(c for c in data["calendars"] if c["name"] == "org")
    assert org["outcome"] == "unfinished"
    assert org["counts"]["applied"]["create"] == recorded

    code, text = cli_json(capsys, "--config", str(config), "status")
    assert "did not finish" in text
    assert f"applied {recorded} create" in text, text

    # The next run finishes the work; the history keeps the unfinished run as it was.
    code, report = cli_json(capsys, "--config", str(config), "sync", "--json")
    assert code == 0, report
    assert report["calendars"][0]["counts"]["applied"]["create"] == EVENTS - len(held)
    _, data = cli_json(capsys, "--config", str(config), "status", "--json")
    assert [r["outcome"] for r in data["runs"][:2]] == ["ok", "unfinished"]
    assert data["runs"][1]["run_id"] == run["run_id"]
    assert data["runs"][1]["counts"] == run["counts"]
    org = next(c for c in data["calendars"] if c["name"] == "org")
    assert org["outcome"] == "ok"
    assert org["events"] == EVENTS
    assert held_uids(tmp_path)
    assert len(held_uids(tmp_path)) == EVENTS


class _Gate(FolderTarget):
    """A folder that stops before its third create until the test lets it go on."""

    reached = threading.Event()
    release = threading.Event()
    creates = 0

    def create(self, event: DesiredEvent) -> ObservedEvent:
        type(self).creates += 1
        if type(self).creates == 3:
            type(self).reached.set()
            assert type(self).release.wait(DEADLINE)
        return super().create(event)


def test_a_run_still_going_is_running_not_unfinished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: Settings = load_settings(folder_config(tmp_path))
    original = registry.open_target

    def opener(calendar: Any, s: Settings, state: Any) -> Any:
        if calendar.name != "org":
            return original(calendar, s, state)
        return _Gate(calendar.name, s.data_path(calendar.path))

    monkeypatch.setattr(registry, "open_target", opener)
    store = open_state(settings)
    result: list[RunReport] = []
    worker = threading.Thread(
        target=lambda: result.append(run_sync(settings, state=store, journal=store, run_id="live"))
    )
    worker.start()
    try:
        assert _Gate.reached.wait(DEADLINE)
        # Another reader (as `syncsvc status` in another process) sees a live run.
        live = status(settings).runs[0]
        assert live.run_id == "live"
        assert live.outcome == "running"
        assert live.counts.applied.create == 2
    finally:
        _Gate.release.set()
        worker.join(DEADLINE)
    assert not worker.is_alive()
    store.record_run(result[0])
    done = status(settings).runs[0]
    assert done.run_id == "live"
    assert done.outcome == "ok"
    assert done.counts.applied.create == EVENTS
    assert done.finished is not None
    store.close()


def test_a_cli_run_that_cannot_read_its_plan_is_in_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = folder_config(tmp_path)
    (tmp_path / "plan.txt").unlink()
    assert cli_main(["--config", str(config), "sync"]) == 4
    _, data = cli_json(capsys, "--config", str(config), "status", "--json")
    run = data["runs"][0]
    assert run["outcome"] == "failed"
    assert "plan.txt" in (run["error"] or "")
    assert run["finished"] is not None


def test_the_admin_endpoint_shows_the_unfinished_run_with_the_same_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = folder_config(tmp_path)
    assert run_child(config, functools.partial(_hook_folder, 6, "temp-written"))
    _, data = cli_json(capsys, "--config", str(config), "status", "--json")
    token = "admin-token-for-the-history-test-0123"
    settings = load_settings(config).model_copy(
        update={"http": HttpSettings(port=0, admin_token=SecretStr(token))}
    )
    with open_state(settings) as store:
        httpd = make_server(WebContext(settings, store=store))
        thread = serve_in_thread(httpd)
        try:
            url = f"http://127.0.0.1:{httpd.server_address[1]}/admin/status"
            body = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(DEADLINE)
    assert body["runs"][0]["outcome"] == "unfinished"
    assert body["runs"][0]["counts"] == data["runs"][0]["counts"]
    assert body["runs"][0]["counts"]["applied"]["create"] == 5
    assert body["calendars"] == data["calendars"]
    assert body["ready"] is False  # the last run did not finish
    assert "unfinished" in body["readiness"]
    assert body["last_report"]["outcome"] == "unfinished"


def test_a_dead_run_is_swept_once_and_counted_in_the_metrics(tmp_path: Path) -> None:
    config = folder_config(tmp_path)
    assert run_child(config, functools.partial(_hook_folder, 3, "before-write"))
    with open_state(load_settings(config)) as store:
        swept = store.sweep()
        assert len(swept) == 1
        run_id, dry_run = swept[0]
        assert not dry_run
        assert store.sweep() == []  # recorded as unfinished: nothing left to find
        assert store.runs(1)[0].run_id == run_id
    metrics = Metrics()
    metrics.unfinished(dry_run=dry_run)
    assert 'syncsvc_runs_total{dry_run="false",outcome="unfinished"} 1' in metrics.render()


@pytest.mark.servers
@pytest.mark.parametrize("where", ["before-request", "after-request"])
def test_kill_9_mid_caldav_run_then_status_shows_what_the_server_got(
    dav_server: DavServer,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    url = dav_server.new_calendar("history")
    plan = tmp_path / "plan.txt"
    plan.write_text(activity_list(random.Random(SEED), 20, YEAR), encoding="utf-8")
    auth = (
        f'username = "{dav_server.username}"\npassword = "{dav_server.password}"\n'
        if dav_server.username
        else 'auth = "none"\n'
    )
    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f'[plan]\nsource = "{plan}"\nformat = "activity-list"\n'
        f'[sync]\ndata_dir = "{tmp_path / "var"}"\n'
        f'[servers.srv]\nurl = "{dav_server.url}"\n{auth}timeout_seconds = 10\n'
        f"max_in_flight = {IN_FLIGHT}\n"
        f'[[calendars]]\nname = "org"\ntarget = "caldav"\nserver = "srv"\n'
        f'url = "{calendar_path(dav_server, url)}"\n'
        '[feed]\ncalendar = ""\n',
        encoding="utf-8",
    )
    assert run_child(config, functools.partial(_hook_caldav, 9, where))
    held = {uid for data in dav_objects(dav_server, url).values() for uid in uids_in(data)}
    _, data = cli_json(capsys, "--config", str(config), "status", "--json")
    run = data["runs"][0]
    assert run["outcome"] == "unfinished"
    applied = run["counts"]["applied"]["create"]
    # Every write the run recorded is on the server; at most those in flight are not recorded.
    assert applied <= len(held) <= applied + IN_FLIGHT, (applied, sorted(held))
    assert applied > 0
    assert run["counts"]["planned"]["create"] == 20
