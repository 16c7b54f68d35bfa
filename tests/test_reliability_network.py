"""Network faults between syncsvc's CalDAV target and a real Radicale.

A seeded fault proxy (tests/faultproxy.py) sits in front of Radicale and drops connections,
loses responses after the server applied the request, answers 500/503/429 (Retry-After 0 or 1,
recorded instead of slept) and sends slow or truncated replies. Many seeded runs with plan
edits between them; after every run no UID may exist twice and the people's own events must be
byte-identical; a calendar the run reports as synced must hold exactly that run's plan. A
final clean run must converge to the plan exactly. The numbers go to docs/RELIABILITY.md.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from syncsvc.domain.changes import Outcome, RunReport
from syncsvc.engine.run import run_sync
from syncsvc.settings import CalDAVCalendar, CalDAVServer, Settings
from syncsvc.state.sqlite import SqliteState, open_state
from syncsvc.targets.caldav import target as caldav_target
from syncsvc.targets.retry import RetryPolicy
from tests import builders
from tests.faultproxy import FaultPlan, FaultProxy
from tests.reliability import compare, dav_objects, desired_for, edit_plan, synthetic_plan
from tests.servers import DavServer, calendar_path

pytestmark = [pytest.mark.servers, pytest.mark.slow]

NOW = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)  # before every synthetic event
SEED = 20240917
RUNS = 50
ITEMS = 30
RATES = {
    "drop": 0.03,
    "lost_response": 0.05,
    "500": 0.03,
    "503": 0.03,
    "429": 0.03,
    "slow": 0.02,
    "truncate": 0.03,
}
FOREIGN = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Person//Own client//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:own-%d@example.org\r\nDTSTAMP:20240101T090000Z\r\n"
    b"DTSTART;VALUE=DATE:202403%02d\r\nDTEND;VALUE=DATE:202403%02d\r\n"
    b"SUMMARY:Tannlege %d (privat)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class Rig:
    """Two calendars (org, public) on one Radicale, each behind its own seeded fault proxy."""

    def __init__(self, server: DavServer, data_dir: Path, seed: int) -> None:
        self.server = server
        self.urls = {"org": server.new_calendar("net-org"), "pub": server.new_calendar("net-pub")}
        up = ("127.0.0.1", int(server.url.rstrip("/").rsplit(":", 1)[1]))
        self.proxies = {
            name: FaultProxy(
                up,
                FaultPlan(seed=seed + i, rates=RATES, retry_after=("0", "1")[i], slow_seconds=0.02),
            )
            for i, name in enumerate(self.urls)
        }
        self.data_dir = data_dir
        self.foreign: dict[str, dict[str, bytes]] = {}
        for name, url in self.urls.items():
            for n in (1, 2):
                server.put_raw(url, f"own-{n}.ics", FOREIGN % (n, n + 3, n + 4, n))
            # As the server keeps them (it may reformat what a client sent).
            self.foreign[name] = dav_objects(server, url)
            assert len(self.foreign[name]) == 2

    def settings(self) -> Settings:
        servers = {
            name: CalDAVServer(
                url=proxy.url + "/",
                username=self.server.username,
                password=SecretStr(self.server.password or ""),
                timeout_seconds=5.0,
            )
            for name, proxy in self.proxies.items()
        }
        calendars = (
            CalDAVCalendar(
                name="org",
                target="caldav",
                server="org",
                url=calendar_path(self.server, self.urls["org"]),
            ),
            CalDAVCalendar(
                name="pub",
                target="caldav",
                server="pub",
                url=calendar_path(self.server, self.urls["pub"]),
                selector="public",
                audience="public",
            ),
        )
        return builders.settings(self.data_dir, *calendars, servers=servers)

    def objects(self, name: str) -> dict[str, bytes]:
        return dav_objects(self.server, self.urls[name])

    def foreign_intact(self, name: str, objects: dict[str, bytes]) -> bool:
        return all(objects.get(h) == d for h, d in self.foreign[name].items())

    def faults(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for proxy in self.proxies.values():
            total.update(proxy.injected)
        return total

    def set_faults(self, enabled: bool) -> None:
        for proxy in self.proxies.values():
            proxy.plan.enabled = enabled


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries record their delays instead of sleeping (Retry-After included)."""
    delays: list[float] = []
    policy = RetryPolicy(attempts=4, sleep=delays.append, rand=random.Random(SEED).random)
    monkeypatch.setattr(caldav_target, "RETRY_POLICY", policy)
    return delays


@pytest.fixture
def rig(radicale: DavServer, tmp_path: Path) -> Iterator[Rig]:
    built = Rig(radicale, tmp_path, SEED)
    for proxy in built.proxies.values():
        proxy.__enter__()
    yield built
    for proxy in built.proxies.values():
        proxy.__exit__()


def test_seeded_faults_never_duplicate_or_lose_and_a_clean_run_converges(
    rig: Rig, slept: list[float]
) -> None:
    rng = random.Random(SEED)
    plan = synthetic_plan(rng, ITEMS)
    number = ITEMS
    settings = rig.settings()
    state: SqliteState = open_state(settings)
    outcomes: Counter[str] = Counter()
    duplicates_seen: set[str] = set()
    for run in range(RUNS):
        if run:
            plan, number = edit_plan(plan, rng, number)
        report: RunReport = run_sync(settings, plan=plan, state=state, now=NOW)
        state.record_run(report)
        desired = desired_for(settings, plan)
        for cal in report.calendars:
            outcomes[cal.outcome.value] += 1
            objects = rig.objects(cal.name)
            assert rig.foreign_intact(cal.name, objects), (run, cal.name)
            got = compare(objects, desired[cal.name])
            duplicates_seen.update(got.duplicates)
            assert not got.duplicates, (run, cal.name, got.duplicates)
            assert not got.unreadable, (run, cal.name, got.unreadable)
            if cal.outcome is Outcome.OK and not cal.conflicts:
                # A calendar reported synced holds exactly this run's plan.
                assert got.exact, (run, cal.name, got)
            else:
                assert cal.outcome in (Outcome.OK, Outcome.FAILED), (run, cal.outcome)

    faults = rig.faults()
    assert sum(faults.values()) >= RUNS  # the faults really happened
    assert {"drop", "lost_response", "500", "503", "429", "truncate"} <= set(faults)
    # Retry-After 0 and 1 were honoured (recorded, not slept); jittered backoff never hits them.
    assert 1.0 in slept
    assert 0.0 in slept

    rig.set_faults(False)
    final = run_sync(settings, plan=plan, state=state, now=NOW)
    assert final.outcome == "ok", [c.error for c in final.calendars]
    desired = desired_for(settings, plan)
    lost = 0
    for name in rig.urls:
        objects = rig.objects(name)
        assert rig.foreign_intact(name, objects)
        got = compare(objects, desired[name])
        lost += len(got.missing)
        assert got.exact, (name, got)
        assert desired[name]  # both calendars hold something
    quiet = run_sync(settings, plan=plan, state=state, now=NOW)
    assert all(c.tally.planned.total == 0 for c in quiet.calendars)
    state.close()
    print(
        f"\nRELIABILITY network: seed={SEED} runs={RUNS} requests="
        f"{sum(p.requests for p in rig.proxies.values())} faults={dict(sorted(faults.items()))} "
        f"outcomes={dict(outcomes)} retries_slept={len(slept)} "
        f"duplicates={len(duplicates_seen)} lost={lost}"
    )
