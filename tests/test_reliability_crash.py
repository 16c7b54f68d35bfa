"""kill -9 in the middle of a large initial sync, again and again, for CalDAV and the folder.

Each trial forks a child that runs the real CLI (`syncsvc sync`: settings file, plan file,
SQLite state store) and SIGKILLs itself at a seeded point: before or after the N-th HTTP
request reaches Radicale (after: the server applied it, the client never learned), or in the
folder target before a write, with a half-written temp file, with the temp file complete but not
yet renamed, or right after the rename. Progress is counted in the child, not guessed from time.
After every kill the calendar may be incomplete but never wrong: no duplicate UID, no torn or
unreadable `.ics`, no event with content other than the plan's, the state store opens. The
trials continue the same initial sync until a child finishes; that run must leave the calendar
exactly as planned, and a following run must find nothing to do.
"""

from __future__ import annotations

import functools
import os
import random
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from syncsvc.cli import main as cli
from syncsvc.domain.changes import ChangeKind
from syncsvc.engine.run import run_sync
from syncsvc.plan.load import PlanSourceSpec, load_plan
from syncsvc.settings import Settings, load_settings
from syncsvc.state.sqlite import open_state
from syncsvc.targets.caldav.http import DavHttp
from syncsvc.targets.folder.target import FolderTarget
from tests.reliability import activity_list, compare, dav_objects, desired_for, folder_objects
from tests.servers import DavServer, calendar_path

pytestmark = pytest.mark.slow

SEED = 4242
EVENTS = 300
MIN_KILLS = 20
CHILD_DEADLINE = 120.0  # seconds; a hung child is killed and the test fails
YEAR = date.today().year + 1  # the CLI uses the real clock: keep every event in the future


@dataclass
class Tally:
    kills: int = 0
    where: dict[str, int] = field(default_factory=dict)
    events: int = 0
    duplicates: int = 0
    lost: int = 0
    temp_files: int = 0


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _hook_caldav(kill_at: int, where: str) -> None:
    original = DavHttp._send
    count = 0
    counting = threading.Lock()  # writes in flight send from several threads

    def send(self: DavHttp, method: str, url: str, body: bytes, headers: Any) -> Any:
        nonlocal count
        with counting:  # each request its own number: an unlocked += could skip kill_at
            count += 1
            mine = count
        if mine == kill_at and where == "before-request":
            _die()
        reply = original(self, method, url, body, headers)
        if mine == kill_at:
            _die()  # the server applied it; the client never hears back
        return reply

    DavHttp._send = send  # type: ignore[method-assign]


def _hook_folder(kill_at: int, where: str) -> None:
    write_temp, sync_dir = FolderTarget._write_temp, FolderTarget._sync_dir
    count = 0

    def temp(self: FolderTarget, data: bytes) -> str:
        nonlocal count
        count += 1
        if count == kill_at and where == "before-write":
            _die()
        if count == kill_at and where == "torn-temp":
            fd, _ = tempfile.mkstemp(dir=self.path, prefix=".syncsvc-", suffix=".tmp")
            os.write(fd, data[: len(data) // 2])
            _die()
        name = write_temp(self, data)
        if count == kill_at and where == "temp-written":
            _die()
        return name

    def synced(self: FolderTarget) -> None:
        sync_dir(self)
        if count == kill_at and where == "after-rename":
            _die()

    FolderTarget._write_temp = temp  # type: ignore[method-assign]
    FolderTarget._sync_dir = synced  # type: ignore[method-assign]


def run_child(config: Path, hook: Callable[[], None] | None) -> bool:
    """Run `syncsvc sync` in a forked child; True if it was SIGKILLed, False if it finished."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            if hook is not None:
                hook()
            code = cli.main(["--config", str(config), "--log-level", "error", "sync", "--json"])
        finally:
            os._exit(code)
    guard = threading.Timer(CHILD_DEADLINE, os.kill, (pid, signal.SIGKILL))
    guard.start()
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        guard.cancel()
        guard.join()
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, f"sync child exited {os.WEXITSTATUS(status)}"
    return False


def write_plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.txt"
    path.write_text(activity_list(random.Random(SEED), EVENTS, YEAR), encoding="utf-8")
    return path


def desired_of(config: Path) -> tuple[Settings, list[Any]]:
    settings = load_settings(config)
    plan = load_plan(PlanSourceSpec(location=settings.plan_location(), format="activity-list"))
    return settings, desired_for(settings, plan)["org"]


def crash_until_done(
    config: Path,
    read: Callable[[], dict[str, bytes]],
    hook: Callable[[int, str], None],
    places: tuple[str, ...],
    max_step: int,
) -> Tally:
    settings, desired = desired_of(config)
    rng = random.Random(SEED)
    tally = Tally(events=len(desired))
    while True:
        kill_at, where = rng.randint(1, max_step), rng.choice(places)
        killed = run_child(config, functools.partial(hook, kill_at, where))
        got = compare(read(), desired)
        tally.duplicates += len(got.duplicates)
        assert not got.duplicates, (tally.kills, got.duplicates)
        assert not got.unreadable, (tally.kills, got.unreadable)
        assert not got.wrong, (tally.kills, got.wrong)  # no half-written event
        assert not got.extra, (tally.kills, got.extra)
        with open_state(settings) as state:  # opens and reads after every kill
            remembered = set(state.get_events("org"))
        present = {e.uid for e in desired} - set(got.missing)
        assert remembered <= present
        if not killed:
            break
        tally.kills += 1
        tally.where[where] = tally.where.get(where, 0) + 1
    assert tally.kills >= MIN_KILLS, tally
    assert got.exact, got  # the run that finished converged
    tally.lost = len(got.missing)
    with open_state(settings) as state:
        assert set(state.get_events("org")) == {e.uid for e in desired}
        quiet = run_sync(settings, dry_run=True, state=state)
    org = quiet.calendars[0]
    assert org.count(ChangeKind.UNCHANGED) == len(desired)
    assert len(org.changes) == len(desired)
    return tally


@pytest.mark.servers
def test_caldav_initial_sync_survives_repeated_kill_9(
    radicale: DavServer,
    tmp_path: Path,
) -> None:
    url = radicale.new_calendar("crash")
    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f'[plan]\nsource = "{write_plan(tmp_path)}"\nformat = "activity-list"\n'
        f'[sync]\ndata_dir = "{tmp_path / "var"}"\n'
        f'[servers.srv]\nurl = "{radicale.url}"\nusername = "{radicale.username}"\n'
        f'password = "{radicale.password}"\ntimeout_seconds = 10\n'
        f'[[calendars]]\nname = "org"\ntarget = "caldav"\nserver = "srv"\n'
        f'url = "{calendar_path(radicale, url)}"\n'
        '[feed]\ncalendar = ""\n',
        encoding="utf-8",
    )
    tally = crash_until_done(
        config,
        lambda: dav_objects(radicale, url),
        _hook_caldav,
        ("before-request", "after-request"),
        # Writes run up to max_in_flight at once, so a child gets further per request
        # counted than a one-by-one sync: kill earlier to keep MIN_KILLS kill points.
        max_step=16,
    )
    print(f"\nRELIABILITY crash caldav: seed={SEED} {tally}")


def test_folder_initial_sync_survives_repeated_kill_9(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "calendars" / "org"
    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f'[plan]\nsource = "{write_plan(tmp_path)}"\nformat = "activity-list"\n'
        f'[sync]\ndata_dir = "{tmp_path / "var"}"\n'
        '[[calendars]]\nname = "org"\ntarget = "folder"\npath = "calendars/org"\n'
        '[[calendars]]\nname = "pub"\ntarget = "folder"\npath = "calendars/pub"\n'
        'selector = "org"\naudience = "public"\n'
        '[feed]\ncalendar = "pub"\npath = "public/feed.ics"\n',
        encoding="utf-8",
    )
    tally = crash_until_done(
        config,
        lambda: folder_objects(folder),
        _hook_folder,
        ("before-write", "torn-temp", "temp-written", "after-rename"),
        max_step=24,
    )
    tally.temp_files = len(list(folder.glob(".syncsvc-*.tmp")))
    feed = tmp_path / "var" / "public" / "feed.ics"
    assert feed.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert feed.read_bytes().rstrip().endswith(b"END:VCALENDAR")
    print(f"\nRELIABILITY crash folder: seed={SEED} {tally}")
