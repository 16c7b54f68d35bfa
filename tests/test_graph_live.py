"""Live tests against a real Microsoft 365 tenant: the checks the fake cannot make.

Run with SYNCSVC_LIVE_GRAPH_TENANT, SYNCSVC_LIVE_GRAPH_CLIENT_ID,
SYNCSVC_LIVE_GRAPH_CLIENT_SECRET and SYNCSVC_LIVE_GRAPH_MAILBOX set (a test mailbox the app
may write; see docs/GRAPH.md). Without them every test here is skipped with "no tenant".
Each run uses fresh UIDs and deletes what it wrote.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from syncsvc.domain.errors import ConflictError
from syncsvc.domain.events import DesiredEvent, EventContent, EventStatus
from syncsvc.settings import GraphCalendar, GraphSettings, Settings
from syncsvc.state.memory import MemoryState
from syncsvc.targets.graph.event import new_event
from syncsvc.targets.graph.target import GraphTarget, open_target

ENV = {
    key: os.environ.get(f"SYNCSVC_LIVE_GRAPH_{key.upper()}")
    for key in ("tenant", "client_id", "client_secret", "mailbox")
}

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not all(ENV.values()), reason="no tenant"),
]
OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def target() -> Iterator[GraphTarget]:
    settings = Settings(
        graph=GraphSettings(
            tenant_id=ENV["tenant"],
            client_id=ENV["client_id"],
            client_secret=SecretStr(ENV["client_secret"] or ""),
        )
    )
    config = GraphCalendar(target="graph", name="live", mailbox=ENV["mailbox"] or "")
    opened = open_target(config, settings, MemoryState())  # MSAL, the real authority
    assert isinstance(opened, GraphTarget)
    prefix = f"live-{uuid.uuid4().hex[:12]}"
    opened.name = prefix
    yield opened
    for uid, seen in opened.observe().items():
        if uid.startswith(prefix):
            opened.delete(seen)
    opened.close()


def uid(t: GraphTarget, name: str) -> str:
    return f"{t.name}-{name}@syncsvc.test"


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


def test_if_match_is_honoured(target: GraphTarget) -> None:
    first = target.create(
        DesiredEvent(uid(target, "etag"), EventContent("A", date(2030, 2, 1), date(2030, 2, 2)))
    )
    target.update(
        first, DesiredEvent(first.uid, EventContent("B", date(2030, 2, 1), date(2030, 2, 2))), 1
    )
    with pytest.raises(ConflictError):
        target.update(
            first, DesiredEvent(first.uid, EventContent("C", date(2030, 2, 1), date(2030, 2, 2))), 2
        )
    with pytest.raises(ConflictError):
        target.delete(first)


def test_transaction_id_deduplicates_and_allows_recreate(target: GraphTarget) -> None:
    desired = DesiredEvent(
        uid(target, "tid"), EventContent("T", date(2030, 3, 1), date(2030, 3, 2))
    )
    body = new_event(desired.content, desired.uid, desired.content_hash, target.tz)
    path = target._events()
    replies = [target.client.send("POST", path, json=body, retry_unsafe=True) for _ in range(2)]
    assert all(r.status_code in (200, 201) for r in replies)
    assert replies[0].json()["id"] == replies[1].json()["id"]
    seen = target.observe_one(desired.uid)
    assert seen is not None
    target.delete(seen)
    again = target.create(desired)  # same UID, same transactionId, after a delete
    assert again.remote_id != seen.remote_id
    assert target.observe_one(desired.uid) is not None


def test_created_events_have_no_attendees(target: GraphTarget) -> None:
    made = target.create(
        DesiredEvent(uid(target, "att"), EventContent("X", date(2030, 4, 1), date(2030, 4, 2)))
    )
    raw = target.client.get_json(target._item(made.remote_id), {"$select": "attendees,isOrganizer"})
    assert raw.get("attendees") == []
