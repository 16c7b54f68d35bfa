"""When a server refuses something, the message names the DAV precondition it gave, and a
calendar URL with percent-encoded characters that a server refuses says so. Real servers
(each refuses different characters), plus the parsing on bodies shaped like theirs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from syncsvc.domain.changes import Outcome
from syncsvc.domain.errors import TargetError
from syncsvc.domain.plan import Occurrence, Plan, PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.settings import CalDAVCalendar
from syncsvc.state.memory import MemoryState
from syncsvc.targets.caldav import messages, xml
from tests import builders
from tests.servers import DavServer, open_caldav, server_config
from tests.servers_cyrus import CyrusServer
from tests.target_contract import event

NOW = datetime(2024, 1, 1, tzinfo=UTC)
PLAN = Plan(
    title="Årsplan 2024",
    year=2024,
    items=(
        PlanItem(
            key="v/m", title="Møte", occurrences=(Occurrence(date(2024, 3, 1), date(2024, 3, 2)),)
        ),
    ),
)
CYRUS_UID_TAKEN = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:" '
    b'xmlns:C="urn:ietf:params:xml:ns:caldav"><C:unique-scheduling-object-resource>'
    b"<D:href>/dav/calendars/user/a/org/x.ics</D:href></C:unique-scheduling-object-resource>"
    b"</D:error>\n"
)
CONFLICT_409 = (
    b'<?xml version="1.0"?><error xmlns="DAV:"><resource-must-be-null/>'
    b"<responsedescription>A collection already exists</responsedescription></error>"
)


def test_precondition_names_the_element_and_what_it_points_at() -> None:
    assert xml.precondition(CYRUS_UID_TAKEN) == (
        "CALDAV:unique-scheduling-object-resource",
        "/dav/calendars/user/a/org/x.ics",
    )
    assert xml.precondition(CONFLICT_409) == (
        "DAV:resource-must-be-null",
        "A collection already exists",
    )
    assert xml.precondition(b"Access to the requested resource forbidden.") is None
    assert xml.precondition(b"<multistatus xmlns='DAV:'/>") is None


def test_refused_message_says_status_element_and_meaning() -> None:
    text = messages.refused("http://h/", "PUT", "u@x", 409, CONFLICT_409, "/cal/")
    assert text == (
        "http://h/ rejected PUT for u@x: HTTP 409, precondition DAV:resource-must-be-null "
        "(something already exists at that URL; A collection already exists)"
    )
    plain = messages.refused("http://h/", "PUT", "u@x", 400, b"Bad path.\n", "/cal/")
    assert plain == "http://h/ rejected PUT for u@x: HTTP 400 (Bad path.)"
    html = messages.refused("http://h/", "PUT", "u@x", 403, b"<html>no</html>", "/cal/")
    assert html == "http://h/ rejected PUT for u@x: HTTP 403"
    hinted = messages.refused("http://h/", "MKCALENDAR", "c", 400, b"", "/a/m%C3%B8te/")
    assert "percent-encoded characters (%C3%B8 = 'ø')" in hinted


def test_cyrus_refusing_a_second_uid_in_the_account_is_named(cyrus: CyrusServer) -> None:
    """All calendars in one account: Cyrus refuses the same UID in a second calendar."""
    first, second = cyrus.new_calendar("org"), cyrus.new_calendar("person")
    a = open_caldav(cyrus, first, MemoryState(), name="org")
    a.observe()
    written = a.create(event("same@test"))
    a.close()
    b = open_caldav(cyrus, second, MemoryState(), name="person")
    b.observe()
    with pytest.raises(TargetError) as err:
        b.create(event("same@test"))
    b.close()
    assert "HTTP 403" in err.value.message
    assert "precondition CALDAV:unique-scheduling-object-resource" in err.value.message
    assert "only once per account" in err.value.message
    assert written.remote_id in err.value.message  # where the UID already lives


# What each server refuses in a calendar's name (found by trying; see docs/CALDAV.md).
REFUSED_NAME = {
    "radicale": "a%2Fb",  # 403 without a DAV:error body
    "xandikos": "a%2Fb",  # 409
    "cyrus": "m%C3%B8te",  # 403 CALDAV:calendar-collection-location-ok
    "davical": "b%5Bx%5D",  # 400 "The calendar path contains illegal characters."
}


@pytest.fixture(params=sorted(REFUSED_NAME))
def refusing(request: pytest.FixtureRequest) -> tuple[DavServer, str]:
    server: DavServer = request.getfixturevalue(request.param)
    return server, REFUSED_NAME[request.param]


def test_a_percent_encoded_name_the_server_refuses_is_explained(
    refusing: tuple[DavServer, str], tmp_path: Path
) -> None:
    server, name = refusing
    url = f"{server.calendar_home}{name}-{tmp_path.name[-12:]}/"
    config = server_config(server).model_copy(update={"create_calendars": True})
    calendar = CalDAVCalendar(name="ny", target="caldav", server="dav", url=url)
    settings = builders.settings(tmp_path, calendar, servers={"dav": config})
    (cal,) = run_sync(settings, plan=PLAN, state=MemoryState(), now=NOW).calendars
    assert cal.outcome is Outcome.FAILED
    assert cal.error is not None
    assert "percent-encoded characters" in cal.error, cal.error
    first_run = name[name.index("%") :].split("-")[0]
    assert first_run[:3] in cal.error
    assert "use letters, digits" in cal.error
