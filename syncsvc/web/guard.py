"""Request rules the HTTP parser leaves to us, and the admin attempt limiter. Pure, no I/O.

h11 already answers 400 to malformed or conflicting Content-Length, unknown
Transfer-Encoding, a missing Host and oversized heads. What is left (RFC 9112 §6.3, §3.2):
a request with both Transfer-Encoding and Content-Length "ought to be handled as an error"
and the connection closed; more than one Host is a 400; and our routes take no request
bodies beyond a small admin form, so a GET with a body is refused rather than guessed at.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from threading import Lock

BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  # 400, 411 or 413; the connection is closed after it
    reason: str  # one word, also the log field


def check_framing(
    method: str, headers: Sequence[tuple[bytes, bytes]], max_body_bytes: int
) -> Refusal | None:
    """Why this request head must be refused, or None. `headers` as ASGI gives them."""
    hosts = 0
    length: int | None = None
    chunked = False
    for name, value in headers:
        if name == b"host":
            hosts += 1
        elif name == b"content-length":
            length = int(value)  # h11 has checked it is digits and consistent
        elif name == b"transfer-encoding":
            chunked = True
    if hosts > 1:
        return Refusal(400, "duplicate_host")
    if chunked and length is not None:
        return Refusal(400, "length_and_chunked")
    has_body = chunked or (length or 0) > 0
    if has_body and method in BODYLESS:
        return Refusal(400, "body_not_allowed")
    if chunked:
        # Our few bodies are small forms: a body of unknown length is not worth reading.
        return Refusal(411, "length_required")
    if (length or 0) > max_body_bytes:
        return Refusal(413, "body_too_large")
    return None


class AttemptLimiter:
    """Failed admin attempts per client: a token bucket of `burst` attempts refilled at
    `per_minute`. While a client's bucket is empty every attempt is refused unchecked, so a
    guesser learns nothing. The table is bounded; the least recently seen client goes first."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 4096,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = Lock()

    def _level(self, client: str, now: float) -> float:
        tokens, then = self._buckets.get(client, (self.burst, now))
        return min(self.burst, tokens + (now - then) * self.rate)

    def retry_after(self, client: str) -> int:
        """0 if this client may try now, else the seconds until it may."""
        with self._lock:
            now = self.clock()
            level = self._level(client, now)
        if level >= 1.0:
            return 0
        return max(1, int((1.0 - level) / self.rate + 0.999)) if self.rate > 0 else 3600

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            level = self._level(client, now)
            self._buckets[client] = (max(0.0, level - 1.0), now)
            self._buckets.move_to_end(client)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
