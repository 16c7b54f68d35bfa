"""A fault-injecting HTTP proxy on loopback, for reliability tests against real servers.

It sits between syncsvc and a real CalDAV server and, per request, chooses (from a seeded
random generator, so every run is reproducible) to pass the request through or to inject one
fault: a dropped connection before the request reaches the server, a *lost response* (the
server applied the request but the client never hears back), 500, 503, 429 with Retry-After,
a slow response, or a truncated body. It counts what it injected for the report.

A plan can also be a `tests.faultrules.Script`, which places faults by method, body and count,
and may name two more faults: "short" (the body cut in half *with* a matching Content-Length,
so only a reader of the body can tell) and "junk" (a body that is not what was asked for), or
any status code ("415") to answer with instead of forwarding.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from tests.faultrules import Script
from tests.loopback import LoopbackServer, QuietHandler

FAULTS = ("drop", "lost_response", "500", "503", "429", "slow", "truncate")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class FaultPlan:
    """What to inject: a probability per fault kind, from a seed."""

    seed: int = 0
    rates: dict[str, float] = field(default_factory=dict)
    retry_after: str = "0"
    slow_seconds: float = 0.05
    enabled: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def choose(self, method: str = "", path: str = "", body: bytes = b"") -> str | None:
        with self._lock:
            if not self.enabled:
                return None
            roll = self._random.random()
        edge = 0.0
        for fault in FAULTS:
            edge += self.rates.get(fault, 0.0)
            if roll < edge:
                return fault
        return None


class FaultProxy(LoopbackServer):
    """Forward HTTP to `upstream` ("127.0.0.1", port), injecting faults from `plan`."""

    def __init__(self, upstream: tuple[str, int], plan: FaultPlan | Script | None = None) -> None:
        self.upstream = upstream
        self.plan = plan or FaultPlan()
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self._count_lock = threading.Lock()
        super().__init__(_ProxyHandler)

    @property
    def url(self) -> str:
        return self.origin

    def record(self, fault: str | None) -> None:
        with self._count_lock:
            self.requests += 1
            if fault:
                self.injected[fault] += 1


class _ProxyHandler(QuietHandler):
    owner: ClassVar[FaultProxy]

    def _forward(self) -> None:
        proxy = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = proxy.plan.choose(self.command, self.path, body)
        proxy.record(fault)
        if fault == "drop":
            self._abort()
            return
        if fault is not None and fault.isdigit():
            payload = f"injected {fault}\n".encode()
            self.send_response(int(fault))
            if fault == "429" or fault == "503":
                self.send_header("Retry-After", proxy.plan.retry_after)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(payload)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = f"{proxy.upstream[0]}:{proxy.upstream[1]}"
        conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status, reason, upstream_headers = (
                response.status,
                response.reason,
                response.getheaders(),
            )
        finally:
            conn.close()
        if fault == "lost_response":  # the server did the work; the client never learns it
            self._abort()
            return
        if fault == "slow":
            time.sleep(proxy.plan.slow_seconds)  # a slow network, not synchronisation
        if fault == "short" and len(data) > 1:
            data = data[: len(data) // 2]  # and the length header below says so
        elif fault == "junk":
            data = b"<html><body>Service temporarily unavailable</body></html>"
        self.send_response(status, reason)
        dropped = (
            HOP_BY_HOP | {"content-length"} | ({"content-encoding"} if fault == "junk" else set())
        )
        for name, value in upstream_headers:
            if name.lower() not in dropped:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault == "truncate" and len(data) > 1:
            self.wfile.write(data[: len(data) // 2])
            self._abort()
            return
        self.wfile.write(data)

    def _abort(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _forward
    do_PROPFIND = do_PROPPATCH = do_REPORT = do_MKCALENDAR = do_MKCOL = _forward
