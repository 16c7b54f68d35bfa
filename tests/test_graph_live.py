"""Live tests against a real Microsoft 365 tenant: the checks the fake cannot make.

Run with SYNCSVC_LIVE_GRAPH_TENANT, SYNCSVC_LIVE_GRAPH_CLIENT_ID,
SYNCSVC_LIVE_GRAPH_CLIENT_SECRET and SYNCSVC_LIVE_GRAPH_MAILBOX set (a test mailbox the app
may write; see docs/GRAPH.md). Without them every test here is skipped with "no tenant".
Optional: SYNCSVC_LIVE_GRAPH_CALENDAR (an existing calendar in that mailbox) and
SYNCSVC_LIVE_GRAPH_CERTIFICATE (+ _CERTIFICATE_PASSWORD for a PFX): a certificate uploaded to
the app. Each run uses fresh UIDs and deletes what it wrote (dates in 2030).

What each test settles, where the fake (tests/fake_graph.py) only assumes:
reminders (we send them off; Exchange's own default), batches and their replies, `ne null`
listings past one page, named calendars, an event a person deleted coming back, If-Match on
writes and on permanentDelete, transactionId, and certificate sign-in.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from syncsvc.domain.errors import ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, EventContent, EventStatus
from syncsvc.settings import Settings
from syncsvc.state.memory import MemoryState
from syncsvc.targets.base import BulkTarget
from syncsvc.targets.graph import event as ge
from syncsvc.targets.graph.config import GraphCalendar, GraphSettings, Reminder
from syncsvc.targets.graph.target import GraphTarget, open_target

ENV = {
    key: os.environ.get(f"SYNCSVC_LIVE_GRAPH_{key.upper()}")
    for key in ("tenant", "client_id", "client_secret", "mailbox")
}
CALENDAR = os.environ.get("SYNCSVC_LIVE_GRAPH_CALENDAR")
CERTIFICATE = os.environ.get("SYNCSVC_LIVE_GRAPH_CERTIFICATE")
CERTIFICATE_PASSWORD = os.environ.get("SYNCSVC_LIVE_GRAPH_CERTIFICATE_PASSWORD")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not all(ENV.values()), reason="no tenant"),
]
OSLO = ZoneInfo("Europe/Oslo")


def live_target(
    *,
    calendar: str | None = None,
    reminder: Reminder = "off",
    certificate: bool = False,
    **graph: Any,
) -> GraphTarget:
    credential: dict[str, Any] = (
        {
            "certificate_path": CERTIFICATE,
            "certificate_password": SecretStr(CERTIFICATE_PASSWORD)
            if CERTIFICATE_PASSWORD
            else None,
        }
        if certificate
        else {"client_secret": SecretStr(ENV["client_secret"] or "")}
    )
    settings = Settings(
        graph=GraphSettings(
            tenant_id=ENV["tenant"], client_id=ENV["client_id"], **credential, **graph
        )
    )
    config = GraphCalendar(
        target="graph",
        name="live",
        mailbox=ENV["mailbox"] or "",
        calendar=calendar,
        reminder=reminder,
    )
    opened = open_target(config, settings, MemoryState())  # MSAL, the real authority
    assert isinstance(opened, GraphTarget)
    return opened


@pytest.fixture
def prefix() -> str:
    return f"live-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def target(prefix: str) -> Iterator[GraphTarget]:
    opened = live_target()
    opened.name = prefix
    yield opened
    cleanup(opened, prefix)


def cleanup(t: GraphTarget, prefix: str) -> None:
    mine = [seen for uid, seen in t.observe().items() if uid.startswith(prefix)]
    if mine:
        cast(BulkTarget, t).delete_many(mine)
    t.close()


def uid(t: GraphTarget, name: str) -> str:
    return f"{t.name}-{name}@syncsvc.test"


def day_event(t: GraphTarget, name: str, day: int = 1) -> DesiredEvent:
    return DesiredEvent(
        uid(t, name), EventContent(f"Plan {name}", date(2030, 5, day), date(2030, 5, day + 1))
    )


def raw(t: GraphTarget, remote_id: str, select: str) -> dict[str, Any]:
    return t.client.get_json(t._item(remote_id), {"$select": select})


def test_all_day_and_timed_events_round_trip(target: GraphTarget) -> None:
    day = DesiredEvent(
        uid(target, "day"), EventContent("Planleggingsdag", date(2030, 1, 2), date(2030, 1, 3))
    )
    timed = DesiredEvent(
        uid(target, "timed"),
        EventContent(
            "Personalmøte",
            datetime(2030, 6, 3, 14, 0, tzinfo=OSLO),
            datetime(2030, 6, 3, 15, 30, tzinfo=OSLO),
            status=EventStatus.TENTATIVE,
            description="Linje 1\nLinje 2",
            location="Møterom 2",
            categories=("Ledelse",),
        ),
    )
    for desired in (day, timed):
        made = target.create(desired)
        seen = target.observe_one(desired.uid)
        assert seen is not None
        assert seen.etag == made.etag
        assert seen.actual_hash == desired.content_hash, "Exchange changed the content"


def test_reminders_are_off_unless_asked_and_exchange_would_add_one(
    target: GraphTarget, prefix: str
) -> None:
    made = target.create(day_event(target, "rem-off"))
    fields = raw(target, made.remote_id, "isReminderOn,reminderMinutesBeforeStart")
    assert fields["isReminderOn"] is False
    # Exchange's own default, which the fake assumes: a create without isReminderOn reminds.
    body = ge.content_fields(day_event(target, "rem-default").content, target.tz)
    body["singleValueExtendedProperties"] = [
        {"id": ge.UID_PROPERTY, "value": uid(target, "rem-default")}
    ]
    plain = target.client.send("POST", target._events(), json=body)
    target.client.check(plain, "plain create")
    assert plain.json()["isReminderOn"] is True
    with_reminder = live_target(reminder=30)
    with_reminder.name = prefix
    made = with_reminder.create(day_event(target, "rem-30", day=2))
    fields = raw(target, made.remote_id, "isReminderOn,reminderMinutesBeforeStart")
    assert (fields["isReminderOn"], fields["reminderMinutesBeforeStart"]) == (True, 30)
    assert with_reminder.observe()[made.uid].drifted is False
    with_reminder.close()


def test_batch_create_and_delete(target: GraphTarget) -> None:
    events = [day_event(target, f"batch{n}", day=1 + n % 28) for n in range(25)]  # 20 + 5
    made = cast(BulkTarget, target).create_many(events)
    assert all(not isinstance(r, TargetError) for r in made.values()), made
    seen = target.observe()
    assert {e.uid for e in events} <= set(seen)
    gone = cast(BulkTarget, target).delete_many([seen[e.uid] for e in events])
    assert all(r is None for r in gone.values()), gone
    assert not {e.uid for e in events} & set(target.observe())


def test_listing_more_than_a_page_of_owned_events(target: GraphTarget) -> None:
    events = [day_event(target, f"list{n}", day=n + 1) for n in range(12)]
    cast(BulkTarget, target).create_many(events)
    params = {**target._list_params(), "$top": "5"}  # force server paging with `ne null`
    listed = {ge.properties(e)[0] for e in target.client.pages(target._events(), params)}
    assert {e.uid for e in events} <= listed
    assert {e.uid for e in events} <= set(target.observe())


@pytest.mark.skipif(not CALENDAR, reason="SYNCSVC_LIVE_GRAPH_CALENDAR not set")
def test_a_named_calendar(prefix: str) -> None:
    named = live_target(calendar=CALENDAR)
    named.name = prefix
    try:
        made = named.create(day_event(named, "named"))
        assert named.observe_one(made.uid) is not None
        default = live_target()
        assert default.observe_one(made.uid) is None  # not in the default calendar
        default.close()
    finally:
        cleanup(named, prefix)


def test_an_event_a_person_deleted_comes_back(target: GraphTarget) -> None:
    first = target.create(day_event(target, "restore"))
    # What Outlook's delete does: a plain DELETE, to the person's Deleted Items.
    target.client.check(target.client.send("DELETE", target._item(first.remote_id)), "delete")
    assert target.observe_one(first.uid) is None
    again = target.create(day_event(target, "restore"))  # a fresh transactionId
    assert again.remote_id != first.remote_id, "Exchange handed back the deleted copy"
    assert target.observe_one(first.uid) is not None


def test_if_match_is_honoured(target: GraphTarget) -> None:
    first = target.create(day_event(target, "etag"))
    target.update(first, day_event(target, "etag", day=3), 1)
    with pytest.raises(ConflictError):
        target.update(first, day_event(target, "etag", day=4), 2)
    with pytest.raises(ConflictError):
        target.delete(first)


def test_permanent_delete_honours_if_match(target: GraphTarget, prefix: str) -> None:
    purging = live_target(deletes="permanent")
    purging.name = prefix
    try:
        first = purging.create(day_event(purging, "purge"))
        purging.update(first, day_event(purging, "purge", day=5), 1)
        with pytest.raises(ConflictError):
            purging.delete(first)  # the etag from before the update
        current = purging.observe_one(first.uid)
        assert current is not None
        purging.delete(current)
        gone = purging.client.send("GET", purging._item(first.remote_id))
        assert gone.status_code == 404
    finally:
        cleanup(purging, prefix)


def test_transaction_id_deduplicates_a_repeated_create(target: GraphTarget) -> None:
    desired = day_event(target, "tid")
    body = ge.new_event(
        desired.content,
        desired.uid,
        desired.content_hash,
        target.tz,
        transaction_id=ge.new_transaction_id(),
        marker=desired.marker,
    )
    path = target._events()
    replies = [target.client.send("POST", path, json=body, retry_unsafe=True) for _ in range(2)]
    assert all(r.status_code in (200, 201) for r in replies)
    assert replies[0].json()["id"] == replies[1].json()["id"]


def test_created_events_have_no_attendees(target: GraphTarget) -> None:
    made = target.create(day_event(target, "att"))
    assert raw(target, made.remote_id, "attendees,isOrganizer").get("attendees") == []


@pytest.mark.skipif(not CERTIFICATE, reason="SYNCSVC_LIVE_GRAPH_CERTIFICATE not set")
def test_certificate_sign_in(prefix: str) -> None:
    signed_in = live_target(certificate=True)
    signed_in.name = prefix
    try:
        made = signed_in.create(day_event(signed_in, "cert"))
        assert signed_in.observe_one(made.uid) is not None
    finally:
        cleanup(signed_in, prefix)
