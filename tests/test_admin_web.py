"""The admin web page: login with the token or a password, session cookie, CSRF, status,
plan problems, pending changes, sync now and --force with its confirmation; in plain HTTP
(httpx) and in Debian's headless Chromium (Norwegian by default, English on request)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from syncsvc.domain.changes import (
    CalendarReport,
    Change,
    ChangeKind,
    ChangeStatus,
    Outcome,
    RunReport,
)
from syncsvc.domain.errors import Where
from syncsvc.domain.plan import Plan, Problem, ProblemKind, Severity
from syncsvc.settings import Settings
from syncsvc.state.records import TriggerResult
from syncsvc.state.sqlite import SqliteState
from syncsvc.web import WebContext, make_server, serve_in_thread
from syncsvc.web.admin_auth import Sessions, hash_password, verify_password
from syncsvc.web.admin_ui import FORCE_REASON
from tests import a11y
from tests.feedsample import NOW, web_settings, write_feed
from tests.test_agenda_browser import CHROMIUM, CHROMIUM_ARGS

TOKEN = "admin-token-for-the-admin-page-tests-0123"
PASSWORD = "korrekt hest batteri stift"
OVERRIDES_WHERE = "/etc/syncsvc/overrides.toml:14"


def dry_run_report() -> dict[str, Any]:
    org = CalendarReport(
        name="org",
        target="folder",
        outcome=Outcome.PLANNED,
        changes=[
            Change(ChangeKind.CREATE, "u1", "Sommerles", date(2024, 6, 1), "new in plan"),
            Change(ChangeKind.DELETE, "u2", "Bokbad", date(2024, 11, 2), "removed from plan"),
            Change(
                ChangeKind.UPDATE,
                "u4",
                "Tirsdagsmøte",
                date(2024, 8, 27),
                "date moved",
                fields=(("start", "2024-08-20 10:00", "2024-08-27 10:00"),),
            ),
            Change(ChangeKind.UNCHANGED, "u3", "Styremøte", date(2024, 3, 4), ""),
        ],
    )
    report = RunReport(
        run_id="dry1", started=NOW, dry_run=True, calendars=[org], notes=["a note <b>"]
    )
    return report.to_dict()


def recorded(store: SqliteState) -> None:
    failed = CalendarReport(name="hva-skjer", target="caldav", outcome=Outcome.FAILED)
    failed.error = "HTTP 503 from server"
    ok = CalendarReport(
        name="org",
        target="folder",
        changes=[
            Change(
                ChangeKind.CREATE,
                "u1",
                "Sommerles",
                date(2024, 6, 1),
                "new",
                status=ChangeStatus.APPLIED,
            )
        ],
    )
    store.record_run(
        RunReport(
            run_id="run1",
            started=NOW - timedelta(minutes=5),
            finished=NOW - timedelta(minutes=4),
            calendars=[ok, failed],
        )
    )
    plan = Plan(
        title="Årsplan",
        year=2024,
        items=(),
        problems=(
            Problem(
                ProblemKind.UNMATCHED_OVERRIDE,
                Severity.WARNING,
                'override item = "hosten-2024/samisk-sprakuk" matches no plan item',
                where=Where("/etc/syncsvc/overrides.toml", 14),
            ),
        ),
    )
    store.record_plan(plan)


class Admin:
    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.store = SqliteState(tmp / "state.sqlite3")
        recorded(self.store)
        self.triggers: list[str] = []
        self.previews = 0
        self.context = WebContext(
            settings,
            store=self.store,
            trigger=self._trigger,
            clock=lambda: NOW,
            preview=self._preview,
        )
        self.httpd = make_server(self.context)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = serve_in_thread(self.httpd)
        self.client = httpx.Client(base_url=self.base, timeout=20)

    def _trigger(self, reason: str) -> TriggerResult:
        self.triggers.append(reason)
        return TriggerResult(queued=True, running=False, coalesced=False)

    def _preview(self) -> dict[str, Any]:
        self.previews += 1
        return dry_run_report()

    def close(self) -> None:
        self.client.close()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
        self.store.close()


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[Callable[..., Admin]]:
    made: list[Admin] = []

    def build(*, password: bool = False) -> Admin:
        settings = web_settings(tmp_path, token=TOKEN)
        if password:
            http = settings.http.model_copy(
                update={"admin_token": None, "admin_password_hash": hash_password(PASSWORD)}
            )
            settings = settings.model_copy(update={"http": http})
        write_feed(settings)
        made.append(Admin(settings, tmp_path))
        return made[-1]

    yield build
    for a in made:
        a.close()


def hidden(page: str, name: str = "csrf") -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(a: Admin, secret: str = TOKEN) -> str:
    """Logs the client in; returns the session's CSRF token."""
    form = a.client.get("/admin")
    assert form.status_code == 200
    done = a.client.post("/admin/login", data={"csrf": hidden(form.text), "secret": secret})
    assert done.status_code == 303, done.text
    page = a.client.get("/admin")
    assert "Logg ut" in page.text
    return hidden(page.text)


# --- the pieces --------------------------------------------------------------------------------
def test_password_hash_round_trip_and_refusals() -> None:
    encoded = hash_password(PASSWORD)
    assert encoded.startswith("scrypt$32768$8$1$")
    assert verify_password(PASSWORD, encoded)
    assert not verify_password(PASSWORD + "x", encoded)
    assert encoded != hash_password(PASSWORD)  # salted
    for broken in ("", "scrypt$1$2", "md5$1$1$1$aa$bb", "scrypt$32768$8$1$!!$??"):
        assert not verify_password(PASSWORD, broken)
    assert not verify_password(PASSWORD, "scrypt$4194304$8$1$AAAA$AAAA")  # cost capped


def test_sessions_expire_and_are_bounded() -> None:
    now = [NOW]
    sessions = Sessions(lambda: now[0])
    first = sessions.new()
    assert sessions.get(first.token) == first
    assert sessions.get("nope") is None
    assert sessions.get(None) is None
    now[0] = NOW + timedelta(hours=9)
    assert sessions.get(first.token) is None
    many = [sessions.new() for _ in range(100)]
    assert sessions.get(many[0].token) is None  # the oldest made room
    assert sessions.get(many[-1].token) == many[-1]


# --- over HTTP ----------------------------------------------------------------------------------
def test_login_sets_a_strict_httponly_session_cookie(admin: Callable[..., Admin]) -> None:
    a = admin()
    form = a.client.get("/admin")
    assert "Logg inn" in form.text
    assert form.headers["content-security-policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
    login_cookie = form.headers["set-cookie"]
    assert "HttpOnly" in login_cookie
    assert "SameSite=Strict" in login_cookie
    done = a.client.post("/admin/login", data={"csrf": hidden(form.text), "secret": TOKEN})
    assert done.status_code == 303
    session = next(c for c in done.headers.get_list("set-cookie") if "syncsvc_admin=" in c)
    assert "HttpOnly" in session
    assert "SameSite=Strict" in session
    assert "Path=/admin" in session
    assert "Secure" not in session  # plain HTTP here; over TLS the flag is set
    assert TOKEN not in session


def test_login_refuses_missing_csrf_wrong_secret_and_throttles(
    admin: Callable[..., Admin],
) -> None:
    a = admin()
    form = a.client.get("/admin")
    assert a.client.post("/admin/login", data={"secret": TOKEN}).status_code == 403
    assert (
        a.client.post("/admin/login", data={"csrf": "forged", "secret": TOKEN}).status_code == 403
    )
    wrong = a.client.post("/admin/login", data={"csrf": hidden(form.text), "secret": "nope"})
    assert wrong.status_code == 401
    assert "Feil nøkkel eller passord." in wrong.text
    codes = []
    for _ in range(15):
        again = a.client.get("/admin")
        codes.append(
            a.client.post(
                "/admin/login", data={"csrf": hidden(again.text), "secret": "nope"}
            ).status_code
        )
    assert 429 in codes  # the attempt limiter


def test_password_login_when_a_hash_is_configured(admin: Callable[..., Admin]) -> None:
    a = admin(password=True)
    login(a, PASSWORD)
    # No token configured: the bearer JSON endpoints are off, the page is not.
    assert a.client.get("/admin/status").status_code == 404


def test_dashboard_shows_status_calendars_runs_and_plan_problems(
    admin: Callable[..., Admin],
) -> None:
    a = admin()
    login(a)
    page = a.client.get("/admin").text
    assert "Kalendere" in page
    assert "HTTP 503 from server" in page  # the failed calendar's error
    assert OVERRIDES_WHERE in page
    assert "samisk-sprakuk" in page
    assert "Siste kjøringer" in page
    assert "ikke utført" not in page  # the recorded change was applied
    assert "<td>ny 1</td>" in page  # the runs table counts what was applied
    english = a.client.get("/admin", params={"lang": "en"})
    assert "Calendars" in english.text
    assert '<html lang="en">' in english.text
    assert "Calendars" in a.client.get("/admin").text  # the choice is kept (cookie)


def test_each_recent_run_opens_its_own_report(admin: Callable[..., Admin]) -> None:
    a = admin()
    later = CalendarReport(
        name="org",
        target="folder",
        changes=[
            Change(
                ChangeKind.DELETE,
                "u9",
                "Bokbad",
                date(2024, 11, 2),
                "removed from plan",
                status=ChangeStatus.APPLIED,
            )
        ],
    )
    a.store.record_run(
        RunReport(
            run_id="run2", started=NOW - timedelta(minutes=1), finished=NOW, calendars=[later]
        )
    )
    login(a)
    newest = a.client.get("/admin").text
    assert 'href="/admin?run=run1#report"' in newest
    assert "Bokbad" in newest  # the newest run's report by default
    older = a.client.get("/admin", params={"run": "run1"}).text
    report = older[older.index('id="report"') :]
    assert "Sommerles" in report
    assert "Bokbad" not in report
    unknown = a.client.get("/admin", params={"run": "' OR 1=1 --"})
    assert unknown.status_code == 200
    assert "Bokbad" in unknown.text  # an unknown run: the newest report


def test_actions_need_the_session_and_its_csrf_token(admin: Callable[..., Admin]) -> None:
    a = admin()
    anonymous = a.client.post("/admin/sync-now", data={"csrf": "x"})
    assert anonymous.status_code == 303  # to the login form
    csrf = login(a)
    assert a.client.post("/admin/sync-now", data={}).status_code == 403
    assert a.client.post("/admin/sync-now", data={"csrf": csrf + "x"}).status_code == 403
    assert a.triggers == []
    done = a.client.post("/admin/sync-now", data={"csrf": csrf})
    assert done.status_code == 303
    assert a.triggers == ["admin"]
    assert "Synkronisering er satt i kø." in a.client.get(done.headers["location"]).text


def test_preview_and_force_confirmation_show_what_changes(admin: Callable[..., Admin]) -> None:
    a = admin()
    csrf = login(a)
    preview = a.client.post("/admin/preview", data={"csrf": csrf})
    assert preview.status_code == 200
    assert "Ventende endringer" in preview.text
    assert "Bokbad" in preview.text
    assert "removed from plan" in preview.text
    assert "Styremøte" not in preview.text  # unchanged events are not listed
    assert (
        'start: <span class="old">2024-08-20 10:00</span> → <span class="new">2024-08-27 10:00'
        in preview.text
    )
    assert "a note &lt;b&gt;" in preview.text
    confirm = a.client.post("/admin/force", data={"csrf": csrf})
    assert confirm.status_code == 200
    assert "Bokbad" in confirm.text
    assert "Sommerles" not in confirm.text  # deletions only
    assert a.triggers == []  # asking is not doing
    done = a.client.post("/admin/force", data={"csrf": csrf, "confirm": "yes"})
    assert done.status_code == 303
    assert a.triggers == [FORCE_REASON]


def test_logout_ends_the_session(admin: Callable[..., Admin]) -> None:
    a = admin()
    csrf = login(a)
    assert a.client.post("/admin/logout", data={"csrf": csrf}).status_code == 303
    assert "Logg inn" in a.client.get("/admin").text
    assert a.client.post("/admin/sync-now", data={"csrf": csrf}).status_code == 303
    assert a.triggers == []


def test_admin_page_is_off_without_token_or_password(tmp_path: Path) -> None:
    settings = web_settings(tmp_path, token=None)
    context = WebContext(settings, clock=lambda: NOW)
    httpd = make_server(context)
    thread = serve_in_thread(httpd)
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        assert httpx.get(f"{base}/admin", timeout=10).status_code == 404
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# --- in Chromium -------------------------------------------------------------------------------
@pytest.mark.browser
def test_admin_in_a_real_browser(admin: Callable[..., Admin], tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed (apt-get install chromium)"
    a = admin()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{a.base}/admin")
            assert page.locator("html").get_attribute("lang") == "nb"
            page.get_by_label("Nøkkel eller passord").fill("wrong")
            page.get_by_role("button", name="Logg inn").click()
            assert page.get_by_role("alert").inner_text() == "Feil nøkkel eller passord."
            page.get_by_label("Nøkkel eller passord").fill(TOKEN)
            page.get_by_role("button", name="Logg inn").click()
            page.wait_for_url(f"{a.base}/admin")
            assert page.get_by_role("button", name="Logg ut").is_visible()
            (session,) = [c for c in context.cookies() if c["name"] == "syncsvc_admin"]
            assert session["httpOnly"] is True
            assert session["sameSite"] == "Strict"
            assert page.evaluate("document.cookie") == ""  # scripts cannot read it

            assert OVERRIDES_WHERE in page.locator("table.problems").inner_text()
            row = page.locator("table.calendars tr", has_text="hva-skjer")
            assert "HTTP 503 from server" in row.inner_text()

            page.get_by_role("button", name="Vis ventende endringer").click()
            assert "Bokbad" in page.locator(".report").first.inner_text()
            shots = Path(os.environ.get("SYNCSVC_SCREENSHOT_DIR") or tmp_path)
            page.screenshot(path=str(shots / "admin-preview.png"), full_page=True)

            page.get_by_role("button", name="Synkroniser med --force …").click()
            deleting = page.locator("table.deletions").inner_text()
            assert "Bokbad" in deleting
            assert a.triggers == []
            page.get_by_role("button", name="Ja, synkroniser og slett disse").click()
            page.wait_for_url(re.compile(r".*/admin\?m=queued$"))
            assert a.triggers == [FORCE_REASON]
            assert page.get_by_role("status").inner_text() == "Synkronisering er satt i kø."

            page.get_by_role("link", name="English").click()
            assert page.locator("html").get_attribute("lang") == "en"
            page.get_by_role("button", name="Sync now").click()
            page.wait_for_url(re.compile(r".*/admin\?m=queued$"))
            assert a.triggers == [FORCE_REASON, "admin"]
            assert page.get_by_role("status").inner_text() == "The sync is queued."
            shots = Path(os.environ.get("SYNCSVC_SCREENSHOT_DIR") or tmp_path)
            page.screenshot(path=str(shots / "admin-en.png"), full_page=True)

            page.get_by_role("button", name="Log out").click()
            assert page.get_by_role("button", name="Log in").is_visible()
            context.close()

            # axe-core on the login page and the dashboard, Norwegian and English.
            checked = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
            page = checked.new_page()
            page.goto(f"{a.base}/admin")
            found = {"login": a11y.violations(page)}
            page.get_by_label("Nøkkel eller passord").fill(TOKEN)
            page.get_by_role("button", name="Logg inn").click()
            page.wait_for_url(f"{a.base}/admin")
            page.get_by_role("button", name="Vis ventende endringer").click()
            found["dashboard"] = a11y.violations(page)
            page.goto(f"{a.base}/admin?lang=en")
            found["dashboard-en"] = a11y.violations(page)
            checked.close()
            assert found == {"login": [], "dashboard": [], "dashboard-en": []}
        finally:
            browser.close()
