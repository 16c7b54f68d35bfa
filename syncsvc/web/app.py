"""The ASGI application: routes for the public feed and agenda, health, readiness, metrics and
admin, on Starlette.

Structure, for whoever adds a page:
- `build_app(ctx)` returns the whole app: `_Edge` (framing rules, security headers, request
  metrics and logging, crash → 500 through structlog) around a Starlette router.
- Each route is a method of `_Routes`. Plain `def` handlers run in Starlette's thread pool
  (they may touch SQLite or parse the feed); `async def` only for ones that never block.
- Admin routes go through `_Routes.authorised`, which applies the per-client attempt limiter
  and the constant-time token compare. Without an admin token they are not routed at all.
- Responses are built with `_text`, `_json` or Starlette's `Response`; every response gets
  `X-Content-Type-Options: nosniff` from `_Edge`.
"""

from __future__ import annotations

import hmac
import json
import logging
import time

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncsvc.web import admin_ui
from syncsvc.web.context import WebContext
from syncsvc.web.feed import not_modified
from syncsvc.web.guard import AttemptLimiter, check_framing
from syncsvc.web.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from syncsvc.web.public_data import single_event_ics
from syncsvc.web.public_page import content_security_policy

log = structlog.get_logger(__name__)
_stdlib_log = logging.getLogger(__name__)

_TEXT = "text/plain; charset=utf-8"
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Last-Modified",
}


def build_app(ctx: WebContext) -> ASGIApp:
    routes = _Routes(ctx)
    table = [
        Route(ctx.settings.feed.url_path, routes.feed, methods=["GET", "HEAD", "OPTIONS"]),
        Route("/", routes.agenda, methods=["GET", "HEAD"]),
        Route("/embed", routes.agenda, methods=["GET", "HEAD"]),
        Route(ctx.event_path_prefix() + "{name:str}", routes.event_ics, methods=["GET", "HEAD"]),
        Route("/healthz", routes.healthz, methods=["GET", "HEAD"]),
        Route("/readyz", routes.readyz, methods=["GET", "HEAD"]),
    ]
    if ctx.admin_token is not None:
        # Off without a token: indistinguishable from absent (404), metrics included unless
        # the admin made them public.
        table += [
            Route("/admin/sync", routes.admin_sync, methods=["POST"]),
            Route("/admin/status", routes.admin_status, methods=["GET"]),
        ]
    if admin_ui.enabled(ctx):  # the admin web page: token or password, then a session
        table += admin_ui.routes(ctx)
    if ctx.admin_token is not None or ctx.settings.http.public_metrics:
        table.append(Route("/metrics", routes.metrics, methods=["GET"]))
    return _Edge(Starlette(routes=table), ctx)


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text.encode(), status, headers, _TEXT)


def _json(status: int, data: object, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2).encode() + b"\n"
    return Response(
        body, status, {"Cache-Control": "no-store", **(headers or {})}, "application/json"
    )


class _Routes:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        http = ctx.settings.http
        self.limiter = AttemptLimiter(http.admin_failures_per_minute, http.admin_failure_burst)

    # --- public ------------------------------------------------------------------------------
    async def feed(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
                    "Access-Control-Max-Age": "86400",
                },
            )
        snapshot = self.ctx.feed.load()  # a stat() per request; the bytes are cached
        if snapshot is None:
            return _text(
                503,
                "The calendar feed has not been written yet: the first sync has not finished.\n",
                {**_CORS, "Retry-After": "60"},
            )
        headers = {
            **_CORS,
            "ETag": snapshot.etag,
            "Last-Modified": snapshot.last_modified_http,
            "Cache-Control": "no-cache",  # store, but revalidate: a 304 is cheap
        }
        if not_modified(
            request.headers.get("if-none-match"),
            request.headers.get("if-modified-since"),
            snapshot.etag,
            snapshot.last_modified,
        ):
            return Response(status_code=304, headers=headers)
        name = self.ctx.settings.feed.url_path.rsplit("/", 1)[-1] or "feed.ics"
        headers["Content-Disposition"] = f'inline; filename="{name}"'
        return Response(snapshot.body, 200, headers, "text/calendar; charset=utf-8")

    def agenda(self, request: Request) -> Response:
        embed = request.url.path == "/embed"
        headers = {
            "Content-Security-Policy": content_security_policy(
                embed=embed, frame_ancestors=self.ctx.settings.http.embed_frame_ancestors
            ),
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        }
        snapshot = self.ctx.feed.load()
        if snapshot is None:
            return _text(
                503,
                "Kalenderen er ikke klar ennå. Prøv igjen om litt.\n",
                {**headers, "Retry-After": "60"},
            )
        month = request.query_params.get("maaned")
        page = self.ctx.agenda(snapshot, month=month, embed=embed)
        return Response(page, 200, headers, "text/html; charset=utf-8")

    def event_ics(self, request: Request) -> Response:
        """One event of the feed as its own .ics ("Legg til i min kalender")."""
        name = str(request.path_params["name"])
        stem = name[: -len(".ics")] if name.endswith(".ics") else ""
        snapshot = self.ctx.feed.load()
        data = single_event_ics(snapshot.body, stem) if snapshot and stem else None
        if data is None:
            return _text(404, "not found\n")
        headers = {
            "Content-Disposition": f'attachment; filename="{stem}.ics"',
            "Cache-Control": "no-cache",
            "Access-Control-Allow-Origin": "*",
        }
        return Response(data, 200, headers, "text/calendar; charset=utf-8")

    async def healthz(self, request: Request) -> Response:
        return _text(200, "ok\n")

    def readyz(self, request: Request) -> Response:
        state = self.ctx.readiness()
        # One word only: the detail can name paths, servers and errors (see /admin/status).
        return _text(200 if state.ready else 503, state.word + "\n", {"Cache-Control": "no-store"})

    def metrics(self, request: Request) -> Response:
        if not self.ctx.settings.http.public_metrics:
            refused = self.authorised(request)
            if refused is not None:
                return refused
        body = self.ctx.metrics.render().encode()
        return Response(body, 200, {"Cache-Control": "no-store"}, METRICS_CONTENT_TYPE)

    # --- admin -------------------------------------------------------------------------------
    def authorised(self, request: Request) -> Response | None:
        """None if the request carries the admin token, else the response refusing it."""
        client = request.client.host if request.client else "unknown"
        wait = self.limiter.retry_after(client)
        if wait:
            log.warning("http.admin_throttled", client=client, retry_after=wait)
            return _json(429, {"error": "too many failed attempts"}, {"Retry-After": str(wait)})
        token = self.ctx.admin_token
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        ok = (
            token is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(value.strip().encode(), token.encode())
        )
        if ok:
            return None
        self.limiter.failed(client)
        return _json(
            401,
            {"error": "missing or wrong bearer token"},
            {"WWW-Authenticate": 'Bearer realm="syncsvc-admin"'},
        )

    def admin_sync(self, request: Request) -> Response:
        refused = self.authorised(request)
        if refused is not None:
            return refused
        if self.ctx.trigger is None:
            return _json(503, {"error": "no scheduler in this process"})
        result = self.ctx.trigger("admin").to_json()
        log.info("http.sync_requested", **result)
        return _json(202, result)

    def admin_status(self, request: Request) -> Response:
        refused = self.authorised(request)
        if refused is not None:
            return refused
        store = self.ctx.store
        state = self.ctx.readiness()
        body: dict[str, object] = {
            "ready": state.ready,
            "readiness": state.detail,
            "sync": self.ctx.sync_status().to_json() if self.ctx.sync_status else None,
            "calendars": [c.to_json() for c in store.calendars()] if store else [],
            "runs": [r.to_json() for r in store.runs(10)] if store else [],
            "plan": store.plan_issues().to_json() if store else None,
            "last_report": store.last_report() if store else None,
        }
        return _json(200, body)


class _Edge:
    """Outermost layer: refuses bad framing before any route runs, adds the headers every
    response carries, counts and logs requests, and turns a crash into a 500 logged through
    structlog (never a raw traceback on stderr)."""

    def __init__(self, app: ASGIApp, ctx: WebContext) -> None:
        self.app = app
        self.ctx = ctx
        self.known = {
            "/",
            "/embed",
            "/healthz",
            "/readyz",
            "/metrics",
            "/admin/sync",
            "/admin/status",
            "/admin/force",
            *admin_ui.PATHS,
        }

    def _endpoint(self, path: str) -> str:
        if path == self.ctx.settings.feed.url_path:
            return "feed"
        if path.startswith(self.ctx.event_path_prefix()):
            return "event"
        return path if path in self.known else "other"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        endpoint = self._endpoint(path)
        status = 500
        started = False
        began = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        refusal = check_framing(method, scope["headers"], self.ctx.settings.http.max_body_bytes)
        try:
            if refusal is not None:
                log.debug("http.refused", reason=refusal.reason, method=method)
                response = _text(refusal.status, f"{refusal.reason}\n", {"Connection": "close"})
                await response(scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        except Exception:
            log.exception("http.handler_failed", method=method, endpoint=endpoint)
            if not started:
                await _text(500, "internal error\n")(scope, receive, sending)
        finally:
            self.ctx.metrics.http(endpoint, status, time.perf_counter() - began)
            # structlog runs its processors before the level is known: skip them per request.
            if _stdlib_log.isEnabledFor(logging.DEBUG):
                log.debug("http.request", method=method, endpoint=endpoint, status=status)
