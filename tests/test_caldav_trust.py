"""What a CalDAV server promises is checked, not trusted.

1. An ETag is not an identity: behind a proxy that gives every object the same ETag (as a
   server we met does), a person's own event stored at the href of one of ours is read by
   content and never overwritten, with sync tokens and without.
2. A calendar deleted and created again is refilled in the same run, on every server
   (DAViCal answers the old sync token with "207, no changes"); where a server offers no
   identity, the periodic full listing finds it.
"""

from __future__ import annotations

import httpx
import pytest

from syncsvc.domain.errors import ConflictError
from syncsvc.state.memory import MemoryState
from syncsvc.targets.caldav import cursor
from syncsvc.targets.caldav.target import CalDAVTarget, object_name
from syncsvc.targets.caldav.xml import href_key
from tests.davquirks import DavQuirkProxy, Quirks
from tests.servers import DavServer, open_caldav
from tests.target_contract import FOREIGN, event

pytestmark = pytest.mark.servers

SAME = '"00000000"'


def upstream(server: DavServer) -> tuple[str, int]:
    url = httpx.URL(server.url)
    return (url.host, url.port or 80)


def via(proxy: DavQuirkProxy, server: DavServer) -> DavServer:
    return DavServer(
        kind=server.kind,
        url=proxy.url,
        calendar_home=server.calendar_home,
        username=server.username,
        password=server.password,
    )


def target_for(server: DavServer, calendar: str, state: MemoryState, **kw: bool) -> CalDAVTarget:
    target = open_caldav(server, calendar, state)
    assert isinstance(target, CalDAVTarget)
    if kw.get("no_sync"):
        target._use_sync = False
    return target


def replace_with_own_event(server: DavServer, calendar: str, name: str) -> bytes:
    """A person deletes our event and stores their own (other UID, no marker) at its href."""
    href = calendar + name
    server.delete_raw(href)
    server.put_raw(calendar, name, FOREIGN)
    data = server.get_raw(href)
    assert data is not None
    return data


@pytest.mark.parametrize("sync", [True, False], ids=["sync-token", "etag-listing"])
def test_reused_etags_never_let_us_overwrite_a_persons_event(
    radicale: DavServer, sync: bool
) -> None:
    calendar_direct = radicale.new_calendar("etag")
    with DavQuirkProxy(upstream(radicale), Quirks(constant_etag=SAME)) as proxy:
        server = via(proxy, radicale)
        calendar = proxy.url.rstrip("/") + calendar_direct.removeprefix(radicale.url.rstrip("/"))
        state = MemoryState()
        first = target_for(server, calendar, state, no_sync=not sync)
        first.observe()
        ours = first.create(event("a@test"))
        first.create(event("b@test", day=6))
        first.close()
        assert ours.etag == SAME

        before = replace_with_own_event(radicale, calendar_direct, object_name("a@test"))

        second = target_for(server, calendar, state, no_sync=not sync)
        seen = second.observe()
        # Read by content: the object at our href is not ours any more.
        assert set(seen) == {"b@test"}
        # The engine would now create it again: it goes next to the person's event.
        again = second.create(event("a@test", summary="Endret"))
        assert again.remote_id != ours.remote_id
        # A stale handle on the old object cannot overwrite the person's event either.
        with pytest.raises(ConflictError):
            second.update(ours, event("a@test", summary="Endret"), sequence=1)
        second.close()
    assert radicale.get_raw(calendar_direct + object_name("a@test")) == before
    assert len(radicale.list_hrefs(calendar_direct)) == 3


def test_a_write_reads_an_object_not_seen_in_this_run_first(dav_server: DavServer) -> None:
    """The token path says nothing changed (as a server that forgot a change would); the
    update still finds the person's event at our href and leaves it alone."""
    calendar = dav_server.new_calendar("unseen")
    state = MemoryState()
    first = target_for(dav_server, calendar, state)
    first.observe()
    ours = first.create(event("u@test"))
    first.close()
    name = ours.remote_id.rsplit("/", 1)[1]
    before = replace_with_own_event(dav_server, calendar, name)
    # Pretend the server's sync report did not mention it: our memory still says "ours".
    lying = target_for(dav_server, calendar, state)
    lying._mem.put(href_key(ours.remote_id), ours, seen=False)
    with pytest.raises(ConflictError, match="not ours"):
        lying.update(ours, event("u@test", summary="Endret"), sequence=1)
    lying._http.close()
    assert dav_server.get_raw(calendar + name) == before


def recreate(server: DavServer, calendar: str) -> None:
    with server.client() as http:
        # Cyrus answers 404 although it deleted the calendar (into its DELETED hierarchy).
        assert http.delete(calendar).status_code in (200, 204, 404)
    path = httpx.URL(calendar).path
    name = path.rstrip("/").rsplit("/", 1)[1]
    assert server.new_calendar_at(path, name) == calendar


def test_a_recreated_calendar_is_refilled_in_the_same_run(dav_server: DavServer) -> None:
    calendar = dav_server.new_calendar("again")
    state = MemoryState()
    first = target_for(dav_server, calendar, state)
    first.observe()
    for i in range(2):
        first.create(event(f"r{i}@test", day=i + 2))
    first.close()
    quiet = target_for(dav_server, calendar, state)
    assert set(quiet.observe()) == {"r0@test", "r1@test"}
    quiet.close()
    # Our own writes do not read as a re-created calendar (Cyrus's creationdate moves).
    assert not any("created again" in note for note in quiet.stats.notes)

    recreate(dav_server, calendar)

    after = target_for(dav_server, calendar, state)
    assert dict(after.observe()) == {}  # the engine will create both again in this run
    for i in range(2):
        after.create(event(f"r{i}@test", day=i + 2))
    after.close()
    assert len(dav_server.list_hrefs(calendar)) == 2
    check = target_for(dav_server, calendar, state)
    assert set(check.observe()) == {"r0@test", "r1@test"}
    check.close()


def test_without_an_identity_the_periodic_full_listing_finds_it(davical: DavServer) -> None:
    """DAViCal with its resource-id hidden: the old token gets "207, no changes" after the
    calendar was re-created, until the full listing checks it."""
    calendar_direct = davical.new_calendar("hidden")
    quirks = Quirks(hide_identity=True)
    with DavQuirkProxy(upstream(davical), quirks) as proxy:
        server = via(proxy, davical)
        calendar = proxy.url.rstrip("/") + calendar_direct.removeprefix(davical.url.rstrip("/"))
        state = MemoryState()
        first = target_for(server, calendar, state)
        first.observe()
        first.create(event("h@test"))
        first.close()
        recreate(davical, calendar_direct)
        stored = cursor.decode(state.get_token("cal"))
        assert stored.identity is None  # nothing to compare against
        due = cursor.Cursor(token=stored.token, runs_since_full=cursor.VERIFY_EVERY)
        state.save("cal", due.encode(), state.get_events("cal"))
        check = target_for(server, calendar, state)
        assert dict(check.observe()) == {}
        assert any("full listing" in note for note in check.stats.notes)
        check.close()
