"""The FAKE Graph server's own behaviours (tests/fake_graph.py), spoken to with plain httpx,
so the target tests rest on a fake that does what its docstring claims."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fake_graph import FakeGraph

MAILBOX = "ola@skole.example"
PROP = "String {c47bf14e-871f-44c8-bf18-32a0a3534867} Name syncsvc-uid"
ZONE = 'outlook.timezone="W. Europe Standard Time", outlook.body-content-type="text"'


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.add_mailbox(MAILBOX)
        yield server


@pytest.fixture
def http(fake: FakeGraph) -> Iterator[httpx.Client]:
    form = {
        "grant_type": "client_credentials",
        "client_id": fake.client_id,
        "client_secret": fake.secret,
        "scope": "x/.default",
    }
    with httpx.Client(base_url=fake.graph_url) as client:
        token = client.post(f"{fake.url}/{fake.tenant}/oauth2/v2.0/token", data=form).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        client.headers["Prefer"] = ZONE
        yield client


def body(uid: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject": "Møte",
        "start": {"dateTime": "2024-06-03T12:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2024-06-03T13:00:00", "timeZone": "UTC"},
        "singleValueExtendedProperties": [{"id": PROP, "value": uid}],
        **extra,
    }


EVENTS = f"/users/{MAILBOX}/calendar/events"


def test_token_grant_and_bearer_required(fake: FakeGraph, http: httpx.Client) -> None:
    bad = httpx.post(
        f"{fake.url}/{fake.tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": fake.client_id,
            "client_secret": "x",
        },
    )
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_client")
    anonymous = httpx.get(fake.graph_url + EVENTS)
    assert anonymous.status_code == 401
    assert http.get(EVENTS).status_code == 200


def test_times_follow_prefer_timezone(http: httpx.Client) -> None:
    made = http.post(EVENTS, json=body("a")).json()
    assert made["start"] == {
        "dateTime": "2024-06-03T14:00:00.0000000",
        "timeZone": "W. Europe Standard Time",
    }
    in_utc = http.get(f"/users/{MAILBOX}/events/{made['id']}", headers={"Prefer": ""}).json()
    assert in_utc["start"]["timeZone"] == "UTC"
    assert in_utc["start"]["dateTime"].startswith("2024-06-03T12:00:00")


def test_filter_expand_and_paging(fake: FakeGraph, http: httpx.Client) -> None:
    fake.page_size = 3
    for n in range(7):
        http.post(EVENTS, json=body(f"u{n}"))
    fake.add_event(MAILBOX, {"subject": "Fremmed", **{k: body("x")[k] for k in ("start", "end")}})
    params = {
        "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{PROP}' and ep/value ne null)",
        "$expand": f"singleValueExtendedProperties($filter=id eq '{PROP}')",
    }
    page = http.get(EVENTS, params=params).json()
    uids: list[str] = []
    while True:
        uids += [e["singleValueExtendedProperties"][0]["value"] for e in page["value"]]
        if "@odata.nextLink" not in page:
            break
        page = http.get(page["@odata.nextLink"]).json()
    assert sorted(uids) == [f"u{n}" for n in range(7)]
    one = {**params, "$filter": params["$filter"].replace("ne null", "eq 'U3'")}  # value: any case
    assert len(http.get(EVENTS, params=one).json()["value"]) == 1
    assert http.get(EVENTS, params={"$filter": "subject eq 'x'"}).status_code == 400


def test_transaction_id_returns_the_existing_event(fake: FakeGraph, http: httpx.Client) -> None:
    first = http.post(EVENTS, json=body("t", transactionId="tid-1")).json()
    second = http.post(EVENTS, json=body("t", transactionId="tid-1")).json()
    assert first["id"] == second["id"]
    assert len(fake.events(MAILBOX)) == 1


def test_if_match_and_delete(http: httpx.Client) -> None:
    made = http.post(EVENTS, json=body("e")).json()
    item = f"/users/{MAILBOX}/events/{made['id']}"
    stale = made["@odata.etag"]
    changed = http.patch(item, json={"subject": "Ny"}, headers={"If-Match": stale})
    assert changed.status_code == 200
    assert changed.json()["@odata.etag"] != stale
    assert http.patch(item, json={"subject": "X"}, headers={"If-Match": stale}).status_code == 412
    assert http.patch(item, json={"transactionId": "new"}).status_code == 400
    assert http.delete(item, headers={"If-Match": stale}).status_code == 412
    assert http.delete(item).status_code == 204
    assert http.delete(item).status_code == 404


def test_patch_merges_extended_properties(fake: FakeGraph, http: httpx.Client) -> None:
    made = http.post(EVENTS, json=body("m")).json()
    other = PROP.replace("syncsvc-uid", "syncsvc-hash")
    http.patch(
        f"/users/{MAILBOX}/events/{made['id']}",
        json={"singleValueExtendedProperties": [{"id": other, "value": "h"}]},
    )
    (stored,) = fake.events(MAILBOX)
    assert {p["id"]: p["value"] for p in stored["singleValueExtendedProperties"]} == {
        PROP: "m",
        other: "h",
    }


def test_attendees_are_refused_everywhere(fake: FakeGraph, http: httpx.Client) -> None:
    guest = [{"emailAddress": {"address": "x@example.org"}, "type": "required"}]
    assert http.post(EVENTS, json=body("a", attendees=guest)).status_code == 400
    made = http.post(EVENTS, json=body("b")).json()
    assert (
        http.patch(f"/users/{MAILBOX}/events/{made['id']}", json={"attendees": []}).status_code
        == 400
    )
    batch = {
        "requests": [
            {
                "id": "1",
                "method": "POST",
                "url": EVENTS,
                "body": body("c", attendees=guest),
                "headers": {"Content-Type": "application/json"},
            }
        ]
    }
    assert http.post("/$batch", json=batch).json()["responses"][0]["status"] == 400
    assert fake.attendee_requests == 3
    assert len(fake.events(MAILBOX)) == 1


def test_all_day_needs_midnight(http: httpx.Client) -> None:
    assert http.post(EVENTS, json=body("d", isAllDay=True)).status_code == 400


def test_batch_limits_and_failure_knob(fake: FakeGraph, http: httpx.Client) -> None:
    def sub(n: int) -> dict[str, Any]:
        return {
            "id": str(n),
            "method": "POST",
            "url": EVENTS,
            "body": body(f"b{n}"),
            "headers": {"Content-Type": "application/json"},
        }

    assert http.post("/$batch", json={"requests": [sub(n) for n in range(21)]}).status_code == 400
    no_type = {"requests": [{**sub(0), "headers": {}}]}
    assert http.post("/$batch", json=no_type).json()["responses"][0]["status"] == 400
    fake.fail_next_batch_subrequests(2, status=503, retry_after=9)
    replies = http.post("/$batch", json={"requests": [sub(n) for n in range(4)]}).json()[
        "responses"
    ]
    assert [r["status"] for r in replies] == [503, 503, 201, 201]
    assert replies[0]["headers"]["Retry-After"] == "9"
    assert len(fake.events(MAILBOX)) == 2  # failed sub-requests were not applied


def test_throttle_knob(fake: FakeGraph, http: httpx.Client) -> None:
    fake.throttle_next(1, retry_after=5)
    first = http.get(EVENTS)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "5")
    assert http.get(EVENTS).status_code == 200


def test_dropped_create_reply_still_creates(fake: FakeGraph, http: httpx.Client) -> None:
    fake.drop_next_create_response()
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(EVENTS, json=body("lost"))
    assert len(fake.events(MAILBOX)) == 1
