"""People edit the calendar while syncs run: an editor thread edits, moves and deletes owned
events and adds its own, straight to Radicale, at seeded points of each run's apply phase
(the engine's progress callback hands it a turn and waits for it, so the interleaving is
reproducible without sleeping). The plan wins for owned events after the next run; the
people's own events are never touched.
"""

from __future__ import annotations

import queue
import random
import re
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncsvc.engine.run import run_sync
from syncsvc.pipeline.ical import observe_ical
from syncsvc.settings import CalDAVCalendar
from syncsvc.state.memory import MemoryState
from tests import builders
from tests.reliability import compare, dav_objects, desired_for, edit_plan, synthetic_plan
from tests.servers import DavServer, calendar_path, server_config

pytestmark = [pytest.mark.servers, pytest.mark.slow]

NOW = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
SEED = 777
ROUNDS = 8
OWN = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Person//EN\r\nBEGIN:VEVENT\r\n"
    "UID:own-{n}@example.org\r\nDTSTAMP:20240101T090000Z\r\nDTSTART;VALUE=DATE:20240{m}10\r\n"
    "SUMMARY:Eget møte {n}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class Editor:
    """A person's calendar client on a thread; each turn is one seeded edit."""

    def __init__(self, server: DavServer, url: str, rng: random.Random) -> None:
        self.server, self.url, self.rng = server, url, rng
        self.turns: queue.Queue[bool] = queue.Queue()
        self.done: queue.Queue[str] = queue.Queue()
        self.own: set[str] = set()  # hrefs of the people's own events
        self.counts: Counter[str] = Counter()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def turn(self) -> str:
        """Called from the sync's progress callback: let the editor act, wait until it did."""
        self.turns.put(True)
        return self.done.get(timeout=30)

    def stop(self) -> None:
        self.turns.put(False)
        self.thread.join(10)

    def _loop(self) -> None:
        while self.turns.get():
            try:
                self.done.put(self._edit())
            except Exception as err:  # report on the sync's side
                self.done.put(f"error: {err!r}")

    def _edit(self) -> str:
        objects = dav_objects(self.server, self.url)
        owned = [h for h, d in objects.items() if observe_ical(d, remote_id=h) is not None]
        kind = self.rng.choice(("edit", "move", "delete", "add")) if owned else "add"
        base = self.server.url.rstrip("/")
        if kind == "add":
            n = len(self.own) + 1
            href = self.server.put_raw(
                self.url, f"own-{n}.ics", OWN.format(n=n, m=n % 9 + 1).encode()
            )
            self.own.add(href.removeprefix(base))
        else:
            href = self.rng.choice(owned)
            data = objects[href]
            with self.server.client() as http:
                if kind == "delete":
                    http.delete(base + href)
                else:
                    if kind == "edit":
                        data = data.replace(b"SUMMARY:", b"SUMMARY:Endret av Trine: ", 1)
                    else:
                        data = re.sub(rb"(DTSTART[^:\r\n]*):2024", rb"\1:2023", data, count=1)
                    http.put(base + href, content=data, headers={"Content-Type": "text/calendar"})
        self.counts[kind] += 1
        return kind


def test_people_editing_during_syncs_plan_wins_and_own_events_untouched(
    radicale: DavServer,
    tmp_path: Path,
) -> None:
    url = radicale.new_calendar("concurrent")
    settings = builders.settings(
        tmp_path,
        CalDAVCalendar(name="org", target="caldav", server="srv", url=calendar_path(radicale, url)),
        servers={"srv": server_config(radicale)},
        sync={"delete_threshold": 1.0},
    )
    rng = random.Random(SEED)
    plan, number = synthetic_plan(rng, 20), 20
    state = MemoryState()
    assert run_sync(settings, plan=plan, state=state, now=NOW).outcome == "ok"
    editor = Editor(radicale, url, random.Random(SEED + 1))
    own_bytes: dict[str, bytes] = {}
    conflicts = 0
    try:
        for round_ in range(ROUNDS):
            plan, number = edit_plan(plan, rng, number)
            edit_at = set(rng.sample(range(1, 8), 3))
            results: list[str] = []

            def progress(calendar: str, done: int, total: int) -> None:
                if done in edit_at or (done == total and not results):  # noqa: B023
                    results.append(editor.turn())  # noqa: B023

            report = run_sync(settings, plan=plan, state=state, now=NOW, progress=progress)
            assert report.outcome == "ok", (round_, report.calendars[0].error)
            assert results, round_  # the editor really acted during this run
            assert not [r for r in results if r.startswith("error")], results
            conflicts += report.calendars[0].conflicts
            objects = dav_objects(radicale, url)
            for href in editor.own:  # every own event, as the server first kept it, unchanged
                assert href in objects, (round_, href)
                own_bytes.setdefault(href, objects[href])
                assert objects[href] == own_bytes[href], (round_, href)
            assert not compare(objects, []).duplicates

            # The next run, with nobody editing: the plan wins for every owned event.
            settled = run_sync(settings, plan=plan, state=state, now=NOW)
            assert settled.outcome == "ok"
            objects = dav_objects(radicale, url)
            got = compare(
                {h: d for h, d in objects.items() if h not in editor.own},
                desired_for(settings, plan)["org"],
            )
            assert got.exact, (round_, got)
            assert all(objects[h] == own_bytes[h] for h in editor.own)
    finally:
        editor.stop()
    assert editor.counts["edit"] + editor.counts["move"] + editor.counts["delete"] >= 8
    assert editor.counts["add"] >= 2
    print(
        f"\nRELIABILITY concurrent: seed={SEED} rounds={ROUNDS} edits={dict(editor.counts)} "
        f"conflicts_given_up={conflicts}"
    )
