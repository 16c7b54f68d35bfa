"""The admin web page's routes: GET /admin (login or dashboard), POST /admin/login, /logout,
/sync-now, /preview (a dry run's pending changes) and /force (confirmation, then the run).

Forms are urlencoded and small (the edge caps bodies); each POST but the login needs the
session cookie and the session's CSRF token, the login needs the login form's own token
(double submit), so no other site can make a signed-in browser press a button.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncsvc.state.records import TriggerResult
from syncsvc.web.admin_auth import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Session,
    Sessions,
    cookie,
    same,
    verify_password,
)
from syncsvc.web.admin_page import (
    CONTENT_SECURITY_POLICY,
    dashboard,
    deletions,
    force_page,
    login_page,
)
from syncsvc.web.admin_text import TEXT, Lang, language
from syncsvc.web.context import WebContext
from syncsvc.web.guard import AttemptLimiter

log = structlog.get_logger(__name__)

FORCE_REASON = "admin-force"  # the trigger reason that makes the daemon pass force=True
PATHS = ("/admin", "/admin/login", "/admin/logout", "/admin/sync-now", "/admin/preview")
_MESSAGES = {"queued"}  # ?m= may only name one of these texts


def enabled(ctx: WebContext) -> bool:
    return ctx.admin_token is not None or bool(ctx.settings.http.admin_password_hash)


def routes(ctx: WebContext) -> list[Route]:
    ui = AdminUi(ctx)
    return [
        Route("/admin", ui.page, methods=["GET", "HEAD"]),
        Route("/admin/login", ui.login, methods=["POST"]),
        Route("/admin/logout", ui.logout, methods=["POST"]),
        Route("/admin/sync-now", ui.sync_now, methods=["POST"]),
        Route("/admin/preview", ui.preview, methods=["POST"]),
        Route("/admin/force", ui.force, methods=["POST"]),
    ]


class AdminUi:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.sessions = Sessions(ctx.clock)
        http = ctx.settings.http
        self.limiter = AttemptLimiter(http.admin_failures_per_minute, http.admin_failure_burst)

    # --- helpers -----------------------------------------------------------------------------
    def _lang(self, request: Request) -> Lang:
        return language(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))

    def _html(self, request: Request, body: str, status: int = 200, **extra: str) -> Response:
        response = Response(
            body.encode(),
            status,
            {
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                **extra,
            },
            "text/html; charset=utf-8",
        )
        if request.query_params.get("lang"):
            response.headers.append(
                "Set-Cookie", cookie(LANG_COOKIE, self._lang(request), secure=_tls(request))
            )
        return response

    async def _form(self, request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body, max_num_fields=8).items()}

    def _session(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(SESSION_COOKIE))

    async def _checked(self, request: Request) -> tuple[Session, dict[str, str]] | Response:
        """The session and form of a signed-in POST with the right CSRF token, or a refusal."""
        session = self._session(request)
        form = await self._form(request)
        if session is None:
            return _redirect("/admin")
        if not same(form.get("csrf"), session.csrf):
            log.warning("http.admin_csrf_refused")
            return Response(b"forbidden\n", 403, {"Cache-Control": "no-store"}, "text/plain")
        return session, form

    def _client(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    # --- pages -------------------------------------------------------------------------------
    async def page(self, request: Request) -> Response:
        lang = self._lang(request)
        session = self._session(request)
        if session is None:
            return self._login_form(request, lang)
        message = request.query_params.get("m")
        text = TEXT[lang][message] if message in _MESSAGES else None
        run = request.query_params.get("run") or None
        body = await run_in_threadpool(self._dashboard, lang, session, text, None, None, run)
        return self._html(request, body)

    def _login_form(self, request: Request, lang: Lang, *, failed: bool = False) -> Response:
        from secrets import token_urlsafe

        token = token_urlsafe(24)
        response = self._html(
            request, login_page(lang, csrf=token, failed=failed), 401 if failed else 200
        )
        response.headers.append(
            "Set-Cookie", cookie(LOGIN_COOKIE, token, secure=_tls(request), max_age=3600)
        )
        return response

    def _dashboard(
        self,
        lang: Lang,
        session: Session,
        message: str | None = None,
        preview: dict[str, Any] | None = None,
        preview_error: str | None = None,
        run: str | None = None,
    ) -> str:
        store, state = self.ctx.store, self.ctx.readiness()
        report = None
        if store is not None:
            report = store.report(run) if run else None
            report = report or store.last_report()
        return dashboard(
            lang,
            csrf=session.csrf,
            readiness=(state.ready, state.detail),
            sync=self.ctx.sync_status() if self.ctx.sync_status else None,
            calendars=store.calendars() if store else [],
            runs=store.runs(10) if store else [],
            plan=store.plan_issues() if store else None,
            last_report=report,
            preview=preview,
            preview_error=preview_error,
            message=message,
        )

    # --- actions -----------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        lang, client = self._lang(request), self._client(request)
        wait = self.limiter.retry_after(client)
        if wait:
            log.warning("http.admin_throttled", client=client, retry_after=wait)
            return Response(b"too many failed attempts\n", 429, {"Retry-After": str(wait)})
        form = await self._form(request)
        if not same(form.get("csrf"), request.cookies.get(LOGIN_COOKIE)):
            log.warning("http.admin_csrf_refused", form="login")
            return Response(b"forbidden\n", 403, {"Cache-Control": "no-store"}, "text/plain")
        secret = form.get("secret", "")
        pw_hash = self.ctx.settings.http.admin_password_hash
        ok = same(secret, self.ctx.admin_token) or bool(
            pw_hash and secret and await run_in_threadpool(verify_password, secret, pw_hash)
        )
        if not ok:
            self.limiter.failed(client)
            log.info("http.admin_login_failed", client=client)
            return self._login_form(request, lang, failed=True)
        session = self.sessions.new()
        log.info("http.admin_login", client=client)
        response = _redirect("/admin")
        secure = _tls(request)
        response.headers.append("Set-Cookie", cookie(SESSION_COOKIE, session.token, secure=secure))
        response.headers.append("Set-Cookie", cookie(LOGIN_COOKIE, "", secure=secure, max_age=0))
        return response

    async def logout(self, request: Request) -> Response:
        checked = await self._checked(request)
        if isinstance(checked, Response):
            return checked
        self.sessions.drop(checked[0].token)
        response = _redirect("/admin")
        response.headers.append(
            "Set-Cookie", cookie(SESSION_COOKIE, "", secure=_tls(request), max_age=0)
        )
        return response

    async def sync_now(self, request: Request) -> Response:
        checked = await self._checked(request)
        if isinstance(checked, Response):
            return checked
        return self._trigger("admin")

    async def preview(self, request: Request) -> Response:
        checked = await self._checked(request)
        if isinstance(checked, Response):
            return checked
        report, error = await run_in_threadpool(self._dry_run)
        body = await run_in_threadpool(
            self._dashboard, self._lang(request), checked[0], None, report, error
        )
        return self._html(request, body)

    async def force(self, request: Request) -> Response:
        checked = await self._checked(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        if form.get("confirm") == "yes":
            log.warning("http.admin_force_requested")
            return self._trigger(FORCE_REASON)
        lang = self._lang(request)
        report, error = await run_in_threadpool(self._dry_run)
        if report is None:
            body = await run_in_threadpool(self._dashboard, lang, session, None, None, error)
            return self._html(request, body)
        return self._html(request, force_page(lang, csrf=session.csrf, deletions=deletions(report)))

    def _trigger(self, reason: str) -> Response:
        trigger: Callable[[str], TriggerResult] | None = self.ctx.trigger
        if trigger is None:
            return Response(b"no scheduler in this process\n", 503, {}, "text/plain")
        result = trigger(reason)
        log.info("http.sync_requested", reason=reason, **result.log_fields())
        return _redirect("/admin?m=queued")

    def _dry_run(self) -> tuple[dict[str, Any] | None, str | None]:
        if self.ctx.preview is None:
            return None, "no dry run in this process"
        try:
            return self.ctx.preview(), None
        except Exception as err:  # a plan that cannot be read is shown, not a 500
            log.warning("http.admin_preview_failed", error=str(err))
            return None, str(err)


def _redirect(location: str) -> Response:
    return Response(status_code=303, headers={"Location": location, "Cache-Control": "no-store"})


def _tls(request: Request) -> bool:
    return request.url.scheme == "https"
