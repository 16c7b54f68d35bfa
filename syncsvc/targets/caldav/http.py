"""The HTTP layer of the CalDAV target: one niquests session per calendar, built from
explicit settings, with bounded retries, request counting and error mapping.

We send every request ourselves, so nothing rewrites bodies (line endings, SEQUENCE), retries
behind our back or reads config files, `CALDAV_*` variables or ~/.netrc. (The session and auth
objects used to come from `caldav.DAVClient`, which built exactly these; importing the caldav
library cost a one-shot run more start-up time than all its CalDAV requests.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import niquests
from niquests.structures import CaseInsensitiveDict

from syncsvc.domain.errors import AuthError, TargetError
from syncsvc.targets.base import TargetStats
from syncsvc.targets.caldav import messages
from syncsvc.targets.caldav.config import CalDAVServer
from syncsvc.targets.retry import Retries, RetryPolicy, retry_after_seconds

# Statuses worth another try: the server said "later" or failed in passing. 423: Xandikos
# answers it when another write to the same calendar holds its git index lock (writes in
# flight at once); nothing was stored, so sending it again is safe.
_RETRY_STATUSES = frozenset({423, 429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5

T = TypeVar("T")


class UnreadableReply(ValueError):
    """A reply whose body cannot be used (cut short, not XML): a transient fault, retried
    like a dropped connection. A proxy that cuts a body and fixes its Content-Length up
    leaves the HTTP layer nothing to notice; only the reader of the body can tell."""


# 4 tries, 0.5 s doubling up to 8 s with full jitter, at most 30 s of waiting per request.
DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str  # where the answer came from (after any redirects we followed)
    moved: bool = False  # every redirect on the way was permanent (301/308)

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")


# Called before a request is sent again after a failure whose outcome is unknown (the server
# may have applied it). Returns a reply to use instead of resending, or None to resend.
Recover = Callable[[], "Reply | None"]


def redact(url: str) -> str:
    """The URL without user info: safe for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


@dataclass
class DavHttp:
    """Requests to one server on behalf of one calendar; counts into `stats`."""

    server: CalDAVServer
    stats: TargetStats
    calendar: str
    policy: RetryPolicy = DEFAULT_POLICY
    ca_bundle: str | None = None  # resolved path; overrides verify_tls
    _auth: niquests.auth.AuthBase | None = field(init=False, repr=False)
    _session: niquests.Session = field(init=False, repr=False)
    # Writes to one calendar may be in flight at once (targets.caldav.inflight): counts add up.
    _count_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        server = self.server
        if server.auth == "bearer":
            if server.token is None:
                raise TargetError("bearer auth needs a token", calendar=self.calendar)
            username, password = None, server.token.get_secret_value()
        elif server.auth == "none":
            username, password = None, None
        else:
            if not server.username or server.password is None:
                raise TargetError(
                    f"{server.auth} auth needs a username and a password", calendar=self.calendar
                )
            username, password = server.username, server.password.get_secret_value()
        if server.auth == "digest":
            self._auth = niquests.auth.HTTPDigestAuth(username or "", password or "")
        elif server.auth == "basic":
            self._auth = niquests.auth.HTTPBasicAuth(username or "", password or "")
        elif server.auth == "bearer":
            self._auth = _Bearer(password or "")
        else:
            self._auth = None
        # A connection per write in flight (targets.caldav.inflight), and the pool's default.
        self._session = niquests.Session(pool_maxsize=max(10, server.max_in_flight))
        self._session.trust_env = False  # no ~/.netrc, no proxy variables: explicit settings only

    @property
    def verify(self) -> bool | str:
        """TLS verification as requests are sent: a CA bundle path, or on/off."""
        return self.ca_bundle or self.server.verify_tls

    @property
    def base_url(self) -> str:
        url = redact(self.server.url)
        return url if url.endswith("/") else url + "/"

    def absolute(self, href: str) -> str:
        return urljoin(self.base_url, href)

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        recover: Recover | None = None,
    ) -> Reply:
        """Send with retries; returns every final status (callers judge 4xx), raises on
        401/403 (AuthError) and when the server stays unreachable or failing (TargetError)."""
        return self.exchange(method, url, _as_is, body=body, headers=headers, recover=recover)

    def exchange(
        self,
        method: str,
        url: str,
        read: Callable[[Reply], T],
        *,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        recover: Recover | None = None,
    ) -> T:
        """`request`, and `read` the reply within the same retries: a reply `read` refuses
        (UnreadableReply) costs a try and a backoff, as any other transient fault does.
        Only for requests that are safe to repeat (REPORT, PROPFIND, GET)."""
        url = self.absolute(url)
        tries = Retries(self.policy)
        while True:
            attempt = tries.start()
            if attempt > 1 and recover is not None:
                recovered = recover()
                if recovered is not None:
                    return read(recovered)
            try:
                reply = self._send(method, url, body, headers or {})
            except niquests.exceptions.RequestException as err:
                failure = f"cannot reach {self.base_url}: {_reason(err)}"
                delay = tries.delay()
            else:
                if reply.status in (401, 403) and not _is_precondition(reply):
                    raise AuthError(
                        f"{self.base_url} refused access (HTTP {reply.status}); "
                        "check the server's username and password/token"
                        + messages.encoded_hint(urlsplit(url).path, reply.status),
                        calendar=self.calendar,
                    )
                if reply.status not in _RETRY_STATUSES:
                    try:
                        return read(reply)
                    except UnreadableReply as err:
                        failure = f"{self.base_url}: unreadable reply to {method}: {err}"
                        delay = tries.delay()
                else:
                    failure = f"{self.base_url} answered HTTP {reply.status} to {method}"
                    delay = tries.delay(retry_after_seconds(reply.headers.get("Retry-After")))
            if tries.last or not tries.allows(delay):
                raise TargetError(
                    f"{failure} (gave up after {attempt} tries)", calendar=self.calendar
                )
            with self._count_lock:
                self.stats.retries += 1
            tries.pause(delay)

    def _send(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """One request, following redirects ourselves: the same method and the same body go
        to the new address (HTTP libraries re-send a 301/302 without its body, and a server
        that accepts an empty PUT would then store an empty event). Only on the same origin:
        credentials never follow a redirect elsewhere."""
        permanent: bool | None = None  # None: not redirected
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._send_once(method, url, body, headers)
            location = reply.headers.get("Location")
            if reply.status not in _REDIRECTS or not location:
                return replace(reply, moved=True) if permanent else reply
            target = urljoin(url, location)
            if not _same_origin(url, target) or (reply.status == 303 and method != "GET"):
                raise TargetError(
                    f"{redact(url)} redirects {method} to {redact(target)} "
                    f"(HTTP {reply.status}); not followed: if that is the calendar's new "
                    "address, put it in the configuration",
                    calendar=self.calendar,
                )
            note = f"{redact(url)} redirects to {redact(target)} (HTTP {reply.status})"
            if note not in self.stats.notes:
                self.stats.notes.append(note)
            permanent = permanent is not False and reply.status in (301, 308)
            url = target
        raise TargetError(f"too many redirects from {redact(url)}", calendar=self.calendar)

    def _send_once(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        # Count before sending: a request that never got an answer still cost one.
        with self._count_lock:
            self.stats.requests += 1
        response = self._session.request(
            method,
            url,
            data=body or None,
            headers=dict(headers),
            auth=self._auth,
            timeout=self.server.timeout_seconds,
            verify=self.verify,
            allow_redirects=False,
        )
        # A digest challenge is a real round trip: it shows up in the history.
        with self._count_lock:
            self.stats.requests += len(response.history)
        return Reply(
            status=int(response.status_code or 0),
            headers=CaseInsensitiveDict(response.headers),
            content=response.content or b"",
            url=url,
        )


def _same_origin(a: str, b: str) -> bool:
    one, two = urlsplit(a), urlsplit(b)
    return (one.scheme, one.hostname, one.port) == (two.scheme, two.hostname, two.port)


def _as_is(reply: Reply) -> Reply:
    return reply


class _Bearer(niquests.auth.AuthBase):
    """`Authorization: Bearer <token>` on every request."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def _is_precondition(reply: Reply) -> bool:
    """A 403 carrying a DAV:error precondition (e.g. valid-sync-token) is not about auth."""
    return reply.status == 403 and b"error" in reply.content and b"DAV:" in reply.content


def _reason(err: Exception) -> str:
    if isinstance(err, niquests.exceptions.Timeout):
        return "timed out"
    if isinstance(err, niquests.exceptions.SSLError):
        return "TLS verification failed"
    if isinstance(err, niquests.exceptions.ConnectionError):
        return "connection failed (server down or unreachable)"
    return type(err).__name__
