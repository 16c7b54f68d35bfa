"""The FAKE Graph server's own behaviours (tests/fake_graph.py), spoken to with plain httpx,
so the target tests rest on a fake that does what its docstring claims."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.fake_graph import FakeGraph
from tests.fake_graph_auth import b64url
from tests.graph_certs import make_certificate

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
    with httpx.Client(base_url=fake.graph_url) as client:
        url = f"{fake.url}/{fake.tenant}/oauth2/v2.0/token"
        token = client.post(url, data=token_form(fake)).json()
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


def token_form(fake: FakeGraph, **changes: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": fake.client_id,
        "client_secret": fake.secret,
        "scope": "https://graph.microsoft.com/.default",
    }
    return {k: v for k, v in {**form, **changes}.items() if v}


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"client_secret": "x"}, 401, 7000215),
        ({"client_id": "someone-else"}, 400, 700016),
        ({"scope": "Calendars.ReadWrite"}, 400, 1002012),
        ({"client_secret": ""}, 401, 7000218),
    ],
)
def test_token_refusals_carry_aadsts_codes(
    fake: FakeGraph, changes: dict[str, str], status: int, code: int
) -> None:
    bad = httpx.post(
        f"{fake.url}/{fake.tenant}/oauth2/v2.0/token", data=token_form(fake, **changes)
    )
    assert bad.status_code == status
    assert bad.json()["error_codes"] == [code]
    assert f"AADSTS{code}" in bad.json()["error_description"]


def test_bearer_token_is_required(fake: FakeGraph, http: httpx.Client) -> None:
    anonymous = httpx.get(fake.graph_url + EVENTS)
    assert anonymous.status_code == 401
    assert http.get(EVENTS).status_code == 200


def _assertion(key: Any, cert: Any, claims: dict[str, Any], alg: str = "PS256") -> str:
    der = cert.public_bytes(serialization.Encoding.DER)
    header = {"alg": alg, "typ": "JWT", "x5t#S256": b64url(hashlib.sha256(der).digest())}
    signing = ".".join(b64url(json.dumps(x).encode()) for x in (header, claims)).encode()
    if alg == "PS256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        sig = key.sign(signing, pss, hashes.SHA256())
    else:
        sig = key.sign(signing, padding.PKCS1v15(), hashes.SHA256())
    return signing.decode() + "." + b64url(sig)


def test_certificate_assertion_is_verified(fake: FakeGraph) -> None:
    key, cert = make_certificate("syncsvc-test")
    other_key, other_cert = make_certificate("not-registered")
    fake.register_certificate(cert)
    endpoint = f"{fake.url}/{fake.tenant}/oauth2/v2.0/token"
    now = time.time()
    claims = {
        "aud": endpoint,
        "iss": fake.client_id,
        "sub": fake.client_id,
        "exp": now + 600,
        "nbf": now,
        "jti": "1",
    }

    def grant(assertion: str) -> httpx.Response:
        form = token_form(
            fake,
            client_secret="",
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion=assertion,
        )
        return httpx.post(endpoint, data=form)

    assert grant(_assertion(key, cert, claims)).status_code == 200
    assert grant(_assertion(key, cert, claims, alg="RS256")).status_code == 200
    refused = {
        "unregistered": _assertion(other_key, other_cert, claims),
        "forged": _assertion(other_key, cert, claims),
        "audience": _assertion(key, cert, {**claims, "aud": "https://elsewhere/token"}),
        "expired": _assertion(key, cert, {**claims, "exp": now - 1}),
    }
    codes = {name: grant(a).json()["error_codes"][0] for name, a in refused.items()}
    assert codes == {
        "unregistered": 700027,
        "forged": 700027,
        "audience": 700024,
        "expired": 700025,
    }
    discovery = httpx.get(f"{fake.url}/{fake.tenant}/v2.0/.well-known/openid-configuration")
    assert discovery.json()["token_endpoint"] == endpoint


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
    assert http.delete(item).status_code == 204  # to Deleted Items
    assert http.delete(item).status_code == 204  # out of Deleted Items
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
    fake.fail_next_batch_subrequests(2, status=503, retry_after="2.128")
    replies = http.post("/$batch", json={"requests": [sub(n) for n in range(4)]}).json()[
        "responses"
    ]
    assert [r["status"] for r in replies] == [503, 503, 201, 201]
    assert replies[0]["headers"]["Retry-After"] == "2.128"
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


def test_server_defaults_reminder_and_change_key(fake: FakeGraph, http: httpx.Client) -> None:
    made = http.post(EVENTS, json=body("r")).json()
    assert (made["isReminderOn"], made["reminderMinutesBeforeStart"]) == (True, 15)
    assert made["@odata.etag"] == f'W/"{made["changeKey"]}"'
    off = http.post(EVENTS, json=body("s", isReminderOn=False)).json()
    assert off["isReminderOn"] is False
    item = f"/users/{MAILBOX}/events/{made['id']}"
    changed = http.patch(item, json={"subject": "Ny"}).json()
    assert changed["changeKey"] != made["changeKey"]
    assert http.patch(item, json={"changeKey": "mine"}).status_code == 400  # read-only


def test_bodies_are_checked_against_the_csdl(fake: FakeGraph, http: httpx.Client) -> None:
    bad = http.post(EVENTS, json=body("v", showAs="away", subjekt="x"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "SchemaViolation")
    assert any("subjekt" in v for v in fake.schema_violations)
    assert any("'away'" in v for v in fake.schema_violations)
    fake.schema_violations.clear()  # seen; the fake would fail the test when it closes
    assert http.post(EVENTS, json=body("w", showAs="Tentative")).status_code == 201  # any case


def test_delete_goes_to_deleted_items_and_permanent_delete_purges(
    fake: FakeGraph, http: httpx.Client
) -> None:
    soft = http.post(EVENTS, json=body("soft")).json()
    hard = http.post(EVENTS, json=body("hard")).json()
    assert http.delete(f"/users/{MAILBOX}/events/{soft['id']}").status_code == 204
    assert [e["id"] for e in fake.deleted_items(MAILBOX)] == [soft["id"]]
    assert http.get(f"/users/{MAILBOX}/events/{soft['id']}").status_code == 200
    purge = f"/users/{MAILBOX}/events/{hard['id']}/permanentDelete"
    assert http.post(purge, headers={"If-Match": 'W/"old"'}).status_code == 412
    assert http.post(purge).status_code == 204
    assert http.post(purge).status_code == 404
    assert http.get(f"/users/{MAILBOX}/events/{hard['id']}").status_code == 404
    assert fake.events(MAILBOX) == []
    assert [e["id"] for e in fake.deleted_items(MAILBOX)] == [soft["id"]]


@pytest.mark.parametrize("match_deleted", [True, False])
def test_transaction_id_of_a_deleted_event(
    fake: FakeGraph, http: httpx.Client, match_deleted: bool
) -> None:
    fake.transaction_ids_match_deleted = match_deleted
    first = http.post(EVENTS, json=body("t", transactionId="tid-9")).json()
    fake.delete_in_outlook(MAILBOX, first["id"])
    again = http.post(EVENTS, json=body("t", transactionId="tid-9")).json()
    assert (again["id"] == first["id"]) is match_deleted
    assert len(fake.events(MAILBOX)) == (0 if match_deleted else 1)


def test_conflict_knob_answers_409(fake: FakeGraph, http: httpx.Client) -> None:
    made = http.post(EVENTS, json=body("c")).json()
    fake.conflict_next(1)
    reply = http.patch(f"/users/{MAILBOX}/events/{made['id']}", json={"subject": "x"})
    assert (reply.status_code, reply.json()["error"]["code"]) == (409, "ErrorIrresolvableConflict")
    assert http.patch(f"/users/{MAILBOX}/events/{made['id']}", json={"subject": "x"}).is_success


def test_batch_ids_must_be_unique_case_insensitively(fake: FakeGraph, http: httpx.Client) -> None:
    subs = [{"id": i, "method": "GET", "url": EVENTS} for i in ("a", "A")]
    assert http.post("/$batch", json={"requests": subs}).status_code == 400
    dangling = [{"id": "1", "method": "GET", "url": EVENTS, "dependsOn": ["2"]}]
    assert http.post("/$batch", json={"requests": dangling}).status_code == 400
    assert fake.batches == []


def test_outer_424_still_carries_every_response(fake: FakeGraph, http: httpx.Client) -> None:
    subs = [
        {
            "id": str(n),
            "method": "POST",
            "url": EVENTS,
            "body": body(f"o{n}"),
            "headers": {"Content-Type": "application/json"},
        }
        for n in range(3)
    ]
    fake.fail_next_batch_subrequests(1, status=429, outer=424)
    reply = http.post("/$batch", json={"requests": subs})
    assert reply.status_code == 424
    assert [r["status"] for r in reply.json()["responses"]] == [429, 201, 201]


def test_throttle_knob_can_send_decimal_seconds(fake: FakeGraph, http: httpx.Client) -> None:
    fake.throttle_next(1, retry_after="2.128")
    assert http.get(EVENTS).headers["Retry-After"] == "2.128"


def test_a_fifth_concurrent_request_to_a_mailbox_is_throttled(
    fake: FakeGraph, http: httpx.Client
) -> None:
    fake.hold()
    threads = [threading.Thread(target=http.get, args=(EVENTS,)) for _ in range(4)]
    for t in threads:
        t.start()
    assert fake.wait_in_flight(MAILBOX, 4)
    fifth = httpx.get(fake.graph_url + EVENTS, headers=dict(http.headers))
    assert (fifth.status_code, fifth.json()["error"]["code"]) == (429, "ApplicationThrottled")
    assert "MailboxConcurrency" in fifth.json()["error"]["message"]
    fake.release()
    for t in threads:
        t.join()
    assert fake.concurrency_rejections == 1
    assert fake.max_in_flight[MAILBOX] == 4
