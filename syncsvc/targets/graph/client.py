"""HTTP to Microsoft Graph: bearer tokens, throttling, per-mailbox concurrency, JSON batching.

- Every request carries the caller's `Prefer` header (immutable ids, time zone, text bodies).
- 429/5xx: wait for `Retry-After` (or back off exponentially) and retry, bounded by the
  shared `targets.retry.RetryPolicy` (`GRAPH_POLICY`); the wait is an injected `sleep` so
  tests run instantly. POSTs are retried only
  when the caller says they are safe (creates carry a transactionId).
- Exchange Online serves at most 4 concurrent requests per mailbox per app
  (MailboxConcurrency); `MailboxSlots` enforces that across every client of a mailbox. A batch
  takes all slots, because Graph runs up to 4 of its sub-requests against the mailbox at once.
- `$batch`: at most 20 sub-requests a batch. The reply's `responses` are read whatever the
  batch's own status: Graph may answer 424 (or 429) for a batch in which some sub-requests were
  throttled and the others done ("throttling", batching). Sub-requests that failed with
  429/5xx, or 424 (not run because another failed), are retried alone; the others are never
  sent twice. Only a batch reply without `responses` is retried whole.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from syncsvc.domain.errors import AuthError, TargetError
from syncsvc.targets.base import TargetStats
from syncsvc.targets.graph.auth import TokenProvider
from syncsvc.targets.retry import Retries, RetryPolicy, retry_after_seconds

JSON = dict[str, Any]
BATCH_LIMIT = 20  # documented maximum of sub-requests in one $batch
RETRYABLE = frozenset({429, 500, 502, 503, 504})
SUB_RETRYABLE = RETRYABLE | {424}  # 424 Failed Dependency: the sub-request was never run
_SAFE_METHODS = frozenset({"GET", "PATCH", "DELETE"})  # ours carry If-Match: repeating is harmless


# Throttling is Graph's normal answer under load and says how long to wait: more tries and a
# longer budget than CalDAV's; without a Retry-After, 1 s doubling (no cap, no jitter).
GRAPH_POLICY = RetryPolicy(
    attempts=6,  # tries per request (or per batch sub-request), the first included
    base_delay=1.0,
    max_delay=math.inf,
    jitter=False,
    max_wait=120.0,  # a single Retry-After longer than this fails the request
    max_total_wait=600.0,  # waiting summed over one request's retries
)


class MailboxSlots:
    """At most `size` requests in flight against one mailbox."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._bulk = threading.Lock()  # one taker of all slots at a time, so no deadlock

    @contextmanager
    def one(self) -> Iterator[None]:
        with self._slots:
            yield

    @contextmanager
    def all(self) -> Iterator[None]:
        with self._bulk:
            for _ in range(self.size):
                self._slots.acquire()
            try:
                yield
            finally:
                for _ in range(self.size):
                    self._slots.release()

    def try_take(self) -> bool:
        """Take a slot without waiting (tests use it to see that all slots are busy)."""
        return self._slots.acquire(blocking=False)

    def give_back(self) -> None:
        self._slots.release()


_registry: dict[str, MailboxSlots] = {}
_registry_lock = threading.Lock()


def slots_for(mailbox: str, size: int) -> MailboxSlots:
    """The process-wide slots of a mailbox: two calendars in one mailbox share them."""
    with _registry_lock:
        return _registry.setdefault(mailbox.casefold(), MailboxSlots(size))


@dataclass(frozen=True, slots=True)
class SubRequest:
    id: str
    method: str
    url: str  # relative to the API root, e.g. /users/{upn}/events/{id}
    body: JSON | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SubResponse:
    id: str
    status: int
    headers: Mapping[str, str]
    body: Any


class GraphClient:
    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        *,
        slots: MailboxSlots,
        stats: TargetStats,
        prefer: str,
        calendar: str | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,  # GRAPH_POLICY; its sleep is replaced by `sleep`
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.slots = slots
        self.stats = stats
        self.prefer = prefer
        self.calendar = calendar
        self.policy = replace(policy or GRAPH_POLICY, sleep=sleep)
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def error(self, message: str) -> TargetError:
        return TargetError(message, calendar=self.calendar)

    # --- single requests ----------------------------------------------------------------------
    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_unsafe: bool = False,
        bulk: bool = False,
        retry_status: bool = True,
    ) -> httpx.Response:
        """One request with retries; returns the final response (any status) or raises.

        `retry_status=False` leaves 429/5xx replies to the caller (a batch reads its body)."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        retryable = retry_unsafe or method in _SAFE_METHODS
        tries = Retries(self.policy)
        refreshed = False
        while True:
            attempt = tries.start()
            request_headers = {"Authorization": f"Bearer {self._token()}", "Prefer": self.prefer}
            request_headers.update(headers or {})
            try:
                with self.slots.all() if bulk else self.slots.one():
                    self.stats.requests += 1
                    reply = self._http.request(
                        method, url, json=json, params=params, headers=request_headers
                    )
            except httpx.TransportError as err:
                if not retryable or tries.last:
                    raise self.error(f"{method} failed: {type(err).__name__}: {err}") from None
                self._wait(tries, tries.delay(), f"{method} failed")
                continue
            if reply.status_code == 401 and not refreshed:
                self.tokens.invalidate()  # revoked or expired early: one fresh token, one retry
                refreshed = True
                self.stats.retries += 1
                continue
            if (
                retry_status
                and reply.status_code in RETRYABLE
                and (retryable or reply.status_code == 429)
            ):
                if tries.last:
                    raise self.error(
                        f"{method} still failing after {attempt} tries: {brief(reply)}"
                    )
                self._wait(tries, tries.delay(retry_after(reply.headers)), brief(reply))
                continue
            if not _readable(reply):
                # Cut short or garbled on the way (a proxy can fix the length up, so the HTTP
                # layer sees nothing): as transient as a 503, and within the same budget.
                why = f"unreadable reply to {method} (HTTP {reply.status_code})"
                if not retryable or tries.last:
                    raise self.error(f"{why} after {attempt} tries")
                self._wait(tries, tries.delay(), why)
                continue
            return reply

    def _token(self) -> str:
        before = self.tokens.fetches
        token = self.tokens.token()
        self.stats.requests += self.tokens.fetches - before  # the token endpoint counts too
        return token

    def _wait(self, tries: Retries, delay: float, why: str) -> None:
        """Wait before the next try (callers have checked that one is left)."""
        if not tries.allows(delay):
            raise self.error(f"throttled: {why}; the server asks to wait {delay:g} s, giving up")
        self.stats.retries += 1
        tries.pause(delay)

    def check(self, reply: httpx.Response, what: str) -> None:
        """Raise for an error status: AuthError for 401/403, TargetError otherwise."""
        if reply.status_code < 400:
            return
        text = f"{what}: {brief(reply)}"
        if reply.status_code in (401, 403):
            raise AuthError(text, calendar=self.calendar)
        raise self.error(text)

    def get_json(self, path: str, params: Mapping[str, str] | None = None) -> JSON:
        reply = self.send("GET", path, params=params)
        self.check(reply, f"GET {path}")
        return _json_object(reply)

    def pages(self, path: str, params: Mapping[str, str]) -> Iterator[JSON]:
        """Every item of a collection, following `@odata.nextLink` (which keeps the query)."""
        page = self.get_json(path, params)
        while True:
            yield from page.get("value") or ()
            link = page.get("@odata.nextLink")
            if not link:
                return
            page = self.get_json(str(link))

    # --- batches ------------------------------------------------------------------------------
    def batch(self, requests: Sequence[SubRequest]) -> dict[str, SubResponse]:
        """Send in batches of at most 20; retry only sub-requests that failed with 429/5xx/424."""
        results: dict[str, SubResponse] = {}
        for start in range(0, len(requests), BATCH_LIMIT):
            results.update(self._one_batch(requests[start : start + BATCH_LIMIT]))
        return results

    def _one_batch(self, requests: Sequence[SubRequest]) -> dict[str, SubResponse]:
        results: dict[str, SubResponse] = {}
        pending = list(requests)
        tries = Retries(self.policy)
        while True:
            tries.start()
            reply = self.send(
                "POST",
                "/$batch",
                json=_batch_body(pending, self.prefer),
                bulk=True,
                retry_unsafe=True,
                retry_status=False,
            )
            items = _responses(reply)
            if items is None:
                # No per-request answers: resend the whole batch if the server asks us to wait
                # (creates carry transactionIds and deletes If-Match, so a repeat is harmless).
                if reply.status_code in RETRYABLE and not tries.last:
                    self._wait(tries, tries.delay(retry_after(reply.headers)), brief(reply))
                    continue
                self.check(reply, "POST /$batch")
                raise self.error(f"$batch reply has no responses (HTTP {reply.status_code})")
            by_id = {r.id.casefold(): r for r in pending}
            again: list[SubRequest] = []
            delays: list[float] = []
            for item in items:
                sub = _sub_response(item)
                request = by_id.pop(sub.id.casefold(), None)
                if request is None:
                    continue
                if sub.status in SUB_RETRYABLE and not tries.last:
                    again.append(request)
                    delays.append(tries.delay(retry_after(sub.headers)))
                else:
                    results[request.id] = sub
            for request in by_id.values():  # no answer at all: done or not, we cannot tell
                results[request.id] = SubResponse(request.id, 0, {}, None)
            if not again:
                return results
            self._wait(tries, max(delays), f"{len(again)} batched requests throttled")
            self.stats.retries += len(again) - 1  # _wait counted one
            pending = again


def _batch_body(requests: Sequence[SubRequest], prefer: str) -> JSON:
    out = []
    for r in requests:
        headers = {"Prefer": prefer, **r.headers}
        item: JSON = {"id": r.id, "method": r.method, "url": r.url, "headers": headers}
        if r.body is not None:
            item["body"] = r.body
            headers.setdefault("Content-Type", "application/json")
        out.append(item)
    return {"requests": out}


def _responses(reply: httpx.Response) -> list[Any] | None:
    """The `responses` of a batch reply, whatever its status; None if it has none."""
    try:
        data = reply.json()
    except ValueError:
        return None
    items = data.get("responses") if isinstance(data, dict) else None
    return items if isinstance(items, list) else None


def _sub_response(item: Any) -> SubResponse:
    if not isinstance(item, dict):
        return SubResponse("", 0, {}, None)
    headers = item.get("headers") or {}
    status = item.get("status")
    return SubResponse(
        id=str(item.get("id")),
        status=status if isinstance(status, int) else 0,
        headers={str(k).lower(): str(v) for k, v in headers.items()},
        body=item.get("body"),
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent."""
    return retry_after_seconds(headers.get("retry-after") or headers.get("Retry-After"))


def _readable(reply: httpx.Response) -> bool:
    """A JSON reply whose body parses (bodies of other types are the caller's to judge)."""
    if not reply.content or "json" not in reply.headers.get("content-type", ""):
        return True
    try:
        reply.json()
    except ValueError:
        return False
    return True


def _json_object(reply: httpx.Response) -> JSON:
    try:
        data = reply.json()
    except ValueError:
        raise TargetError(f"Graph sent no JSON (HTTP {reply.status_code})") from None
    if not isinstance(data, dict):
        raise TargetError("Graph sent JSON that is not an object")
    return data


def error_text(status: int, body: Any) -> str:
    """`HTTP 400 ErrorInvalidRequest: message` from a Graph error body."""
    if status == 0:
        return "no reply for this request in the batch"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code, message = error.get("code", ""), str(error.get("message", "")).splitlines()
        return f"HTTP {status} {code}: {message[0] if message else ''}".rstrip(": ")
    return f"HTTP {status}"


def brief(reply: httpx.Response) -> str:
    try:
        body: Any = reply.json()
    except ValueError:
        body = None
    return error_text(reply.status_code, body)


def is_conflict(status: int) -> bool:
    """412 (our If-Match lost) or 409 (Exchange's ErrorIrresolvableConflict: the changeKey
    moved under us): someone else wrote the item; read it again next run."""
    return status in (409, 412)
