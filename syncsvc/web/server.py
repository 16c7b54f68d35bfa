"""The HTTP server: public feed and agenda, health, metrics and the admin endpoints.

stdlib `ThreadingHTTPServer`: a handful of routes, no framework. Requests are answered from
the feed file, the state store and in-process metrics; nothing here writes calendars. The
admin token is compared in constant time and never logged (only method, path and status are).
"""

from __future__ import annotations

import hmac
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import structlog

from syncsvc.settings import Settings
from syncsvc.state.sqlite import SqliteState
from syncsvc.web.agenda import (
    CONTENT_SECURITY_POLICY,
    AgendaLinks,
    parse_feed,
    render_agenda,
    upcoming,
)
from syncsvc.web.feed import FeedFile, FeedSnapshot, not_modified
from syncsvc.web.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from syncsvc.web.metrics import Metrics

log = structlog.get_logger(__name__)

_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_MAX_BODY = 64 * 1024


@dataclass
class WebContext:
    """What the handlers need; the daemon fills it, tests build it by hand."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    store: SqliteState | None = None
    # Admin "sync now": returns a JSON-able description (queued, running, ...).
    trigger: Callable[[str], dict[str, Any]] | None = None
    # Readiness: the last real run must be ok and no older than this.
    ready_within: timedelta = timedelta(minutes=30)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sync_status: Callable[[], dict[str, Any]] | None = None
    feed: FeedFile = field(init=False)
    port: int = field(init=False, default=0)  # the bound port, set by make_server

    def __post_init__(self) -> None:
        self.feed = FeedFile(self.settings.data_path(self.settings.feed.path))
        self._agenda_cache: tuple[tuple[str, str, str], bytes] | None = None
        self._agenda_lock = threading.Lock()

    @property
    def admin_token(self) -> str | None:
        token = self.settings.http.admin_token
        value = token.get_secret_value() if token else ""
        return value or None

    def readiness(self) -> tuple[bool, str]:
        if self.store is None:
            return False, "no state store"
        last = self.store.last_run(include_dry_runs=False)
        if last is None:
            return False, "no sync has run yet"
        if last["outcome"] != "ok":
            return False, f"last sync {last['outcome']}: {last.get('error') or 'see /admin/status'}"
        finished = datetime.fromisoformat(last["finished"] or last["started"])
        age = self.clock() - finished
        if age > self.ready_within:
            return False, f"last successful sync is {int(age.total_seconds())}s old"
        return True, f"last sync ok at {finished.isoformat()}"

    def agenda(self, snapshot: FeedSnapshot, links: AgendaLinks) -> bytes:
        zone = ZoneInfo(self.settings.plan.timezone)
        now = self.clock().astimezone(zone)
        # Cached per feed version, minute and link set: re-parsing per request is wasted work.
        key = (snapshot.etag, now.strftime("%Y%m%d%H%M"), links.subscribe)
        with self._agenda_lock:
            if self._agenda_cache and self._agenda_cache[0] == key:
                return self._agenda_cache[1]
        events = upcoming(parse_feed(snapshot.body, zone), now)
        page = render_agenda(
            events,
            title=self.settings.feed.title,
            links=links,
            today=now.date(),
            updated=snapshot.last_modified.astimezone(zone),
        ).encode()
        with self._agenda_lock:
            self._agenda_cache = (key, page)
        return page


def make_server(
    context: WebContext, host: str | None = None, port: int | None = None
) -> ThreadingHTTPServer:
    """A bound (not yet serving) server; `port=0` picks a free port (see `server_address`)."""
    handler = type("SyncsvcHandler", (_Handler,), {"ctx": context})
    server = ThreadingHTTPServer(
        (host or context.settings.http.host, context.settings.http.port if port is None else port),
        handler,
    )
    server.daemon_threads = True
    context.port = int(server.server_address[1])
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="syncsvc-http", daemon=True
    )
    thread.start()
    return thread


class _Handler(BaseHTTPRequestHandler):
    ctx: WebContext
    protocol_version = "HTTP/1.1"  # keep-alive: calendar clients and proxies revalidate often
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK
    # stalls every answer by ~40 ms (the bench showed 22 req/s for 200s without this).
    disable_nagle_algorithm = True
    server_version = "syncsvc"
    sys_version = ""

    # --- dispatch ----------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path
        feed_path = self.ctx.settings.feed.url_path
        routes: dict[str, dict[str, Callable[[], None]]] = {
            feed_path: {"GET": self._feed, "HEAD": self._feed, "OPTIONS": self._preflight},
            "/": {"GET": self._agenda, "HEAD": self._agenda},
            "/healthz": {"GET": self._healthz, "HEAD": self._healthz},
            "/readyz": {"GET": self._readyz, "HEAD": self._readyz},
            "/metrics": {"GET": self._metrics},
            "/admin/sync": {"POST": self._admin_sync},
            "/admin/status": {"GET": self._admin_status},
        }
        self._endpoint = "feed" if path == feed_path else path
        methods = routes.get(path)
        if path.startswith("/admin/") and self.ctx.admin_token is None:
            methods = None  # admin is off without a token: indistinguishable from absent
        if methods is None:
            self._discard_body()
            self._endpoint = "other"
            self._text(HTTPStatus.NOT_FOUND, "not found\n")
            return
        handler = methods.get(method)
        if handler is None:
            self._discard_body()
            allow = ", ".join(methods)
            self._text(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed\n", {"Allow": allow})
            return
        try:
            handler()
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception:
            log.exception("http.handler_failed", path=path, method=method)
            self._text(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error\n")

    # --- public ------------------------------------------------------------------------------
    def _feed(self) -> None:
        snapshot = self.ctx.feed.load()
        cors = {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "ETag, Last-Modified",
        }
        if snapshot is None:
            self._text(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "The calendar feed has not been written yet: the first sync has not finished.\n",
                {**cors, "Retry-After": "60"},
            )
            return
        headers = {
            **cors,
            "ETag": snapshot.etag,
            "Last-Modified": snapshot.last_modified_http,
            "Cache-Control": "no-cache",  # store, but revalidate: a 304 is cheap
        }
        if not_modified(
            self.headers.get("If-None-Match"),
            self.headers.get("If-Modified-Since"),
            snapshot.etag,
            snapshot.last_modified,
        ):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers)
            return
        name = self.ctx.settings.feed.url_path.rsplit("/", 1)[-1] or "feed.ics"
        headers["Content-Disposition"] = f'inline; filename="{name}"'
        self._send(HTTPStatus.OK, snapshot.body, "text/calendar; charset=utf-8", headers)

    def _preflight(self) -> None:
        self._send(
            HTTPStatus.NO_CONTENT,
            b"",
            None,
            {
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
                "Access-Control-Max-Age": "86400",
            },
        )

    def _agenda(self) -> None:
        snapshot = self.ctx.feed.load()
        headers = {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        }
        if snapshot is None:
            self._text(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "Kalenderen er ikke klar ennå. Prøv igjen om litt.\n",
                {**headers, "Retry-After": "60"},
            )
            return
        page = self.ctx.agenda(snapshot, self._links())
        self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", headers)

    def _links(self) -> AgendaLinks:
        url_path = self.ctx.settings.feed.url_path
        base = self.ctx.settings.http.public_base_url
        if base:
            parts = urlsplit(base.rstrip("/"))
            download = f"{parts.scheme}://{parts.netloc}{parts.path}{url_path}"
            return AgendaLinks(f"webcal://{parts.netloc}{parts.path}{url_path}", download)
        host = self.headers.get("Host", "")
        if not _HOST.match(host):
            http = self.ctx.settings.http
            host = f"{http.host}:{self.ctx.port}"
        return AgendaLinks(f"webcal://{host}{url_path}", url_path)

    def _healthz(self) -> None:
        self._text(HTTPStatus.OK, "ok\n")

    def _readyz(self) -> None:
        ready, why = self.ctx.readiness()
        self._text(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, why + "\n")

    def _metrics(self) -> None:
        body = self.ctx.metrics.render().encode()
        self._send(HTTPStatus.OK, body, METRICS_CONTENT_TYPE)

    # --- admin -------------------------------------------------------------------------------
    def _authorised(self) -> bool:
        token = self.ctx.admin_token
        given = self.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        ok = (
            token is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(value.strip().encode(), token.encode())
        )
        if not ok:
            self._discard_body()
            self._json(
                HTTPStatus.UNAUTHORIZED,
                {"error": "missing or wrong bearer token"},
                {"WWW-Authenticate": 'Bearer realm="syncsvc-admin"'},
            )
        return ok

    def _admin_sync(self) -> None:
        if not self._authorised():
            return
        self._discard_body()
        if self.ctx.trigger is None:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "no scheduler in this process"})
            return
        result = self.ctx.trigger("admin")
        log.info("http.sync_requested", **result)
        self._json(HTTPStatus.ACCEPTED, result)

    def _admin_status(self) -> None:
        if not self._authorised():
            return
        store = self.ctx.store
        ready, why = self.ctx.readiness()
        body: dict[str, Any] = {
            "ready": ready,
            "readiness": why,
            "sync": self.ctx.sync_status() if self.ctx.sync_status else None,
            "calendars": store.calendars() if store else [],
            "runs": store.runs(10) if store else [],
            "plan": store.plan_issues() if store else None,
            "last_report": store.last_report() if store else None,
        }
        self._json(HTTPStatus.OK, body)

    # --- output ------------------------------------------------------------------------------
    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > _MAX_BODY:
            self.close_connection = True
            return
        if length > 0:
            self.rfile.read(length)

    def _json(self, status: HTTPStatus, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False, indent=2).encode() + b"\n"
        self._send(
            status,
            body,
            "application/json; charset=utf-8",
            {"Cache-Control": "no-store", **(headers or {})},
        )

    def _text(self, status: HTTPStatus, text: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8", headers)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status not in (HTTPStatus.NOT_MODIFIED, HTTPStatus.NO_CONTENT):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (
            HTTPStatus.NOT_MODIFIED,
            HTTPStatus.NO_CONTENT,
        ):
            self.wfile.write(body)
        self.ctx.metrics.http(getattr(self, "_endpoint", "other"), int(status))

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the stdlib line goes to stderr; `log_request` logs method, path, status
        (never headers, so never the Authorization token)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("http", method=self.command, path=urlsplit(self.path).path, status=str(code))
