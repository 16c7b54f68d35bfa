"""The Graph target against the FAKE Graph server (tests/fake_graph.py): the shared target
contract plus Graph's own duties (throttling, lost replies, batches, no attendees, time zones).
Passing here says the target follows the docs as the fake reads them, not that Exchange agrees."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from syncsvc.domain.errors import AuthError, ConfigError, ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, EventContent, EventStatus
from syncsvc.settings import GraphCalendar
from syncsvc.state.memory import MemoryState
from syncsvc.targets.graph.auth import CachedToken
from syncsvc.targets.graph.client import GRAPH_POLICY
from syncsvc.targets.graph.target import BulkTarget, GraphTarget, open_target
from syncsvc.targets.graph.tz import windows_zone
from tests.builders import Sleeps
from tests.fake_graph import FakeGraph
from tests.graph_harness import MAILBOX, open_graph, owned, settings_for
from tests.target_contract import TargetContract, event, timed_event

OSLO = ZoneInfo("Europe/Oslo")
FOREIGN_UID_PROPERTY = "String {0a0b0c0d-1111-2222-3333-444455556666} Name syncsvc-uid"


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.add_mailbox(MAILBOX, calendars=("Årsplan",))
        yield server


class GraphHarness:
    """Contract back door: a person's edits, made straight in the fake's store."""

    def __init__(self, fake: FakeGraph) -> None:
        self.fake = fake
        self.target = open_graph(fake)

    def put_foreign(self, name: str, data: bytes) -> str:
        del name, data  # the same foreign event, as Graph JSON; it even has a look-alike marker
        return self.fake.add_event(
            MAILBOX,
            {
                "subject": "Tannlege (privat)",
                "start": {"dateTime": "2024-03-04T00:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2024-03-05T00:00:00", "timeZone": "UTC"},
                "isAllDay": True,
                "singleValueExtendedProperties": [
                    {"id": FOREIGN_UID_PROPERTY, "value": "own-event-1@example.org"}
                ],
            },
        )

    def read(self, remote_id: str) -> bytes | None:
        for ev in self.fake.events(MAILBOX):
            if ev["id"] == remote_id:
                return json.dumps(ev, ensure_ascii=False, sort_keys=True).encode()
        return None

    def write(self, remote_id: str, data: bytes) -> None:
        fields = json.loads(data)
        for key in ("id", "@odata.etag"):
            fields.pop(key)
        self.fake.edit_event(MAILBOX, remote_id, **fields)

    def remove(self, remote_id: str) -> None:
        with self.fake.lock:
            self.fake._calendar_named(MAILBOX, None).events.pop(remote_id)


class TestFakeGraphContract(TargetContract):
    @pytest.fixture
    def harness(self, fake: FakeGraph) -> Iterator[GraphHarness]:
        h = GraphHarness(fake)
        yield h
        h.target.close()
        assert fake.attendee_requests == 0


# --- mapping and round trips ------------------------------------------------------------------
def test_all_day_event_is_midnight_to_exclusive_midnight(fake: FakeGraph) -> None:
    t = open_graph(fake)
    desired = DesiredEvent(
        "vinter@test",
        EventContent("Vinterferie", date(2024, 2, 19), date(2024, 2, 24), categories=("Ferie",)),
        marker="v2.test",
    )
    t.create(desired)
    (stored,) = owned(fake, "vinter@test")
    assert stored["isAllDay"] is True
    assert stored["start"] == {
        "dateTime": "2024-02-19T00:00:00",
        "timeZone": "W. Europe Standard Time",
    }
    assert stored["end"]["dateTime"] == "2024-02-24T00:00:00"
    seen = t.observe()["vinter@test"]
    assert seen.actual_hash == desired.content_hash
    assert (seen.start, seen.end) == (date(2024, 2, 19), date(2024, 2, 24))


@pytest.mark.parametrize("month", [1, 7])  # winter and summer time
def test_timed_event_round_trips_through_utc(fake: FakeGraph, month: int) -> None:
    t = open_graph(fake)
    content = EventContent(
        "Foreldremøte",
        datetime(2024, month, 10, 18, 0, tzinfo=OSLO),
        datetime(2024, month, 10, 19, 30, tzinfo=OSLO),
        status=EventStatus.TENTATIVE,
        description="Linje 1\nLinje 2",
        location="Aulaen",
        categories=("Foreldre",),
    )
    t.create(DesiredEvent("fm@test", content, marker="v2.test"))
    (stored,) = owned(fake, "fm@test")
    assert stored["showAs"] == "tentative"
    assert stored["location"] == {"displayName": "Aulaen"}
    assert stored["body"] == {"contentType": "text", "content": "Linje 1\nLinje 2"}
    assert stored["start"] == {
        "dateTime": f"2024-{month:02}-10T18:00:00",
        "timeZone": "W. Europe Standard Time",
    }
    seen = t.observe()["fm@test"]
    assert seen.actual_hash == DesiredEvent("fm@test", content).content_hash
    assert seen.start == content.start


def test_windows_zone_comes_from_cldr() -> None:
    assert windows_zone("Europe/Oslo") == "W. Europe Standard Time"
    assert windows_zone("America/New_York") == "Eastern Standard Time"
    with pytest.raises(TargetError):
        windows_zone("Mars/Olympus_Mons")


def test_patch_sends_only_changed_fields(fake: FakeGraph) -> None:
    t = open_graph(fake)
    first = t.create(event("p1@test"))
    t.observe()
    t.update(first, event("p1@test", summary="Styremøte (flyttet)"), sequence=1)
    method, _, body = fake.writes[-1]
    assert method == "PATCH"
    assert set(body) == {"subject", "isReminderOn", "singleValueExtendedProperties"}
    t.update(
        t.observe()["p1@test"], event("p1@test", summary="Styremøte (flyttet)", day=6), sequence=2
    )
    assert set(fake.writes[-1][2]) == {
        "start",
        "end",
        "isAllDay",
        "isReminderOn",
        "singleValueExtendedProperties",
    }


def test_every_request_prefers_immutable_ids_and_the_plan_zone(fake: FakeGraph) -> None:
    t = open_graph(fake)
    cast(BulkTarget, t).create_many([event(f"b{n}@test", day=n + 1) for n in range(3)])
    t.delete(t.observe()["b0@test"])
    assert fake.prefer
    for prefer in fake.prefer:
        assert 'IdType="ImmutableId"' in prefer
        assert 'outlook.timezone="W. Europe Standard Time"' in prefer


# --- calendars --------------------------------------------------------------------------------
def test_named_calendar_is_resolved_by_name(fake: FakeGraph) -> None:
    t = open_graph(fake, calendar="Årsplan")
    t.create(event("n1@test"))
    assert len(owned(fake, "n1@test", "Årsplan")) == 1
    assert owned(fake, "n1@test") == []  # not in the default calendar
    assert set(t.observe()) == {"n1@test"}


def test_missing_calendar_is_a_clear_error(fake: FakeGraph) -> None:
    t = open_graph(fake, calendar="årsplan")
    with pytest.raises(
        TargetError, match=r"no calendar named 'årsplan' \(did you mean 'Årsplan'\?\)"
    ):
        t.observe()


# --- ownership --------------------------------------------------------------------------------
def test_foreign_events_are_never_listed_changed_or_deleted(fake: FakeGraph) -> None:
    plain = fake.add_event(MAILBOX, {"subject": "Privat", **_day(5)})
    t = open_graph(fake)
    ours = t.create(event("o@test", day=5))
    t.update(ours, event("o@test", summary="Ny", day=5), sequence=1)
    assert set(t.observe()) == {"o@test"}
    t.delete(t.observe()["o@test"])
    assert [e["id"] for e in fake.events(MAILBOX)] == [plain]
    touched = {path.rsplit("/", 1)[-1] for method, path, _ in fake.writes if method != "POST"}
    assert plain not in touched


def _day(day: int) -> dict[str, Any]:
    return {
        "start": {"dateTime": f"2024-03-{day:02}T00:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"2024-03-{day + 1:02}T00:00:00", "timeZone": "UTC"},
        "isAllDay": True,
    }


def test_no_request_ever_carries_attendees(fake: FakeGraph) -> None:
    t = open_graph(fake)
    made = cast(BulkTarget, t).create_many([event(f"a{n}@test", day=n + 1) for n in range(4)])
    first = made["a0@test"]
    assert not isinstance(first, TargetError)
    t.update(first, event("a0@test", summary="Endret"), sequence=1)
    t.create(timed_event("a9@test"))
    cast(BulkTarget, t).delete_many(list(t.observe().values()))
    assert fake.writes
    assert fake.attendee_requests == 0
    for _, _, body in fake.writes:
        assert "attendees" not in json.dumps(body)


# --- throttling, lost replies, batches --------------------------------------------------------
def test_throttling_waits_retry_after_and_counts_requests(fake: FakeGraph) -> None:
    sleeps = Sleeps()
    t = open_graph(fake, sleeps=sleeps)
    fake.throttle_next(2, retry_after=7)
    t.create(event("th@test"))
    assert sleeps == [7.0, 7.0]
    assert t.stats.retries == 2
    assert t.stats.requests == len(fake.requests)  # every HTTP request, the token's included
    assert len(owned(fake, "th@test")) == 1


def test_too_long_retry_after_fails_instead_of_hanging(fake: FakeGraph) -> None:
    sleeps = Sleeps()
    t = open_graph(fake, sleeps=sleeps, policy=dataclasses.replace(GRAPH_POLICY, max_wait=60))
    fake.throttle_next(1, retry_after=3600)
    with pytest.raises(TargetError, match="throttled"):
        t.observe()
    assert sleeps == []


def test_lost_create_reply_makes_no_duplicate(fake: FakeGraph) -> None:
    t = open_graph(fake)
    t.observe()
    fake.drop_next_create_response()
    created = t.create(event("lost@test"))
    posts = [w for w in fake.writes if w[0] == "POST"]
    assert len(posts) == 2  # sent again with the same transactionId
    assert posts[0][2]["transactionId"] == posts[1][2]["transactionId"]
    (stored,) = owned(fake, "lost@test")
    assert stored["id"] == created.remote_id
    assert t.observe()["lost@test"].etag == created.etag


def test_batch_retries_only_failed_subrequests(fake: FakeGraph) -> None:
    sleeps = Sleeps()
    t = open_graph(fake, sleeps=sleeps)
    t.observe()
    fake.fail_next_batch_subrequests(3, status=429, retry_after=4)
    events = [event(f"m{n}@test", day=1 + n % 27) for n in range(25)]
    results = cast(BulkTarget, t).create_many(events)
    assert all(not isinstance(r, TargetError) for r in results.values())
    batches = [r for r in fake.requests if r == ("POST", "/v1.0/$batch")]
    assert len(batches) == 3  # 20 + 5, then the 3 failed ones alone
    assert len([w for w in fake.writes if w[0] == "POST"]) == 25  # nothing applied twice
    assert sleeps == [4.0]
    assert set(t.observe()) == {e.uid for e in events}


def test_batch_delete_reports_conflicts_per_event(fake: FakeGraph) -> None:
    t = open_graph(fake)
    made = cast(BulkTarget, t).create_many([event(f"d{n}@test", day=n + 1) for n in range(3)])
    seen = t.observe()
    fake.edit_event(MAILBOX, seen["d1@test"].remote_id, subject="Endret i Outlook")
    fake.drop_next_create_response(0)
    with fake.lock:  # d2 is already gone: counts as deleted
        fake._calendar_named(MAILBOX, None).events.pop(seen["d2@test"].remote_id)
    result = cast(BulkTarget, t).delete_many(list(seen.values()))
    assert result["d0@test"] is None
    assert result["d2@test"] is None
    assert isinstance(result["d1@test"], ConflictError)
    assert set(t.observe()) == {"d1@test"}
    assert set(made) == {"d0@test", "d1@test", "d2@test"}


def test_at_most_four_requests_in_flight_per_mailbox(fake: FakeGraph) -> None:
    mailbox = "busy@skole.example"
    fake.add_mailbox(mailbox)
    targets = [open_graph(fake, mailbox=mailbox) for _ in range(2)]
    for t in targets:
        t.client.tokens.token()  # fetch before parking requests
    fake.hold()
    workers = [
        threading.Thread(target=targets[n % 2].observe_one, args=(f"u{n}@test",)) for n in range(8)
    ]
    for w in workers:
        w.start()
    try:
        assert fake.wait_in_flight(mailbox, 4)
        assert not targets[0].client.slots.try_take()  # all four slots busy: the rest wait
    finally:
        fake.release()
        for w in workers:
            w.join(timeout=30)
    assert fake.max_in_flight[mailbox.casefold()] == 4
    assert fake.concurrency_rejections == 0  # the fake would have answered a fifth with 429
    assert sum(t.stats.requests for t in targets) == 8  # tokens were fetched beforehand


# --- auth -------------------------------------------------------------------------------------
def test_token_is_reused_and_renewed_after_revocation(fake: FakeGraph) -> None:
    t = open_graph(fake)
    t.observe()
    t.create(event("tk@test"))
    assert fake.tokens_issued == 1
    fake.revoke_tokens()
    assert set(t.observe()) == {"tk@test"}
    assert fake.tokens_issued == 2


def test_wrong_secret_is_an_auth_error(fake: FakeGraph) -> None:
    config = GraphCalendar(target="graph", name="staff", mailbox=MAILBOX)
    settings = settings_for(fake, client_secret=SecretStr("wrong"))
    target = open_target(config, settings, MemoryState())
    fake.on_exit.append(target.close)
    with pytest.raises(AuthError, match="invalid_client"):
        target.observe()


def test_missing_tenant_is_a_config_error(fake: FakeGraph) -> None:
    config = GraphCalendar(target="graph", name="staff", mailbox=MAILBOX)
    with pytest.raises(ConfigError, match="tenant_id"):
        open_target(config, settings_for(fake, tenant_id=None), MemoryState())


def test_cached_token_renews_before_expiry() -> None:
    now = [0.0]
    issued: list[str] = []
    refused: list[bool] = []

    def fetch(was_refused: bool) -> tuple[str, float]:
        refused.append(was_refused)
        issued.append(f"t{len(issued)}")
        return issued[-1], 3600.0

    tokens = CachedToken(fetch, clock=lambda: now[0], margin=300)
    assert tokens.token() == "t0"
    now[0] = 3299.0
    assert tokens.token() == "t0"
    now[0] = 3300.0  # five minutes before expiry
    assert tokens.token() == "t1"
    tokens.invalidate()
    assert tokens.token() == "t2"
    assert tokens.fetches == 3
    assert refused == [False, False, True]  # only the fetch after a 401 is told to bypass caches


def test_the_factory_opens_a_graph_target(fake: FakeGraph) -> None:
    from syncsvc.targets import registry

    config = GraphCalendar(target="graph", name="staff", mailbox=MAILBOX)
    target = registry.open_target(config, settings_for(fake), MemoryState())
    fake.on_exit.append(target.close)
    assert isinstance(target, GraphTarget)
    assert isinstance(target, BulkTarget)
    assert dict(target.observe()) == {}
