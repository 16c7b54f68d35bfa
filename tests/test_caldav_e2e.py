"""The engine against real CalDAV servers: org, person and public calendars on Radicale,
Xandikos, Cyrus and DAViCal, through a plan edit, a person's own event, a person's edit, a
no-op run, a wrong password and a server that is down. On Cyrus each calendar lives in its
owner's account and is shared with the sync account (the layout where Cyrus's one-UID-per-
account rule does not meet the same occurrence in three calendars)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from syncsvc.domain.changes import ChangeKind, Outcome, RunReport
from syncsvc.domain.plan import Occurrence, Person, Plan, PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.settings import CalDAVCalendar, CalDAVServer, Settings
from syncsvc.state.memory import MemoryState
from syncsvc.targets.caldav import target as caldav_target
from syncsvc.targets.retry import RetryPolicy
from tests import builders
from tests.servers import DavServer, calendar_path, server_config
from tests.servers_cyrus import CyrusServer
from tests.target_contract import FOREIGN

pytestmark = pytest.mark.servers

OSLO = ZoneInfo("Europe/Oslo")
ALICE = "alice@example.org"
NOW = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)  # before every event: nothing is "past"
KINDS = ("org", "person", "public")
SELECTORS = {"org": "org", "person": f"person:{ALICE}", "public": "public"}


def item(
    key: str, title: str, start: date | datetime, end: date | datetime, **kw: object
) -> PlanItem:
    return PlanItem(key=key, title=title, occurrences=(Occurrence(start=start, end=end),), **kw)  # type: ignore[arg-type]


STYRE = item("v24/styremote", "Styremøte", date(2024, 3, 4), date(2024, 3, 5), people=(ALICE,))
APEN = item("v24/apen-dag", "Åpen dag", date(2024, 4, 10), date(2024, 4, 11), public=True)
PERSONAL = item(
    "v24/personalmote",
    "Personalmøte",
    datetime(2024, 5, 6, 14, 0, tzinfo=OSLO),
    datetime(2024, 5, 6, 15, 30, tzinfo=OSLO),
    people=(ALICE,),
)
SOMMER = item("v24/sommer", "Sommeravslutning", date(2024, 6, 14), date(2024, 6, 15), public=True)
HOST = item(
    "h24/hostmote", "Høstmøte", date(2024, 9, 2), date(2024, 9, 3), people=(ALICE,), public=True
)

PEOPLE = (Person(name="Alice Aas", email=ALICE),)
PLAN_1 = Plan(title="Årsplan 2024", year=2024, items=(STYRE, APEN, PERSONAL, SOMMER), people=PEOPLE)
MOVED = replace(STYRE, occurrences=(Occurrence(start=date(2024, 3, 11), end=date(2024, 3, 12)),))
PLAN_2 = replace(PLAN_1, items=(MOVED, APEN, PERSONAL, HOST))  # moved, removed, new


class World:
    """Six calendars (org, person, public on each server) and the settings naming them."""

    def __init__(
        self, servers: dict[str, DavServer], data_dir: Path, *, shared: bool = True
    ) -> None:
        self.servers = servers
        self.urls = {
            f"{kind}-{key}": (
                server.shared_calendar(kind)
                if isinstance(server, CyrusServer) and shared
                else server.new_calendar(kind)
            )
            for key, server in servers.items()
            for kind in KINDS
        }
        self.data_dir = data_dir
        self.state = MemoryState()

    def settings(self, **server_overrides: CalDAVServer) -> Settings:
        calendars = tuple(
            CalDAVCalendar(
                name=name,
                target="caldav",
                server=name.split("-")[1],
                url=calendar_path(self.servers[name.split("-")[1]], url),
                selector=SELECTORS[name.split("-")[0]],
                audience="public" if name.startswith("public") else "staff",
            )
            for name, url in self.urls.items()
        )
        servers = {key: server_config(s) for key, s in self.servers.items()}
        servers.update(server_overrides)
        return builders.settings(self.data_dir, *calendars, servers=servers)

    def run(self, plan: Plan, settings: Settings | None = None) -> RunReport:
        return run_sync(settings or self.settings(), plan=plan, state=self.state, now=NOW)

    def hrefs(self, name: str) -> list[str]:
        server = self.servers[name.split("-")[1]]
        return server.list_hrefs(self.urls[name])

    def read(self, name: str, href: str) -> bytes | None:
        server = self.servers[name.split("-")[1]]
        return server.get_raw(server.url.rstrip("/") + href)


@pytest.fixture
def world(
    radicale: DavServer,
    xandikos: DavServer,
    cyrus: CyrusServer,
    davical: DavServer,
    tmp_path: Path,
) -> World:
    servers = {"rad": radicale, "xan": xandikos, "cyr": cyrus, "dav": davical}
    return World(servers, tmp_path)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(caldav_target, "RETRY_POLICY", RetryPolicy(attempts=2, sleep=slept.append))
    return slept


def changes(report: RunReport) -> dict[str, set[tuple[str, str]]]:
    """Applied changes per calendar as (kind, summary)."""
    return {
        c.name: {
            (ch.kind.value, ch.summary) for ch in c.changes if ch.kind is not ChangeKind.UNCHANGED
        }
        for c in report.calendars
    }


def test_plan_edits_reach_every_calendar_exactly(world: World) -> None:
    first = world.run(PLAN_1)
    assert first.outcome == "ok", [c.error for c in first.calendars]
    counts = {c.name: len(world.hrefs(c.name)) for c in first.calendars}
    for key in world.servers:
        assert counts[f"org-{key}"] == 4
        assert counts[f"person-{key}"] == 2  # Styremøte, Personalmøte
        assert counts[f"public-{key}"] == 2  # Åpen dag, Sommeravslutning

    # A person's own event lives in the org calendars: never touched.
    own = {}
    for key, server in world.servers.items():
        href = server.put_raw(world.urls[f"org-{key}"], "own-event.ics", FOREIGN)
        own[key] = (href, server.get_raw(href))

    second = world.run(PLAN_2)
    assert second.outcome == "ok"
    got = changes(second)
    for key in world.servers:
        assert got[f"org-{key}"] == {
            ("update", "Styremøte"),
            ("delete", "Sommeravslutning"),
            ("create", "Høstmøte"),
        }
        assert got[f"person-{key}"] == {("update", "Styremøte"), ("create", "Høstmøte")}
        assert got[f"public-{key}"] == {("delete", "Sommeravslutning"), ("create", "Høstmøte")}
        href, before = own[key]
        assert world.servers[key].get_raw(href) == before
        assert len(world.hrefs(f"org-{key}")) == 5  # 4 ours + the person's own
    assert all(
        ch.applied
        for c in second.calendars
        for ch in c.changes
        if ch.kind is not ChangeKind.UNCHANGED
    )
    # The moved event kept its identity (updated in place, not recreated) with SEQUENCE 1.
    styre = world.state.get_events("org-xan")
    moved = next(e for e in styre.values() if e.summary == "Styremøte")
    assert moved.start == date(2024, 3, 11)
    assert moved.sequence == 1


def test_a_persons_edit_is_restored_and_a_quiet_run_is_cheap(world: World) -> None:
    assert world.run(PLAN_1).outcome == "ok"
    for key in world.servers:
        name = f"org-{key}"
        event = next(e for e in world.state.get_events(name).values() if e.summary == "Åpen dag")
        data = world.read(name, event.remote_id)
        assert data is not None
        server = world.servers[key]
        folder, file = event.remote_id.rsplit("/", 1)
        server.put_raw(
            server.url.rstrip("/") + folder + "/",
            file,
            data.replace(b"SUMMARY:", b"SUMMARY:Avlyst "),
        )

    third = world.run(PLAN_1)
    assert third.outcome == "ok"
    for key in world.servers:
        report = next(c for c in third.calendars if c.name == f"org-{key}")
        edits = [ch for ch in report.changes if ch.kind is ChangeKind.UPDATE]
        assert [(ch.summary, ch.reason, ch.applied) for ch in edits] == [
            ("Åpen dag", "edited in calendar: restored", True)
        ]
        assert report.restored == 1
        restored = next(
            e for e in world.state.get_events(f"org-{key}").values() if e.summary == "Åpen dag"
        )
        data = world.read(f"org-{key}", restored.remote_id)
        assert data is not None
        assert b"Avlyst" not in data

    quiet = world.run(PLAN_1)
    assert quiet.outcome == "ok"
    for report in quiet.calendars:
        assert report.tally.planned.total == 0
        assert 1 <= report.requests <= 2, (report.name, report.requests)


def test_wrong_password_fails_its_calendars_only(world: World) -> None:
    rad = world.servers["rad"]
    wrong = CalDAVServer(url=rad.url, username=rad.username, password=SecretStr("wrong-horse"))
    report = world.run(PLAN_1, world.settings(rad=wrong))
    assert report.outcome == "partial"
    for c in report.calendars:
        if c.name.endswith("-rad"):
            assert c.outcome is Outcome.FAILED
            assert c.error is not None
            assert "401" in c.error
            assert "refused access" in c.error
            assert "wrong-horse" not in c.error
            assert world.hrefs(c.name) == []  # nothing written
        else:
            assert c.outcome is Outcome.OK
            assert world.hrefs(c.name)


def test_a_server_down_fails_its_calendars_only(
    world: World,
    dead_url: str,
    no_sleep: list[float],
) -> None:
    down = CalDAVServer(url=dead_url, username="alice", password=SecretStr("pw-not-shown"))
    report = world.run(PLAN_1, world.settings(rad=down))
    assert report.outcome == "partial"
    failed = {c.name: c.error or "" for c in report.calendars if c.outcome is Outcome.FAILED}
    assert set(failed) == {"org-rad", "person-rad", "public-rad"}
    for error in failed.values():
        assert dead_url in error
        assert "pw-not-shown" not in error
    assert {len(world.hrefs(f"{k}-xan")) for k in KINDS} == {4, 2}
    assert no_sleep  # it retried (bounded) before giving up


def test_a_dry_run_leaves_no_trace_in_the_state(world: World) -> None:
    assert world.run(PLAN_1).outcome == "ok"
    name = "org-rad"
    event = next(e for e in world.state.get_events(name).values() if e.summary == "Åpen dag")
    server = world.servers["rad"]
    server.delete_raw(server.url.rstrip("/") + event.remote_id)
    token, remembered = world.state.get_token(name), world.state.get_events(name)

    dry = run_sync(world.settings(), plan=PLAN_1, state=world.state, now=NOW, dry_run=True)
    assert dry.outcome == "ok"
    assert world.state.get_token(name) == token  # not advanced by the dry run
    assert world.state.get_events(name) == remembered

    real = world.run(PLAN_1)
    report = next(c for c in real.calendars if c.name == name)
    assert [(c.summary, c.reason) for c in report.changes if c.kind is ChangeKind.CREATE] == [
        ("Åpen dag", "deleted in calendar: restored")
    ]


def test_an_event_whose_markers_a_client_dropped_fails_its_calendar_by_name(
    world: World,
) -> None:
    """A client rewrote one of our events without the X-SYNCSVC-* properties: it is not ours
    to overwrite any more, so every run fails that calendar, naming the event, and leaves it
    as the client wrote it (no second copy next to it)."""
    assert world.run(PLAN_1).outcome == "ok"
    stripped = {}
    for key, server in world.servers.items():
        name = f"org-{key}"
        event = next(e for e in world.state.get_events(name).values() if e.summary == "Åpen dag")
        data = world.read(name, event.remote_id)
        assert data is not None
        lines = data.replace(b"\r\n ", b"").split(b"\r\n")
        kept = b"\r\n".join(line for line in lines if not line.startswith(b"X-SYNCSVC-"))
        # The person also edited it (Cyrus keeps a sharee's dropped X- properties otherwise).
        kept = kept.replace(b"SUMMARY:", b"SUMMARY:(flyttet) ")
        folder, file = event.remote_id.rsplit("/", 1)
        server.put_raw(server.url.rstrip("/") + folder + "/", file, kept)
        stripped[key] = (event.remote_id, world.read(name, event.remote_id))

    for _ in range(2):  # it does not resolve by itself: the same on the next run
        report = world.run(PLAN_1)
        assert report.outcome == "partial"
        for key in world.servers:
            org = next(c for c in report.calendars if c.name == f"org-{key}")
            assert org.outcome is Outcome.FAILED, (key, org.outcome)
            assert org.error is not None
            assert "Åpen dag" in org.error, org.error
            assert "without syncsvc's marker" in org.error, org.error
            assert all(c.outcome is Outcome.OK for c in report.calendars if c.name[:3] != "org")
            href, before = stripped[key]
            assert world.read(f"org-{key}", href) == before
            assert len(world.hrefs(f"org-{key}")) == 4  # no second copy


def test_cyrus_with_every_calendar_in_one_account(cyrus: CyrusServer, tmp_path: Path) -> None:
    """Cyrus allows a UID once per account. With org, person and public calendars in the
    sync account itself, the same occurrence lands in three calendars: calendar-scoped UIDs
    make that three different UIDs, so every calendar syncs (this run exited 7 before)."""
    world = World({"cyr": cyrus}, tmp_path, shared=False)
    assert all(
        url.startswith(cyrus.url.rstrip("/") + cyrus.calendar_home) for url in world.urls.values()
    )
    first = world.run(PLAN_1)
    assert first.outcome == "ok", [c.error for c in first.calendars]
    assert {c.name: len(world.hrefs(c.name)) for c in first.calendars} == {
        "org-cyr": 4,
        "person-cyr": 2,
        "public-cyr": 2,
    }
    uids = [set(world.state.get_events(c.name)) for c in first.calendars]
    assert not set.intersection(*uids)  # Styremøte is in org and person under two UIDs
    second = world.run(PLAN_2)
    assert second.outcome == "ok", [c.error for c in second.calendars]
    assert changes(second)["person-cyr"] == {("update", "Styremøte"), ("create", "Høstmøte")}
    quiet = world.run(PLAN_2)
    assert all(c.requests == 1 for c in quiet.calendars), [c.requests for c in quiet.calendars]
