"""The HTTP server: uvicorn (h11) in a thread of its own, serving `web.app` on one socket.

Why uvicorn + Starlette: the daemon's work happens in threads (APScheduler 3 runs syncs in a
worker thread); uvicorn runs its asyncio loop in one more thread, so thousands of idle or
half-sent connections cost a socket each and no thread, while Starlette runs our plain-def
handlers in its thread pool. h11 parses requests strictly (RFC 9112): malformed or
conflicting Content-Length, unknown Transfer-Encoding and oversized heads are a 400 and a
closed connection. `web.protocol` adds the idle and header deadlines and the connection cap;
`web.guard` the framing rules h11 leaves to the app.

`make_server` binds (so a busy port is a config error at start-up, and port 0 picks one);
`serve_in_thread` serves; `shutdown` stops accepting, lets running answers finish for a few
seconds and returns.
"""

from __future__ import annotations

import resource
import socket
import threading
from pathlib import Path

import structlog
import uvicorn

from syncsvc.web.app import build_app
from syncsvc.web.context import WebContext
from syncsvc.web.protocol import ConnectionLimits, protocol_for

log = structlog.get_logger(__name__)

# File descriptors kept free for everything else the daemon opens (SQLite, plan fetches,
# CalDAV and Graph connections, the feed file) when the connection cap is fitted to the
# process's open-file limit.
_FD_RESERVE = 64


def connection_cap(configured: int, backlog: int) -> int:
    """The configured cap, lowered to fit RLIMIT_NOFILE. Reaching that limit would make
    accept() fail and asyncio stop accepting for a second: no one gets in, not even /healthz.
    asyncio accepts up to `backlog` sockets in one go before any is counted against the cap,
    so that many must fit on top of it."""
    soft = _open_file_limit()
    if soft is None:
        return configured
    return max(8, min(configured, soft - _FD_RESERVE - backlog))


def _open_file_limit() -> int | None:
    """The soft RLIMIT_NOFILE, None if unlimited. Read from /proc first: older systemd puts
    prlimit64 (glibc's getrlimit) in @resources, which the unit's SystemCallFilter denies."""
    try:
        for line in Path("/proc/self/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft = line.split()[3]
                return None if soft == "unlimited" else int(soft)
    except (OSError, ValueError, IndexError):
        pass
    value, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if value == resource.RLIM_INFINITY else value


class _Uvicorn(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.serving = threading.Event()
        self.stopped = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.serving.set()


class HttpServer:
    def __init__(self, context: WebContext, host: str, port: int) -> None:
        http = context.settings.http
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=http.backlog)
        self.server_address: tuple[str, int] = tuple(self.socket.getsockname()[:2])
        context.port = int(self.server_address[1])
        limits = ConnectionLimits(
            idle_timeout=http.idle_timeout_seconds,
            header_timeout=http.header_timeout_seconds,
            max_connections=connection_cap(http.max_connections, http.backlog),
            response_timeout=http.response_timeout_seconds,
        )
        self.limits = limits
        config = uvicorn.Config(
            build_app(context),
            http=protocol_for(limits),
            ws="none",
            loop="asyncio",
            lifespan="off",
            log_config=None,  # our logging: uvicorn's loggers go through structlog (syncsvc.logs)
            access_log=False,
            # The admin limiter counts per client: only a configured proxy may say who that is.
            proxy_headers=bool(http.trusted_proxies),
            forwarded_allow_ips=list(http.trusted_proxies) or None,
            server_header=False,
            timeout_keep_alive=max(1, int(http.idle_timeout_seconds)),
            timeout_graceful_shutdown=5,
            h11_max_incomplete_event_size=http.max_header_bytes,
            backlog=http.backlog,  # also how many asyncio accepts per loop turn
        )
        self._server = _Uvicorn(config)

    def serve_forever(self) -> None:
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._server.stopped.set()

    def shutdown(self) -> None:
        """Stop serving; returns once the server loop has finished (or after 10 s)."""
        self._server.should_exit = True
        self._server.stopped.wait(10)

    def server_close(self) -> None:
        self.socket.close()


def make_server(
    context: WebContext, host: str | None = None, port: int | None = None
) -> HttpServer:
    """A bound (not yet serving) server; `port=0` picks a free port (see `server_address`)."""
    http = context.settings.http
    return HttpServer(context, host or http.host, http.port if port is None else port)


def serve_in_thread(server: HttpServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="syncsvc-http", daemon=True)
    thread.start()
    return thread
