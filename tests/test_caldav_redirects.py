"""Redirects keep the method and the body, or stop with the Location in the message: never an
empty REPORT or PUT. Against Radicale behind a proxy that redirects (every status a server
may use), and against Cyrus, which really answers 301 for a calendar shared with us."""

from __future__ import annotations

import httpx
import pytest

from syncsvc.domain.errors import TargetError
from syncsvc.state.memory import MemoryState
from syncsvc.targets.caldav.target import CalDAVTarget
from tests.davquirks import DavQuirkProxy, Quirks
from tests.servers import DavServer, open_caldav
from tests.servers_cyrus import CyrusServer
from tests.target_contract import event

pytestmark = pytest.mark.servers


def upstream(server: DavServer) -> tuple[str, int]:
    url = httpx.URL(server.url)
    return (url.host, url.port or 80)


@pytest.fixture
def moved(radicale: DavServer) -> tuple[DavServer, str]:
    """A Radicale calendar; `through` opens it as /old/... on a redirecting proxy."""
    return radicale, radicale.new_calendar("moved")


def through(
    proxy: DavQuirkProxy, server: DavServer, calendar: str, state: MemoryState
) -> CalDAVTarget:
    seen_as = DavServer(
        kind=server.kind,
        url=proxy.url,
        calendar_home=server.calendar_home,
        username=server.username,
        password=server.password,
    )
    old = proxy.url.rstrip("/") + calendar.removeprefix(server.url.rstrip("/")).replace(
        server.calendar_home, "/old/", 1
    )
    target = open_caldav(seen_as, old, state)
    assert isinstance(target, CalDAVTarget)
    return target


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirected_requests_keep_method_and_body(
    moved: tuple[DavServer, str], status: int
) -> None:
    server, calendar = moved
    quirks = Quirks(redirects={"/old/": (status, server.calendar_home)})
    with DavQuirkProxy(upstream(server), quirks) as proxy:
        state = MemoryState()
        target = through(proxy, server, calendar, state)
        target.observe()
        created = target.create(event("r1@test"))
        updated = target.update(created, event("r1@test", summary="Flyttet"), sequence=1)
        target.close()
        # Every redirected request was sent again with its method and its exact body.
        for first, again in zip(proxy.seen, proxy.seen[1:], strict=False):
            if first.path.startswith("/old/"):
                assert again.method == first.method
                assert again.body == first.body
                assert again.path == first.path.replace("/old/", server.calendar_home, 1)
        assert all(s.body for s in proxy.seen if s.method in ("REPORT", "PUT"))
        assert any(f"(HTTP {status})" in note for note in target.stats.notes)
    href = updated.remote_id.replace("/old/", server.calendar_home, 1)
    data = server.get_raw(server.url.rstrip("/") + href)
    assert data is not None
    assert b"SUMMARY:Flyttet" in data
    if status in (301, 308):
        # Moved for good: after the first request the run talks to the new address.
        assert sum(s.path.startswith("/old/") for s in proxy.seen) == 1


def test_a_redirect_to_another_server_is_reported_not_followed(
    moved: tuple[DavServer, str], xandikos: DavServer
) -> None:
    server, calendar = moved
    elsewhere = xandikos.url.rstrip("/") + "/user/calendars/"
    quirks = Quirks(redirects={"/old/": (301, elsewhere)})
    with DavQuirkProxy(upstream(server), quirks) as proxy:
        target = through(proxy, server, calendar, MemoryState())
        with pytest.raises(TargetError) as err:
            target.observe()
        target.close()
    assert "redirects PROPFIND to " + elsewhere in err.value.message
    assert "not followed" in err.value.message
    assert len(proxy.seen) == 1  # nothing sent anywhere after the redirect


def test_see_other_for_a_put_stops_with_the_location(moved: tuple[DavServer, str]) -> None:
    server, calendar = moved
    quirks = Quirks(redirects={"/old/": (307, server.calendar_home)})
    with DavQuirkProxy(upstream(server), quirks) as proxy:
        target = through(proxy, server, calendar, MemoryState())
        target.observe()
        quirks.redirects["/old/"] = (303, server.calendar_home)
        with pytest.raises(TargetError) as err:
            target.create(event("r2@test"))
        target.close()
    assert "redirects PUT to" in err.value.message
    assert "HTTP 303" in err.value.message
    assert server.list_hrefs(calendar) == []


def test_cyrus_shared_calendar_is_synced_through_its_301(cyrus: CyrusServer) -> None:
    owners_url = cyrus.shared_calendar("shared")
    auth = (cyrus.username or "", cyrus.password or "")
    with httpx.Client(auth=auth, trust_env=False) as http:  # not following redirects
        first = http.request("PROPFIND", owners_url, headers={"Depth": "0"})
    assert first.status_code == 301  # the real server redirects the account it shared with
    state = MemoryState()
    target = open_caldav(cyrus, owners_url, state)
    target.observe()
    created = target.create(event("s1@test"))
    target.close()
    location = first.headers["Location"]
    assert created.remote_id.startswith(location)
    data = cyrus.get_raw(cyrus.url.rstrip("/") + created.remote_id)
    assert data is not None
    assert b"UID:s1@test" in data

    again = open_caldav(cyrus, owners_url, state)
    assert set(again.observe()) == {"s1@test"}
    again.close()
    assert again.stats.requests <= 2  # the 301 and the (moved) sync report
