"""What a run *says* about partial, failed and faulted calendars, checked against what a real
server holds (listed directly, never through the proxy).

A fault proxy in front of Radicale and Xandikos places failures exactly (tests/faultrules.py):
an outage from the N-th write on, a write the server rejects, replies lost after the server
applied them, a failing closing sync-collection, replies cut short with a matching
Content-Length. A seeded random run (Radicale) adds the unplanned mix. For every change of
every run: "applied" means the server holds it; "not attempted" and a confirmed "failed" mean
the server still holds what it had before; only a failure marked `maybe_applied` (sent, no
answer, the re-read failed too) may go either way. The report, `status` (state store),
`--json` and the metrics give the same counts.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from syncsvc.domain.changes import (
    CalendarReport,
    ChangeKind,
    ChangeStatus,
    Outcome,
    RunReport,
)
from syncsvc.domain.plan import Plan
from syncsvc.engine.run import run_sync
from syncsvc.pipeline.ical import observe_ical
from syncsvc.settings import CalDAVCalendar, CalDAVServer, Settings
from syncsvc.state.sqlite import SqliteState, open_state, status
from syncsvc.targets.caldav import target as caldav_target
from syncsvc.targets.retry import RetryPolicy
from syncsvc.web.metrics import Metrics
from tests import builders
from tests.faultproxy import FaultPlan, FaultProxy
from tests.faultrules import Rule, Script
from tests.reliability import compare, dav_objects, desired_for, synthetic_plan
from tests.servers import DavServer, calendar_path

pytestmark = [pytest.mark.servers, pytest.mark.slow]

NOW = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)  # before every synthetic event
SEED = 2020
WRITES = ("PUT", "DELETE")
FOREIGN = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Person//Own client//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:own-1@example.org\r\nDTSTAMP:20240101T090000Z\r\n"
    b"DTSTART;VALUE=DATE:20240304\r\nDTEND;VALUE=DATE:20240305\r\n"
    b"SUMMARY:Tannlege (privat)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class Rig:
    """One calendar on a server behind a fault proxy driven by a Script (or a FaultPlan)."""

    def __init__(self, server: DavServer, data_dir: Path, plan: Script | FaultPlan) -> None:
        self.server = server
        self.url = server.new_calendar("truth")
        server.put_raw(self.url, "own-1.ics", FOREIGN)
        self.foreign = dav_objects(server, self.url)
        up = ("127.0.0.1", int(server.url.rstrip("/").rsplit(":", 1)[1]))
        self.proxy = FaultProxy(up, plan)
        self.data_dir = data_dir

    @property
    def script(self) -> Script:
        assert isinstance(self.proxy.plan, Script)
        return self.proxy.plan

    def settings(self, *, in_flight: int = 1) -> Settings:
        """One write at a time unless asked: where a fault lands is then exact (which write,
        which ones after it); `in_flight` > 1 is what a default configuration does."""
        return builders.settings(
            self.data_dir,
            CalDAVCalendar(
                name="org", target="caldav", server="srv", url=calendar_path(self.server, self.url)
            ),
            servers={"srv": self.server_settings().model_copy(update={"max_in_flight": in_flight})},
        )

    def server_settings(self) -> CalDAVServer:
        url = self.proxy.url + "/"
        if self.server.username is None:  # Xandikos runs without authentication
            return CalDAVServer(url=url, auth="none", timeout_seconds=5.0)
        return CalDAVServer(
            url=url,
            username=self.server.username,
            password=SecretStr(self.server.password or ""),
            timeout_seconds=5.0,
        )

    def held(self) -> dict[str, str | None]:
        """Owned events on the server: UID -> content hash."""
        found: dict[str, str | None] = {}
        for href, data in dav_objects(self.server, self.url).items():
            event = observe_ical(data, remote_id=href)
            if event is not None:
                found[event.uid] = event.actual_hash
        return found

    def foreign_intact(self) -> bool:
        objects = dav_objects(self.server, self.url)
        return all(objects.get(h) == d for h, d in self.foreign.items())


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries record their delays instead of sleeping."""
    delays: list[float] = []
    policy = RetryPolicy(attempts=4, sleep=delays.append, rand=random.Random(SEED).random)
    monkeypatch.setattr(caldav_target, "RETRY_POLICY", policy)
    return delays


@pytest.fixture
def rig(dav_server: DavServer, tmp_path: Path) -> Iterator[Rig]:
    built = Rig(dav_server, tmp_path, Script())
    with built.proxy:
        yield built


# --- the checks -----------------------------------------------------------------------------


def reflected(
    kind: ChangeKind, uid: str, held: Mapping[str, str | None], wanted: str | None
) -> bool:
    """Does the server show this change as made?"""
    if kind is ChangeKind.DELETE:
        return uid not in held
    return uid in held and held[uid] == wanted


def check_against_server(
    cal: CalendarReport,
    before: Mapping[str, str | None],
    after: Mapping[str, str | None],
    wanted: Mapping[str, str],
) -> Counter[str]:
    """Every change's status against the server; returns how many of each status were seen."""
    seen: Counter[str] = Counter()
    for change in cal.changes:
        if change.kind is ChangeKind.UNCHANGED:
            continue
        uid = change.uid
        made = reflected(change.kind, uid, after, wanted.get(uid))
        untouched = after.get(uid) == before.get(uid) and (uid in after) == (uid in before)
        if change.status is ChangeStatus.APPLIED:
            assert made, (change, after.get(uid))
            assert change.error is None
            seen["applied"] += 1
        elif change.status is ChangeStatus.FAILED and change.maybe_applied:
            assert change.error
            assert made or untouched, change
            seen["failed, maybe applied"] += 1
        else:
            assert untouched, (change, before.get(uid), after.get(uid))
            if change.status is ChangeStatus.FAILED:
                assert change.error, change
                seen["failed"] += 1
            else:
                assert change.status is ChangeStatus.NOT_ATTEMPTED
                assert change.error is None
                seen["not attempted"] += 1
    if cal.outcome is Outcome.OK:
        assert set(seen) <= {"applied"}, seen
    return seen


def wanted_hashes(settings: Settings, plan: Plan) -> dict[str, str]:
    return {e.uid: e.content_hash for e in desired_for(settings, plan)["org"]}


_SAMPLE = re.compile(r"^(\w+)\{([^}]*)\} (\S+)$")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Samples of one metric family from the exposition text, by sorted label pairs."""
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for line in text.splitlines():
        found = _SAMPLE.match(line)
        if found and found.group(1) == name:
            labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', found.group(2))))
            out[labels] = float(found.group(3))
    return out


def same_counts_everywhere(report: RunReport, store: SqliteState) -> dict[str, Any]:
    """The report, `--json`, `status` (runs and calendars) and the metrics agree."""
    cal = report.calendars[0]
    counts = cal.tally.as_dict()
    assert report.to_dict()["calendars"][0]["counts"] == counts
    store.record_run(report)
    data = status(store.path.parent)  # as `syncsvc status` reads it, on its own connection
    run = data.runs[0]
    assert run.run_id == report.run_id
    assert run.counts == report.tally
    calendar = next(c for c in data.calendars if c.name == "org")
    assert calendar.counts.as_dict() == counts
    assert calendar.outcome == cal.outcome.value
    metrics = Metrics()
    metrics.observe_run(report)
    text = metrics.render()
    changes = samples(text, "syncsvc_last_run_changes")
    for status_name in ("applied", "failed", "not_attempted"):
        for kind in ("create", "update", "delete"):
            key = (("calendar", "org"), ("kind", kind), ("status", status_name))
            assert changes.get(key, 0) == counts[status_name][kind], key
    applied = samples(text, "syncsvc_changes_total")
    assert applied[(("calendar", "org"), ("kind", "create"))] == counts["applied"]["create"]
    return counts


# --- scenarios --------------------------------------------------------------------------------


def test_an_outage_part_way_reports_exactly_the_writes_the_server_holds(
    rig: Rig, slept: list[float]
) -> None:
    settings = rig.settings()
    plan = synthetic_plan(random.Random(SEED), 30)
    wanted = wanted_hashes(settings, plan)
    assert len(wanted) > 30
    # From the 13th write on, nothing reaches the server: every request is dropped.
    rig.script.rules = [Rule("drop", methods=WRITES, after=12, times=None, then_all=True)]
    with open_state(settings) as store:
        before = rig.held()
        report = run_sync(settings, plan=plan, state=store, now=NOW)
        org = report.calendars[0]
        after = rig.held()
        assert org.outcome is Outcome.FAILED
        assert org.error
        assert "cannot reach" in org.error
        seen = check_against_server(org, before, after, wanted)
        assert seen["applied"] == 12 == len(after)
        assert seen["failed, maybe applied"] == 1  # the write in flight: no answer, no re-read
        assert seen["not attempted"] == len(wanted) - 13
        counts = same_counts_everywhere(report, store)
        assert counts["applied"]["create"] == 12
        assert counts["not_attempted"]["create"] == len(wanted) - 13
        assert report.exit_code == 6  # the only calendar failed

        # The outage ends: the next run writes exactly what was missing.
        rig.script.enabled = False
        again = run_sync(settings, plan=plan, state=store, now=NOW)
        org = again.calendars[0]
        assert org.outcome is Outcome.OK, org.error
        assert org.tally.applied.create == len(wanted) - 12
        assert compare(dav_objects(rig.server, rig.url), desired_for(settings, plan)["org"]).exact
        assert rig.foreign_intact()


def test_an_outage_with_writes_in_flight_reports_exactly_the_writes_the_server_holds(
    rig: Rig, slept: list[float]
) -> None:
    settings = rig.settings(in_flight=4)
    plan = synthetic_plan(random.Random(SEED), 30)
    wanted = wanted_hashes(settings, plan)
    rig.script.rules = [Rule("drop", methods=WRITES, after=12, times=None, then_all=True)]
    with open_state(settings) as store:
        report = run_sync(settings, plan=plan, state=store, now=NOW)
        org = report.calendars[0]
        after = rig.held()
        assert org.outcome is Outcome.FAILED
        seen = check_against_server(org, {}, after, wanted)  # each change against the server
        assert seen["applied"] == 12 == len(after)
        # The writes in flight when the outage began got no answer and no re-read; none
        # was started after the first of them failed.
        assert 1 <= seen["failed, maybe applied"] <= 4
        assert seen["not attempted"] == len(wanted) - 12 - seen["failed, maybe applied"]
        same_counts_everywhere(report, store)
        rig.script.enabled = False
        again = run_sync(settings, plan=plan, state=store, now=NOW)
        assert again.calendars[0].outcome is Outcome.OK, again.calendars[0].error
        assert again.calendars[0].tally.applied.create == len(wanted) - 12
        assert compare(dav_objects(rig.server, rig.url), desired_for(settings, plan)["org"]).exact
        assert rig.foreign_intact()


def test_updates_and_deletes_that_fail_part_way_are_reported_one_by_one(
    rig: Rig, slept: list[float]
) -> None:
    settings = rig.settings()
    rng = random.Random(SEED + 1)
    plan = synthetic_plan(rng, 24)
    with open_state(settings) as store:
        rig.script.enabled = False
        assert run_sync(settings, plan=plan, state=store, now=NOW).outcome == "ok"
        # Half the items move (updates), three go (deletes), two arrive (creates).
        items = list(plan.items)
        moved = [
            dataclasses.replace(i, title=f"{i.title} (flyttet)") if n % 2 else i
            for n, i in enumerate(items[:-3])
        ]
        edited = dataclasses.replace(
            plan, items=(*moved, *synthetic_plan(random.Random(SEED + 2), 2).items)
        )
        wanted = wanted_hashes(settings, edited)
        for after_writes in (0, 3, 7):
            rig.script.rules = [
                Rule("drop", methods=WRITES, after=after_writes, times=None, then_all=True)
            ]
            rig.script.enabled = True
            before = rig.held()
            report = run_sync(settings, plan=edited, state=store, now=NOW)
            org = report.calendars[0]
            seen = check_against_server(org, before, rig.held(), wanted)
            assert org.outcome is Outcome.FAILED
            assert seen["applied"] == after_writes
            kinds = {c.kind for c in org.changes if c.status is ChangeStatus.NOT_ATTEMPTED}
            assert kinds, seen
            same_counts_everywhere(report, store)
            # Put the calendar back where it was for the next placement of the outage.
            rig.script.enabled = False
            assert run_sync(settings, plan=plan, state=store, now=NOW).outcome == "ok"


def test_a_write_the_server_rejects_is_failed_and_confirmed_absent(
    rig: Rig, slept: list[float]
) -> None:
    settings = rig.settings()
    plan = synthetic_plan(random.Random(SEED + 3), 20)
    wanted = wanted_hashes(settings, plan)
    rig.script.rules = [Rule("415", methods=("PUT",), after=4, times=1)]
    with open_state(settings) as store:
        report = run_sync(settings, plan=plan, state=store, now=NOW)
        org = report.calendars[0]
        seen = check_against_server(org, {}, rig.held(), wanted)
        assert seen == Counter({"applied": 4, "failed": 1, "not attempted": len(wanted) - 5}), seen
        failed = next(c for c in org.changes if c.status is ChangeStatus.FAILED)
        assert failed.error
        assert "415" in failed.error
        assert not failed.maybe_applied  # the re-read showed it is not there
        same_counts_everywhere(report, store)


def test_replies_lost_after_the_server_applied_them_count_as_applied(
    rig: Rig, slept: list[float]
) -> None:
    settings = rig.settings()
    plan = synthetic_plan(random.Random(SEED + 4), 12)
    wanted = wanted_hashes(settings, plan)
    # Every PUT from the 3rd on reaches the server, but its answer never comes back.
    rig.script.rules = [Rule("lost_response", methods=("PUT",), after=2, times=None)]
    with open_state(settings) as store:
        report = run_sync(settings, plan=plan, state=store, now=NOW)
        org = report.calendars[0]
        seen = check_against_server(org, {}, rig.held(), wanted)
        assert org.outcome is Outcome.OK, org.error
        assert seen == Counter({"applied": len(wanted)})
        assert rig.script.rules[0].hits >= len(wanted) - 2
        same_counts_everywhere(report, store)


def test_a_failing_closing_sync_collection_is_ok_with_a_note(rig: Rig, slept: list[float]) -> None:
    settings = rig.settings()
    plan = synthetic_plan(random.Random(SEED + 5), 15)
    # The first sync-collection (reading) passes; every later one (after the writes) fails.
    rig.script.rules = [
        Rule("500", methods=("REPORT",), body_has=b"sync-collection", after=1, times=None)
    ]
    with open_state(settings) as store:
        report = run_sync(settings, plan=plan, state=store, now=NOW)
        org = report.calendars[0]
        assert rig.script.rules[0].hits >= 1  # the closing request really failed
        assert org.outcome is Outcome.OK, org.error
        assert org.error is None
        assert report.outcome == "ok"
        assert report.exit_code == 0
        assert any("sync token" in note for note in org.notes), org.notes
        assert compare(dav_objects(rig.server, rig.url), desired_for(settings, plan)["org"]).exact
        assert org.tally.applied.create == len(wanted_hashes(settings, plan))
        same_counts_everywhere(report, store)
        # The next run reads from the old token, recognises its own writes, finds nothing to do.
        rig.script.enabled = False
        quiet = run_sync(settings, plan=plan, state=store, now=NOW)
        assert quiet.outcome == "ok"
        assert quiet.calendars[0].tally.planned.total == 0


@pytest.mark.parametrize("fault", ["short", "junk"])
def test_a_cut_short_or_unparsable_reply_is_retried_within_the_budget(
    rig: Rig, slept: list[float], fault: str
) -> None:
    settings = rig.settings()
    plan = synthetic_plan(random.Random(SEED + 6), 8)
    # Once: the first sync-collection and the first multiget each come back unreadable.
    rig.script.rules = [
        Rule(fault, methods=("REPORT",), body_has=b"sync-collection", times=1),
        Rule(fault, methods=("REPORT",), body_has=b"calendar-multiget", times=1),
    ]
    with open_state(settings) as store:
        report = run_sync(settings, plan=plan, state=store, now=NOW)
        org = report.calendars[0]
        assert [r.hits for r in rig.script.rules] == [1, 1]
        assert org.outcome is Outcome.OK, org.error
        assert len(slept) >= 2  # two retries, with the usual backoff
        assert compare(dav_objects(rig.server, rig.url), desired_for(settings, plan)["org"]).exact

        # Unreadable every time: the calendar fails after the same number of tries as for
        # any other transient fault, and says why.
        # (A quiet run reads with one PROPFIND of the collection: that is what fails here.)
        rig.script.rules = [Rule(fault, methods=("REPORT", "PROPFIND"), times=None)]
        slept.clear()
        before = rig.proxy.requests
        failed = run_sync(settings, plan=plan, state=store, now=NOW).calendars[0]
        assert failed.outcome is Outcome.FAILED
        assert failed.error is not None
        assert "4 tries" in failed.error, failed.error
        assert "XML" in failed.error or "multistatus" in failed.error, failed.error
        assert rig.proxy.requests - before == 4
        assert len(slept) == 3


def test_seeded_faults_every_change_reported_as_the_server_holds_it(
    radicale: DavServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rates = {"drop": 0.08, "lost_response": 0.08, "500": 0.04, "503": 0.04, "truncate": 0.04}
    policy = RetryPolicy(attempts=2, sleep=lambda _s: None, rand=random.Random(SEED).random)
    monkeypatch.setattr(caldav_target, "RETRY_POLICY", policy)
    built = Rig(radicale, tmp_path, FaultPlan(seed=SEED, rates=rates))
    rng = random.Random(SEED)
    plan = synthetic_plan(rng, 20)
    settings = built.settings()
    totals: Counter[str] = Counter()
    partial_runs = 0
    with built.proxy, open_state(settings) as store:
        for run in range(12):
            if run:
                # Move a third of the items (updates), drop one, add two: a run with work.
                items = [
                    dataclasses.replace(i, title=f"{i.title} ({run})") if rng.random() < 0.33 else i
                    for i in plan.items[1:]
                ]
                extra = synthetic_plan(random.Random(SEED + run), 2).items
                extra = tuple(
                    dataclasses.replace(i, key=f"{i.key}-r{run}", title=f"Ny {run} {n}")
                    for n, i in enumerate(extra)
                )
                plan = dataclasses.replace(plan, items=(*items, *extra))
            wanted = wanted_hashes(settings, plan)
            before = built.held()
            report = run_sync(settings, plan=plan, state=store, now=NOW)
            org = report.calendars[0]
            seen = check_against_server(org, before, built.held(), wanted)
            totals.update(seen)
            if seen["applied"] and (seen["not attempted"] or seen["failed"]):
                partial_runs += 1
            same_counts_everywhere(report, store)
            assert built.foreign_intact()
    assert partial_runs >= 1, totals  # failures really landed part-way
    assert totals["applied"] > 0, totals
    assert totals["not attempted"] > 0, totals
    print(
        f"\nRELIABILITY report truth: seed={SEED} runs=12 requests={built.proxy.requests} "
        f"faults={dict(built.proxy.injected)} "
        f"changes={dict(totals)} partial_runs={partial_runs}"
    )
