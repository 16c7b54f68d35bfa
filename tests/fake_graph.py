"""FakeGraph: an in-process FAKE of the few Microsoft Graph endpoints syncsvc uses.

It is a fake, not Microsoft Graph: tests against it show that the target speaks the protocol
as we read the docs, not that Exchange Online agrees (tests/test_graph_live.py checks that
against a real tenant). A stdlib `http.server` in a thread on 127.0.0.1, on a free port.

Behaviours, each *documented* (the Microsoft Learn page it follows) or *assumed*:
- Token: POST /{tenant}/oauth2/v2.0/token, client-credentials grant, returns access_token and
  expires_in; wrong client or secret -> 400 invalid_client. *documented*
  (identity-platform "v2-oauth2-client-creds-grant-flow"). Graph requests without a token we
  issued get 401. *documented* (graph "errors").
- GET /users/{upn}/calendars lists calendars (id, name). *documented* ("user-list-calendars").
- GET .../calendar/events and .../calendars/{id}/events with
  `$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{prop}' and ep/value eq '{v}')`
  (or `ne null`), `$expand=singleValueExtendedProperties($filter=id eq '{prop}' or ...)`,
  `$select`, `$top`; server-driven paging with `@odata.nextLink` (a full URL with
  `$skiptoken`). *documented* ("singlevaluelegacyextendedproperty-get", "paging"). Any other
  `$filter` -> 400 *assumed* (keeps the fake honest about what it understands). The "any value"
  form `ep/value ne null` is *assumed* (widely used; the doc shows `eq`).
- Times come back in the zone named by `Prefer: outlook.timezone` (UTC without it); text
  bodies come back as text only with `Prefer: outlook.body-content-type="text"` (else HTML).
  *documented* ("event-get"). All-day events come back as midnight dates labelled with the
  requested zone, without conversion. *assumed*
- POST creates: `isAllDay` needs midnight start/end in one zone -> else 400 *documented*
  ("resources/event"); a `transactionId` already used in the mailbox returns the existing
  event instead of a second one *documented in purpose* ("resources/event": "avoid redundant
  POST operations"), reply 201 with the existing event *assumed*. The reply holds no
  extended properties unless expanded. *assumed*
- PATCH merges top-level fields; `singleValueExtendedProperties` in a PATCH creates or updates
  the listed properties only. *documented* ("singlevaluelegacyextendedproperty-post").
  `transactionId` cannot be changed -> 400. *documented* ("resources/event").
- PATCH/DELETE honour `If-Match` with the `@odata.etag`: mismatch -> 412. *assumed* (the
  event-update page does not list If-Match; the live test checks it). DELETE of a missing
  event -> 404. *documented* ("event-delete").
- Every write changes `@odata.etag`. *documented* (OData etag semantics).
- `Prefer: IdType="ImmutableId"` is recorded per request so tests can insist on it; ids here
  never change anyway. *documented* ("outlook-immutable-id").
- POST /$batch: at most 20 sub-requests (else 400), sub-request bodies need Content-Type,
  each sub-request gets its own status/headers/body. *documented* ("json-batching").
- Any request carrying `attendees` (create, update, batched or not) is rejected with 400 and
  counted in `attendee_requests`: syncsvc must never invite anyone. *assumed* (our rule).

Fault knobs: `throttle_next(n, retry_after)` (429 + Retry-After, *documented* "throttling"),
`drop_next_create_response()` (apply a create, then close the connection without a reply),
`fail_next_batch_subrequests(n, status, retry_after)` (sub-requests failed unapplied),
`revoke_tokens()`, `hold()`/`release()` (park requests to observe concurrency).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import win_tz

JSON = dict[str, Any]
DROP = object()  # "close the connection without a reply"
_FILTER = re.compile(
    r"^singleValueExtendedProperties/Any\(ep: ep/id eq '([^']*)' and "
    r"ep/value (?:ne null|eq '((?:[^']|'')*)')\)$"
)
_EXPAND = re.compile(r"^singleValueExtendedProperties\(\$filter=(.*)\)$")
_ROUTES = [
    ("calendars", re.compile(r"^/users/([^/]+)/calendars$")),
    ("events", re.compile(r"^/users/([^/]+)/calendar/events$")),
    ("events", re.compile(r"^/users/([^/]+)/calendars/([^/]+)/events$")),
    ("item", re.compile(r"^/users/([^/]+)/events/([^/]+)$")),
]


@dataclass
class FakeCalendar:
    id: str
    name: str
    events: dict[str, JSON] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: str, message: str = "") -> Reply:
    return Reply(status, {"error": {"code": code, "message": message or code}})


class FakeGraph:
    """The fake server and its data. Use as a context manager; `graph_url` is the API root."""

    def __init__(
        self, *, tenant: str = "fake-tenant", client_id: str = "fake-client", secret: str = "s3cret"
    ) -> None:
        self.tenant, self.client_id, self.secret = tenant, client_id, secret
        self.lock = threading.RLock()
        self.mailboxes: dict[str, dict[str, FakeCalendar]] = {}
        self.default_calendar: dict[str, str] = {}
        self.page_size = 10  # server-driven paging, so tests page with few events
        self.token_lifetime = 3599
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) of every HTTP request
        self.prefer: list[str] = []  # Prefer header of every Graph request and sub-request
        self.writes: list[tuple[str, str, Any]] = []  # (method, path, body) of every write
        self.attendee_requests = 0
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self._throttle = 0
        self._throttle_after = 1
        self._drop_creates = 0
        self._fail_subs = 0
        self._fail_status = 429
        self._fail_after = 1
        self._open = threading.Event()
        self._open.set()
        self._changed = threading.Condition(self.lock)
        self._server: ThreadingHTTPServer | None = None
        self.on_exit: list[Callable[[], None]] = []  # e.g. closing the clients a test opened

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> FakeGraph:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._open.set()
        for action in self.on_exit:
            action()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def graph_url(self) -> str:
        return self.url + "/v1.0"

    # --- test data and knobs ------------------------------------------------------------------
    def add_mailbox(self, upn: str, calendars: tuple[str, ...] = ()) -> None:
        with self.lock:
            cals = {}
            for name in ("Calendar", *calendars):
                cal = FakeCalendar(_new_id(), name)
                cals[cal.id] = cal
            self.mailboxes[upn.casefold()] = cals
            self.default_calendar[upn.casefold()] = next(iter(cals))

    def add_event(self, upn: str, body: JSON, calendar: str | None = None) -> str:
        """Put an event in directly (someone else's event: no request, no checks)."""
        with self.lock:
            cal = self._calendar_named(upn, calendar)
            event = {**copy.deepcopy(body), "id": _new_id(), "@odata.etag": _new_etag()}
            cal.events[event["id"]] = event
            return str(event["id"])

    def edit_event(self, upn: str, event_id: str, **changes: Any) -> None:
        """An edit made in Outlook: fields change, the etag changes."""
        with self.lock:
            event = self._find(upn, event_id)
            assert event is not None, event_id
            event.update(copy.deepcopy(changes))
            event["@odata.etag"] = _new_etag()

    def events(self, upn: str, calendar: str | None = None) -> list[JSON]:
        with self.lock:
            return copy.deepcopy(list(self._calendar_named(upn, calendar).events.values()))

    def throttle_next(self, n: int, retry_after: int = 1) -> None:
        with self.lock:
            self._throttle, self._throttle_after = n, retry_after

    def drop_next_create_response(self, n: int = 1) -> None:
        with self.lock:
            self._drop_creates = n

    def fail_next_batch_subrequests(self, n: int, status: int = 429, retry_after: int = 1) -> None:
        with self.lock:
            self._fail_subs, self._fail_status, self._fail_after = n, status, retry_after

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

    # --- HTTP entry points (called by the handler) --------------------------------------------
    def token(self, form: dict[str, str]) -> Reply:
        with self.lock:
            if form.get("grant_type") != "client_credentials":
                return Reply(400, {"error": "unsupported_grant_type"})
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.secret:
                return Reply(400, {"error": "invalid_client", "error_description": "bad secret"})
            self.tokens_issued += 1
            token = f"fake-token-{self.tokens_issued}-{secrets.token_hex(4)}"
            self.tokens.add(token)
            return Reply(
                200,
                {"token_type": "Bearer", "expires_in": self.token_lifetime, "access_token": token},
            )

    @contextmanager
    def tracking(self, mailbox: str | None) -> Iterator[None]:
        key = (mailbox or "").casefold()
        with self._changed:
            self.in_flight[key] = self.in_flight.get(key, 0) + 1
            self.max_in_flight[key] = max(self.max_in_flight.get(key, 0), self.in_flight[key])
            self._changed.notify_all()
        try:
            self._open.wait()
            yield
        finally:
            with self._changed:
                self.in_flight[key] -= 1

    def graph(self, method: str, target: str, headers: dict[str, str], body: Any) -> Reply | object:
        with self.lock:
            auth = headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid")
            if self._throttle > 0:
                self._throttle -= 1
                reply = _error(429, "ApplicationThrottled", "Application is over its limit")
                reply.headers["Retry-After"] = str(self._throttle_after)
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
            return _error(400, "SyncsvcFakeRefused", "attendees are never allowed")
        for kind, pattern in _ROUTES:
            match = pattern.match(path)
            if not match:
                continue
            upn = urllib.parse.unquote(match.group(1)).casefold()
            if upn not in self.mailboxes:
                return _error(404, "ErrorInvalidUser", f"mailbox {upn} not found")
            if kind == "calendars" and method == "GET":
                cals = [{"id": c.id, "name": c.name} for c in self.mailboxes[upn].values()]
                return Reply(200, {"value": cals})
            if kind == "events":
                cal_id = match.group(2) if pattern.groups == 2 else self.default_calendar[upn]
                cal = self.mailboxes[upn].get(urllib.parse.unquote(cal_id))
                if cal is None:
                    return _error(404, "ErrorItemNotFound", "calendar not found")
                if method == "GET":
                    return self._list(cal, path, params, headers)
                if method == "POST":
                    return self._create(upn, cal, body, headers)
            if kind == "item":
                return self._item(
                    method, upn, urllib.parse.unquote(match.group(2)), params, headers, body
                )
            return _error(405, "ErrorInvalidRequest", f"{method} not supported here")
        return _error(404, "UnknownResource", path)

    def _list(
        self, cal: FakeCalendar, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> Reply:
        events = list(cal.events.values())
        if "$filter" in params:
            match = _FILTER.match(params["$filter"])
            if not match:
                return _error(400, "ErrorInvalidUrlQueryFilter", params["$filter"])
            prop, value = match.group(1), match.group(2)
            wanted = None if value is None else value.replace("''", "'")
            events = [e for e in events if _has_property(e, prop, wanted)]
        start = int(params.get("$skiptoken", "0"))
        size = min(int(params.get("$top", "10")), self.page_size)
        page = events[start : start + size]
        out: JSON = {"value": [self._render(e, params, headers) for e in page]}
        if start + size < len(events):
            nxt = {**params, "$skiptoken": str(start + size)}
            out["@odata.nextLink"] = f"{self.graph_url}{path}?{urllib.parse.urlencode(nxt)}"
        return Reply(200, out)

    def _create(
        self, upn: str, cal: FakeCalendar, body: Any, headers: dict[str, str]
    ) -> Reply | object:
        problem = _check_event(body)
        if problem:
            return _error(400, "ErrorInvalidRequest", problem)
        tid = body.get("transactionId")
        if tid:
            for other in self.mailboxes[upn].values():
                for existing in other.events.values():
                    if existing.get("transactionId") == tid:
                        return Reply(201, self._render(existing, {}, headers))
        event = {**copy.deepcopy(body), "id": _new_id(), "@odata.etag": _new_etag()}
        cal.events[event["id"]] = event
        if self._drop_creates > 0:
            self._drop_creates -= 1
            return DROP
        return Reply(201, self._render(event, {}, headers))

    def _item(
        self,
        method: str,
        upn: str,
        event_id: str,
        params: dict[str, str],
        headers: dict[str, str],
        body: Any,
    ) -> Reply:
        event = self._find(upn, event_id)
        if event is None:
            return _error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if method == "GET":
            return Reply(200, self._render(event, params, headers))
        if_match = headers.get("if-match")
        if if_match is not None and if_match != event["@odata.etag"]:
            return _error(412, "ErrorIrresolvableConflict", "The etag does not match")
        if method == "DELETE":
            for cal in self.mailboxes[upn].values():
                cal.events.pop(event_id, None)
            return Reply(204)
        if method == "PATCH":
            if not isinstance(body, dict) or "transactionId" in body:
                return _error(400, "ErrorInvalidRequest", "transactionId cannot be changed")
            merged = {**event, **copy.deepcopy(body)}
            props = {p["id"]: p for p in event.get("singleValueExtendedProperties", [])}
            props.update({p["id"]: p for p in body.get("singleValueExtendedProperties", [])})
            merged["singleValueExtendedProperties"] = list(props.values())
            problem = _check_event(merged)
            if problem:
                return _error(400, "ErrorInvalidRequest", problem)
            merged["@odata.etag"] = _new_etag()
            event.clear()
            event.update(merged)
            return Reply(200, self._render(event, {}, headers))
        return _error(405, "ErrorInvalidRequest", method)

    def _batch(self, body: Any) -> Reply:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
            return _error(400, "BadRequest", "a batch holds 1 to 20 requests")
        out = []
        for sub in requests:
            sub_headers = {str(k).lower(): str(v) for k, v in (sub.get("headers") or {}).items()}
            if "body" in sub and "content-type" not in sub_headers:
                reply = _error(400, "BadRequest", "Content-Type header is required with a body")
            elif self._fail_subs > 0:
                self._fail_subs -= 1
                reply = _error(self._fail_status, "ApplicationThrottled", "sub-request failed")
                reply.headers["Retry-After"] = str(self._fail_after)
            else:
                sub_headers["authorization"] = "Bearer " + next(iter(self.tokens))
                result = self.dispatch(sub["method"], sub["url"], sub_headers, sub.get("body"))
                reply = result if isinstance(result, Reply) else _error(500, "Dropped")
            out.append(
                {
                    "id": sub["id"],
                    "status": reply.status,
                    "headers": reply.headers,
                    "body": reply.body,
                }
            )
        return Reply(200, {"responses": out})

    # --- helpers ------------------------------------------------------------------------------
    def _calendar_named(self, upn: str, name: str | None) -> FakeCalendar:
        cals = self.mailboxes[upn.casefold()]
        if name is None:
            return cals[self.default_calendar[upn.casefold()]]
        return next(c for c in cals.values() if c.name == name)

    def _find(self, upn: str, event_id: str) -> JSON | None:
        for cal in self.mailboxes[upn].values():
            if event_id in cal.events:
                return cal.events[event_id]
        return None

    def _render(self, event: JSON, params: dict[str, str], headers: dict[str, str]) -> JSON:
        out = copy.deepcopy(event)
        props = out.pop("singleValueExtendedProperties", [])
        expand = params.get("$expand")
        if expand:
            match = _EXPAND.match(expand)
            wanted = set(re.findall(r"id eq '([^']*)'", match.group(1))) if match else set()
            out["singleValueExtendedProperties"] = [p for p in props if p["id"] in wanted]
        prefer = _prefer(headers.get("prefer", ""))
        zone_name = prefer.get("outlook.timezone", "UTC")
        for key in ("start", "end"):
            if key in out:
                out[key] = _convert(out[key], zone_name, bool(out.get("isAllDay")))
        body = out.get("body")
        as_text = prefer.get("outlook.body-content-type") == "text"
        if isinstance(body, dict) and body.get("contentType") == "text" and not as_text:
            out["body"] = {
                "contentType": "html",
                "content": f"<html><body>{body.get('content', '')}</body></html>",
            }
        if "$select" in params:
            keep = set(params["$select"].split(",")) | {
                "id",
                "@odata.etag",
                "singleValueExtendedProperties",
            }
            out = {k: v for k, v in out.items() if k in keep}
        return out


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeGraph
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path
        with fake.lock:
            fake.requests.append((self.command, path.split("?")[0]))
        if path.endswith("/oauth2/v2.0/token") and self.command == "POST":
            form = dict(urllib.parse.parse_qsl(raw.decode()))
            self._reply(fake.token(form))
            return
        if not path.startswith("/v1.0/"):
            self._reply(_error(404, "UnknownResource"))
            return
        target = path[len("/v1.0") :]
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._reply(_error(400, "BadRequest", "invalid JSON"))
            return
        with fake.tracking(_mailbox_of(target, body)):
            result = fake.graph(self.command, target, headers, body)
        if result is DROP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        assert isinstance(result, Reply)
        self._reply(result)

    def _reply(self, reply: Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve


def _mailbox_of(target: str, body: Any) -> str | None:
    if target.startswith("/$batch") and isinstance(body, dict):
        urls = [r.get("url", "") for r in body.get("requests") or ()]
        target = urls[0] if urls else ""
    match = re.match(r"^/users/([^/?]+)", target)
    return urllib.parse.unquote(match.group(1)) if match else None


def _has_property(event: JSON, prop: str, value: str | None) -> bool:
    for p in event.get("singleValueExtendedProperties", []):
        # Names are case-sensitive; values compare case-insensitively (documented).
        if p["id"] == prop and (value is None or str(p["value"]).casefold() == value.casefold()):
            return True
    return False


def _check_event(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be an event object"
    for key in ("start", "end"):
        if not isinstance(body.get(key), dict) or "dateTime" not in body[key]:
            return f"{key} is required"
    if body.get("isAllDay"):
        start, end = body["start"], body["end"]
        midnight = all(
            str(v["dateTime"]).split("T")[1].startswith("00:00:00") for v in (start, end)
        )
        if not midnight or start.get("timeZone") != end.get("timeZone"):
            return "all-day events need midnight start and end in the same time zone"
    return None


def _prefer(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key:
            out[key.strip()] = value.strip().strip('"')
    return out


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(win_tz.get(name, name))


def _convert(value: JSON, zone_name: str, all_day: bool) -> JSON:
    wall = datetime.fromisoformat(str(value["dateTime"]).split(".")[0])
    if not all_day:
        instant = wall.replace(tzinfo=_zone(str(value.get("timeZone") or "UTC"))).astimezone(UTC)
        wall = instant.astimezone(_zone(zone_name)).replace(tzinfo=None)
    return {"dateTime": wall.strftime("%Y-%m-%dT%H:%M:%S") + ".0000000", "timeZone": zone_name}


def _new_id() -> str:
    # Real immutable ids are long base64 with '-', '_' and '=': the client must quote them.
    return "AAMk" + secrets.token_urlsafe(24) + "="


def _new_etag() -> str:
    return f'W/"{secrets.token_urlsafe(12)}"'
