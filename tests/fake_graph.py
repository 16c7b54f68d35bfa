"""FakeGraph: an in-process FAKE of the few Microsoft Graph endpoints syncsvc uses.

A fake, not Microsoft Graph: passing tests show the target speaks the protocol as we read the
docs, not that Exchange Online agrees (tests/test_graph_live.py checks against a tenant). A
stdlib `http.server` on 127.0.0.1. Page names are Microsoft Learn pages (.../graph/<page>).

Every request body it is sent and every event, calendar or listing it returns is checked against
Microsoft's CSDL (tests/graph_schema); a violation answers 400 `SchemaViolation` and is kept in
`schema_violations`, which makes the test fail when the fake closes.

Behaviours, each *documented* (the page it follows) or *assumed*:
- Sign-in (tests/fake_graph_auth.py): client-credentials grant with a secret or a certificate
  assertion, OpenID discovery, AADSTS error codes. *documented* there. Graph requests without
  a token we issued get 401 `InvalidAuthenticationToken`. *documented* ("errors").
- GET /users/{upn}/calendars lists calendars (id, name, ...). *documented* ("user-list-calendars").
- GET .../calendar/events and .../calendars/{id}/events with
  `$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{prop}' and ep/value eq '{v}')`
  (or `ne null`), `$expand=singleValueExtendedProperties($filter=id eq '{prop}' or ...)`,
  `$select`, `$top`; server-driven paging with `@odata.nextLink` (a full URL with
  `$skiptoken`). *documented* ("singlevaluelegacyextendedproperty-get", "paging"). Any other
  `$filter` -> 400 *assumed* (keeps the fake honest about what it understands). The "any value"
  form `ep/value ne null` is *assumed* (widely used; the doc shows `eq`; the live test lists
  more than a page of owned events with it).
- Times come back in the zone named by `Prefer: outlook.timezone` (UTC without it); text
  bodies come back as text only with `Prefer: outlook.body-content-type="text"` (else HTML).
  *documented* ("event-get"). All-day events come back as midnight dates labelled with the
  requested zone, without conversion. *assumed*
- POST creates: `isAllDay` needs midnight start/end in one zone -> else 400 *documented*
  ("resources/event"). Properties left out get the server's defaults: `isReminderOn` true with
  `reminderMinutesBeforeStart` 15 (Outlook's default reminder; *assumed* from Microsoft's issue
  threads, e.g. msgraph-sdk-php#142; the live test checks what we send wins), `showAs` busy,
  `importance`/`sensitivity` normal, no attendees. Read-only properties (`changeKey`,
  `createdDateTime`, ...) in a body -> 400. *documented* ("resources/event").
- `changeKey` changes on every write, and `@odata.etag` is `W/"{changeKey}"`. *documented*
  ("resources/event": changeKey "changes every time the event is changed"); the etag being
  made from it is *assumed* (what Graph replies show).
- `transactionId`: a create whose transactionId the mailbox has seen returns that event (201)
  instead of a second one. *documented in purpose* ("resources/event": "avoid redundant POST
  operations"); the reply is *assumed*. Whether Exchange also matches a *deleted* event's
  transactionId is undocumented: the fake does (`transaction_ids_match_deleted`, default on), the
  worst case, so a client that reuses ids per UID gets the deleted copy back.
- PATCH merges top-level fields; `singleValueExtendedProperties` in a PATCH creates or updates
  the listed properties only. *documented* ("singlevaluelegacyextendedproperty-post").
  `transactionId` cannot be changed -> 400. *documented* ("resources/event").
- PATCH/DELETE/permanentDelete honour `If-Match` with the `@odata.etag`: mismatch -> 412
  `ErrorIrresolvableConflict`. *assumed* (the event-update page does not list If-Match; the live
  test checks it). Exchange also answers a conflict as 409 `ErrorIrresolvableConflict`
  (Microsoft's issue threads); `conflict_next(n)` makes the next writes do that.
- DELETE moves the event to the mailbox's Deleted Items: it leaves the calendar listing, and
  GET by id still finds it. *assumed* (Exchange's soft delete; "event-delete" says only 204).
  POST .../events/{id}/permanentDelete removes it for good (204). *documented*
  ("event-permanentdelete"). Either on a missing event -> 404 `ErrorItemNotFound`. *documented*.
- `Prefer: IdType="ImmutableId"` is recorded per request so tests can insist on it; ids here
  never change anyway. *documented* ("outlook-immutable-id").
- POST /$batch: 1 to 20 sub-requests (else 400); ids unique, compared case-insensitively (else
  400 for the whole batch); a sub-request body needs a Content-Type header; `dependsOn` must
  name ids in the batch; each sub-request gets its own status, headers and body. *documented*
  ("json-batching").
- Outlook allows 4 concurrent requests per app and mailbox; a request beyond that gets 429
  `ApplicationThrottled` "MailboxConcurrency" with a Retry-After. A batch counts as the number
  of its sub-requests, up to 4 (Graph runs up to 4 of them at once). *documented*
  ("throttling-limits", Outlook service limits; "json-batching"). Counted in
  `concurrency_rejections`.
- Any request carrying `attendees` (create, update, batched or not) is rejected with 400 and
  counted in `attendee_requests`: syncsvc must never invite anyone. *assumed* (our rule).

Fault knobs: `throttle_next(n, retry_after)` (429 + Retry-After, which may be a decimal such
as "2.128"; *documented* "throttling" and Microsoft's issue threads),
`drop_next_create_response()` (apply a create, then close the connection without a reply),
`fail_next_batch_subrequests(n, status, retry_after, outer=200)` (sub-requests failed
unapplied; `outer=424` also makes the batch's own status 424 while the other sub-requests
succeed: *documented* "throttling", batching), `conflict_next(n, status=409)`, `revoke_tokens()`,
`hold()`/`release()` (park requests to observe concurrency).
"""

from __future__ import annotations

import copy
import secrets
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests import fake_graph_events as ev
from tests.fake_graph_auth import (
    AppRegistration,
    check_grant,
    instance_metadata,
    openid_configuration,
)
from tests.fake_graph_events import FakeCalendar, Mailbox
from tests.fake_graph_http import (
    DROP,
    ROUTES,
    Reply,
    error,
    mailbox_of,
    run_batch,
    start_server,
)
from tests.graph_schema import validate

JSON = dict[str, Any]
MAILBOX_CONCURRENCY = 4


class FakeGraph:
    """The fake server and its data. Use as a context manager; `graph_url` is the API root."""

    def __init__(
        self, *, tenant: str = "fake-tenant", client_id: str = "fake-client", secret: str = "s3cret"
    ) -> None:
        self.tenant, self.client_id, self.secret = tenant, client_id, secret
        self.app = AppRegistration(client_id, {secret})
        self.authority_alias: str | None = None  # the authority as a client sees it (MSAL tests)
        self.lock = threading.RLock()
        self.mailboxes: dict[str, Mailbox] = {}
        self.page_size = 10  # server-driven paging, so tests page with few events
        self.token_lifetime = 3599
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.token_requests: list[dict[str, str]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every HTTP request
        self.prefer: list[str] = []  # Prefer header of every Graph request and sub-request
        self.writes: list[tuple[str, str, Any]] = []  # (method, path, body) of every write
        self.batches: list[list[JSON]] = []  # the sub-requests of every batch
        self.attendee_requests = 0
        self.schema_violations: list[str] = []
        self.check_schema = True  # off only in bench/bench_graph.py, to measure what it costs
        self.concurrency_rejections = 0
        self.transaction_ids_match_deleted = True
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self._throttle = 0
        self._throttle_after = "1"
        self._drop_creates = 0
        self._fail_subs = 0
        self._fail_status = 429
        self._fail_after = "1"
        self._fail_outer = 200
        self._conflicts = 0
        self._conflict_status = 409
        self._open = threading.Event()
        self._open.set()
        self._changed = threading.Condition(self.lock)
        self._stop: Callable[[], None] | None = None
        self._port = 0
        self.on_exit: list[Callable[[], None]] = []  # e.g. closing the clients a test opened

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> FakeGraph:
        self._port, self._stop = start_server(self)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._open.set()
        for action in self.on_exit:
            action()
        if self._stop is not None:
            self._stop()
        if exc_type is None:
            assert not self.schema_violations, "\n".join(self.schema_violations)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def graph_url(self) -> str:
        return self.url + "/v1.0"

    # --- test data and knobs ------------------------------------------------------------------
    def add_mailbox(self, upn: str, calendars: tuple[str, ...] = ()) -> None:
        with self.lock:
            cals = {}
            for name in ("Calendar", *calendars):
                cal = FakeCalendar(ev.new_id(), name)
                cals[cal.id] = cal
            self.mailboxes[upn.casefold()] = Mailbox(cals, next(iter(cals)))

    def add_event(self, upn: str, body: JSON, calendar: str | None = None) -> str:
        """Put an event in directly (someone else's event: no request, no checks)."""
        with self.lock:
            event = ev.stored_event(body)
            self._calendar_named(upn, calendar).events[event["id"]] = event
            return str(event["id"])

    def edit_event(self, upn: str, event_id: str, **changes: Any) -> None:
        """An edit made in Outlook: fields change, the changeKey and etag change."""
        with self.lock:
            event = self._find(upn.casefold(), event_id)
            assert event is not None, event_id
            event.update(copy.deepcopy(changes))
            ev.stamp(event)

    def delete_in_outlook(self, upn: str, event_id: str) -> None:
        """A person deletes the event in Outlook: it goes to their Deleted Items."""
        with self.lock:
            box = self.mailboxes[upn.casefold()]
            for cal in box.calendars.values():
                if event_id in cal.events:
                    box.deleted[event_id] = cal.events.pop(event_id)

    def events(self, upn: str, calendar: str | None = None) -> list[JSON]:
        with self.lock:
            return copy.deepcopy(list(self._calendar_named(upn, calendar).events.values()))

    def deleted_items(self, upn: str) -> list[JSON]:
        with self.lock:
            return copy.deepcopy(list(self.mailboxes[upn.casefold()].deleted.values()))

    def register_certificate(self, cert: Any) -> None:
        with self.lock:
            self.app.certificates.append(cert)

    def throttle_next(self, n: int, retry_after: float | str = 1) -> None:
        with self.lock:
            self._throttle, self._throttle_after = n, str(retry_after)

    def drop_next_create_response(self, n: int = 1) -> None:
        with self.lock:
            self._drop_creates = n

    def fail_next_batch_subrequests(
        self, n: int, status: int = 429, retry_after: float | str = 1, outer: int = 200
    ) -> None:
        with self.lock:
            self._fail_subs, self._fail_status = n, status
            self._fail_after, self._fail_outer = str(retry_after), outer

    def conflict_next(self, n: int, status: int = 409) -> None:
        """The next `n` PATCH/DELETE/permanentDelete fail as ErrorIrresolvableConflict."""
        with self.lock:
            self._conflicts, self._conflict_status = n, status

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def hold(self) -> None:
        """Park every Graph request until `release()` (to see how many are in flight)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait_in_flight(self, upn: str, count: int, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: self.in_flight.get(upn.casefold(), 0) >= count, timeout
            )

    # --- HTTP entry points (called by tests/fake_graph_http.py) -------------------------------
    def token(self, tenant: str, form: dict[str, str]) -> Reply:
        with self.lock:
            self.token_requests.append(form)
            if tenant != self.tenant:
                return Reply(400, {"error": "invalid_request", "error_codes": [90002]})
            endpoint = (
                f"{(self.authority_alias or self.url).rstrip('/')}/{tenant}/oauth2/v2.0/token"
            )
            refusal = check_grant(self.app, form, endpoint)
            if refusal is not None:
                return Reply(refusal.status, refusal.body())
            self.tokens_issued += 1
            token = f"fake-token-{self.tokens_issued}-{secrets.token_hex(4)}"
            self.tokens.add(token)
            return Reply(
                200,
                {"token_type": "Bearer", "expires_in": self.token_lifetime, "access_token": token},
            )

    def instance_discovery(self) -> Reply:
        return Reply(200, instance_metadata(self.authority_alias or self.url))

    def discovery(self, tenant: str) -> Reply:
        return Reply(200, openid_configuration(self.authority_alias or self.url, tenant))

    @contextmanager
    def tracking(self, target: str, body: Any) -> Iterator[bool]:
        """Count the request against its mailbox; yields False if over the concurrency limit."""
        key, units = mailbox_of(target, body, MAILBOX_CONCURRENCY)
        with self._changed:
            admitted = not key or self.in_flight.get(key, 0) + units <= MAILBOX_CONCURRENCY
            if admitted:
                self.in_flight[key] = self.in_flight.get(key, 0) + units
                self.max_in_flight[key] = max(self.max_in_flight.get(key, 0), self.in_flight[key])
                self._changed.notify_all()
            else:
                self.concurrency_rejections += 1
        if not admitted:
            yield False
            return
        try:
            self._open.wait()
            yield True
        finally:
            with self._changed:
                self.in_flight[key] -= units

    def graph(self, method: str, target: str, headers: dict[str, str], body: Any) -> Reply | object:
        with self.lock:
            auth = headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return error(401, "InvalidAuthenticationToken", "Access token is empty or invalid")
            if self._throttle > 0:
                self._throttle -= 1
                reply = error(429, "ApplicationThrottled", "Application is over its limit")
                reply.headers["Retry-After"] = self._throttle_after
                return reply
            if target.split("?")[0] == "/$batch" and method == "POST":
                return self._batch(body)
            return self.dispatch(method, target, headers, body)

    # --- the API ------------------------------------------------------------------------------
    def dispatch(
        self, method: str, target: str, headers: dict[str, str], body: Any
    ) -> Reply | object:
        path, _, query = target.partition("?")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        self.prefer.append(headers.get("prefer", ""))
        if method != "GET":
            self.writes.append((method, path, copy.deepcopy(body)))
        if isinstance(body, dict) and "attendees" in body:
            self.attendee_requests += 1
            return error(400, "SyncsvcFakeRefused", "attendees are never allowed")
        for kind, pattern in ROUTES:
            match = pattern.match(path)
            if not match:
                continue
            upn = urllib.parse.unquote(match.group(1)).casefold()
            box = self.mailboxes.get(upn)
            if box is None:
                return error(404, "ErrorInvalidUser", f"mailbox {upn} not found")
            if kind == "calendars" and method == "GET":
                cals = [{"id": c.id, "name": c.name} for c in box.calendars.values()]
                return self._checked(Reply(200, {"value": cals}), "calendar", collection=True)
            if kind == "events":
                cal_id = match.group(2) if pattern.groups == 2 else box.default
                cal = box.calendars.get(urllib.parse.unquote(cal_id))
                if cal is None:
                    return error(404, "ErrorItemNotFound", "calendar not found")
                if method == "GET":
                    return self._checked(self._list(cal, path, params, headers), collection=True)
                if method == "POST":
                    return self._create(box, cal, body, headers)
            if kind == "item":
                event_id = urllib.parse.unquote(match.group(2))
                return self._item(method, box, event_id, params, headers, body)
            if kind == "permanent" and method == "POST":
                event_id = urllib.parse.unquote(match.group(2))
                return self._item("PURGE", box, event_id, params, headers, body)
            return error(405, "ErrorInvalidRequest", f"{method} not supported here")
        return error(404, "UnknownResource", path)

    def _checked(self, reply: Reply, type_name: str = "event", collection: bool = False) -> Reply:
        """Check what the fake returns against the CSDL too, so its replies stay realistic."""
        if self.check_schema and reply.status < 300 and reply.body is not None:
            found = (
                validate.collection_problems(reply.body, type_name)
                if collection
                else validate.problems(reply.body, type_name)
            )
            self.schema_violations.extend(f"fake reply: {p}" for p in found)
        return reply

    def _refused_body(self, body: Any) -> Reply | None:
        found = validate.problems(body, "event") if self.check_schema else []
        if found:
            self.schema_violations.extend(f"client sent: {p}" for p in found)
            return error(400, "SchemaViolation", "; ".join(found))
        return None

    def _list(
        self, cal: FakeCalendar, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> Reply:
        if "$filter" in params and not ev.FILTER.match(params["$filter"]):
            return error(400, "ErrorInvalidUrlQueryFilter", params["$filter"])
        page = ev.list_page(list(cal.events.values()), params, headers, self.page_size)
        if "@odata.nextLink" in page:
            page["@odata.nextLink"] = f"{self.graph_url}{path}?{page['@odata.nextLink']}"
        return Reply(200, page)

    def _create(
        self, box: Mailbox, cal: FakeCalendar, body: Any, headers: dict[str, str]
    ) -> Reply | object:
        refused = self._refused_body(body)
        if refused is not None:
            return refused
        problem = ev.writable_problem(body) or ev.check_event(body)
        if problem:
            return error(400, "ErrorInvalidRequest", problem)
        tid = body.get("transactionId")
        known = box.transaction_ids.get(tid) if tid else None
        if known is not None and (self.transaction_ids_match_deleted or self._live(box, known)):
            return self._checked(Reply(201, ev.render(known, {}, headers)))
        event = ev.stored_event(body)
        cal.events[event["id"]] = event
        if tid:
            box.transaction_ids[tid] = event
        if self._drop_creates > 0:
            self._drop_creates -= 1
            return DROP
        return self._checked(Reply(201, ev.render(event, {}, headers)))

    def _item(
        self,
        method: str,
        box: Mailbox,
        event_id: str,
        params: dict[str, str],
        headers: dict[str, str],
        body: Any,
    ) -> Reply:
        event = self._find_in(box, event_id)
        if event is None:
            return error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if method == "GET":
            return self._checked(Reply(200, ev.render(event, params, headers)))
        if method not in ("PATCH", "DELETE", "PURGE"):
            return error(405, "ErrorInvalidRequest", method)
        if self._conflicts > 0:
            self._conflicts -= 1
            return error(
                self._conflict_status,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key "
                "passed in the request does not match the current change key for the item.",
            )
        if_match = headers.get("if-match")
        if if_match is not None and if_match != event["@odata.etag"]:
            return error(412, "ErrorIrresolvableConflict", "The etag does not match")
        if method == "DELETE":
            for cal in box.calendars.values():
                if cal.events.pop(event_id, None) is not None:
                    box.deleted[event_id] = event
                    return Reply(204)
            box.deleted.pop(event_id, None)  # deleting from Deleted Items purges
            return Reply(204)
        if method == "PURGE":
            for cal in box.calendars.values():
                cal.events.pop(event_id, None)
            box.deleted.pop(event_id, None)
            return Reply(204)
        return self._patch(event, body, headers)

    def _patch(self, event: JSON, body: Any, headers: dict[str, str]) -> Reply:
        refused = self._refused_body(body)
        if refused is not None:
            return refused
        if not isinstance(body, dict) or "transactionId" in body:
            return error(400, "ErrorInvalidRequest", "transactionId cannot be changed")
        problem = ev.writable_problem(body)
        if problem:
            return error(400, "ErrorInvalidRequest", problem)
        merged = {**event, **copy.deepcopy(body)}
        props = {p["id"]: p for p in event.get("singleValueExtendedProperties", [])}
        props.update({p["id"]: p for p in body.get("singleValueExtendedProperties", [])})
        merged["singleValueExtendedProperties"] = list(props.values())
        problem = ev.check_event(merged)
        if problem:
            return error(400, "ErrorInvalidRequest", problem)
        event.clear()
        event.update(merged)
        ev.stamp(event)
        return self._checked(Reply(200, ev.render(event, {}, headers)))

    def _batch(self, body: Any) -> Reply:
        return run_batch(self, body)

    # --- helpers ------------------------------------------------------------------------------
    def _calendar_named(self, upn: str, name: str | None) -> FakeCalendar:
        box = self.mailboxes[upn.casefold()]
        if name is None:
            return box.calendars[box.default]
        return next(c for c in box.calendars.values() if c.name == name)

    def _find(self, upn: str, event_id: str) -> JSON | None:
        return self._find_in(self.mailboxes[upn], event_id)

    @staticmethod
    def _find_in(box: Mailbox, event_id: str) -> JSON | None:
        for cal in box.calendars.values():
            if event_id in cal.events:
                return cal.events[event_id]
        return box.deleted.get(event_id)

    @staticmethod
    def _live(box: Mailbox, event: JSON) -> bool:
        return any(event["id"] in cal.events for cal in box.calendars.values())
