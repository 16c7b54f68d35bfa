"""Calendars that do not exist yet: created on the first write when the server allows it
(`create_calendars`), never by a dry run; a clear error otherwise. Real servers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from syncsvc.domain.changes import ChangeKind, Outcome
from syncsvc.domain.plan import Occurrence, Plan, PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.settings import CalDAVCalendar, Settings
from syncsvc.state.memory import MemoryState
from tests import builders
from tests.servers import SERVERS, DavServer, open_caldav, server_config
from tests.target_contract import event

NOW = datetime(2024, 1, 1, tzinfo=UTC)
PLAN = Plan(
    title="Årsplan 2024",
    year=2024,
    items=tuple(
        PlanItem(
            key=f"varen-2024/mote-{n}",
            title=f"Møte {n}",
            occurrences=(Occurrence(date(2024, 3, n), date(2024, 3, n + 1)),),
        )
        for n in range(1, 4)
    ),
)


def settings(server: DavServer, url: str, tmp_path: Path, *, create: bool) -> Settings:
    config = server_config(server).model_copy(update={"create_calendars": create})
    calendar = CalDAVCalendar(name="ny", target="caldav", server="dav", url=url)
    return builders.settings(tmp_path, calendar, servers={"dav": config})


def exists(server: DavServer, path: str) -> bool:
    with server.client() as http:
        reply = http.request(
            "PROPFIND",
            path,
            content=b'<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>',
            headers={"Depth": "0", "Content-Type": "application/xml"},  # Cyrus: 415 without
        )
    # Xandikos answers a PROPFIND on a missing path with 207 holding a 404 status.
    return reply.status_code == 207 and " 404 " not in reply.text


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> DavServer:
    found: DavServer = request.getfixturevalue(request.param)
    return found


def test_missing_calendar_is_made_on_the_first_write_not_by_a_dry_run(
    server: DavServer, tmp_path: Path
) -> None:
    path = f"{server.calendar_home}made-by-syncsvc-{tmp_path.name}/"
    config = settings(server, path, tmp_path, create=True)
    state = MemoryState()

    dry = run_sync(config, plan=PLAN, state=state, now=NOW, dry_run=True)
    (cal,) = dry.calendars
    assert cal.outcome is Outcome.PLANNED, cal.error
    assert cal.count(ChangeKind.CREATE) == 3
    assert not exists(server, path)

    real = run_sync(config, plan=PLAN, state=state, now=NOW)
    (cal,) = real.calendars
    assert cal.outcome is Outcome.OK, cal.error
    assert all(c.applied for c in cal.changes)
    assert exists(server, path)
    assert len(server.list_hrefs(server.url.rstrip("/") + path)) == 3

    again = run_sync(config, plan=PLAN, state=state, now=NOW)
    (cal,) = again.calendars
    assert cal.count(ChangeKind.CREATE) == 0
    assert cal.count(ChangeKind.UNCHANGED) == 3


def test_missing_calendar_without_permission_to_create_is_a_clear_error(
    server: DavServer, tmp_path: Path
) -> None:
    path = f"{server.calendar_home}not-there-{tmp_path.name}/"
    report = run_sync(settings(server, path, tmp_path, create=False), plan=PLAN, now=NOW)
    (cal,) = report.calendars
    assert cal.outcome is Outcome.FAILED
    assert cal.error is not None
    assert "calendar not found" in cal.error
    assert not exists(server, path)


def test_an_empty_calendar_is_made_with_its_display_name_and_colour(
    server: DavServer, tmp_path: Path
) -> None:
    # Nothing in the plan belongs to this calendar (a person with no events yet): a real run
    # still makes it, named and coloured as people will see it.
    path = f"{server.calendar_home}tom-{tmp_path.name}/"
    config = settings(server, path, tmp_path, create=True)
    (cal,) = config.calendars
    named = cal.model_copy(
        update={
            "selector": "item:varen-2024/mote-1 and not org",
            "display_name": "Årsplan — Edel Olsen",
            "color": "#6B4E9B",
        }
    )
    config = config.model_copy(update={"calendars": (named,)})
    report = run_sync(config, plan=PLAN, state=MemoryState(), now=NOW)
    (result,) = report.calendars
    assert result.outcome is Outcome.OK, result.error
    assert result.changes == []
    assert exists(server, path)
    with server.client() as http:
        reply = http.request(
            "PROPFIND",
            path,
            content=(
                b'<propfind xmlns="DAV:" xmlns:I="http://apple.com/ns/ical/"><prop>'
                b"<displayname/><I:calendar-color/></prop></propfind>"
            ),
            headers={"Depth": "0", "Content-Type": "application/xml"},
        )
    assert reply.status_code == 207
    assert "Årsplan — Edel Olsen" in reply.text
    assert "#6B4E9B" in reply.text.upper()


def test_a_calendar_made_meanwhile_by_someone_else_is_used(
    server: DavServer, tmp_path: Path
) -> None:
    """Missing when read, made by someone else before our first write: our MKCALENDAR meets
    an existing calendar (405, or Cyrus's 403 DAV:resource-must-be-null) and we write into it."""
    path = f"{server.calendar_home}meanwhile-{tmp_path.name[-10:]}/"
    target = open_caldav(server, server.url.rstrip("/") + path, MemoryState(), create=True)
    assert dict(target.observe()) == {}
    server.new_calendar_at(path, "meanwhile")
    created = target.create(event("m1@test"))
    target.close()
    assert created.remote_id.startswith(path)
    assert any(n.startswith("found calendar") for n in target.stats.notes)  # not "created"
    assert len(server.list_hrefs(server.url.rstrip("/") + path)) == 1
