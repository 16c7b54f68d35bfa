"""What the public can see: the feed file and the agenda page (`GET /`), after a real sync of
the seed plan plus one hostile public item. No e-mail address, no note or responsibility text,
no person's name the plan does not put in a public title; plan text escaped in HTML. Admin
endpoints need the token. A URL plan source refuses other schemes, oversized bodies and
endless redirects. TLS verification is on by default, for CalDAV and for plan URLs.
"""

from __future__ import annotations

import dataclasses
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from syncsvc.domain.errors import PlanError, TargetError
from syncsvc.domain.plan import Occurrence, Plan, PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.plan.source import read_source
from syncsvc.settings import (
    CalDAVServer,
    FolderCalendar,
    HttpSettings,
    PlanSettings,
    Settings,
)
from syncsvc.state.memory import MemoryState
from syncsvc.targets.base import TargetStats
from syncsvc.targets.caldav.http import DavHttp
from syncsvc.targets.retry import RetryPolicy
from syncsvc.web import WebContext, make_server, serve_in_thread
from tests import builders
from tests.test_route import ROOT, seed_plan

NOW = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
ADMIN = "admin-token-4c1f9e-public-surface-test"
HOSTILE = '<script>alert("x")</script> Åpen & "dag" <img src=x onerror=alert(1)>'
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}")


def plan_with_hostile_item() -> Plan:
    plan = seed_plan()
    day = date(2024, 5, 15)
    hostile = PlanItem(
        key="var-2024/hostile",
        title=HOSTILE,
        occurrences=(Occurrence(start=day, end=date(2024, 5, 16)),),
        public=True,
        notes="Hemmelig notat om budsjettet",
        responsible_text="Fylkesbiblioteket v/Trine",
    )
    return dataclasses.replace(plan, items=(*plan.items, hostile))


@pytest.fixture
def published(tmp_path: Path) -> tuple[Settings, Plan]:
    settings = builders.settings(
        tmp_path,
        FolderCalendar(name="org", target="folder", path="calendars/org"),
        FolderCalendar(
            name="hva-skjer",
            target="folder",
            path="calendars/hva-skjer",
            selector="public",
            audience="public",
        ),
        plan=PlanSettings(overrides=str(ROOT / "config" / "overrides.toml")),
        feed="hva-skjer",  # written to public/hva-skjer.ics, titled "Hva skjer" (the defaults)
        http=HttpSettings(admin_token=ADMIN, port=0),  # type: ignore[arg-type]
    )
    plan = plan_with_hostile_item()
    report = run_sync(settings, plan=plan, state=MemoryState(), now=NOW)
    assert report.outcome == "ok"
    return settings, plan


@pytest.fixture
def site(published: tuple[Settings, Plan]) -> Iterator[httpx.Client]:
    context = WebContext(published[0], clock=lambda: NOW)
    httpd = make_server(context, host="127.0.0.1", port=0)
    thread = serve_in_thread(httpd)
    with httpx.Client(base_url=f"http://127.0.0.1:{context.port}", timeout=10) as client:
        yield client
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def private_texts(plan: Plan) -> list[bytes]:
    """Text the public must not see: e-mails, names not in a public title, notes and the
    responsibility/competence columns (long enough pieces to be unambiguous)."""
    public_titles = " ".join(i.title for i in plan.items if i.public).lower()
    found: list[str] = []
    for person in plan.people:
        found.append(person.email)
        if person.name.lower() not in public_titles:
            found.append(person.name)
    for item in plan.items:
        for text in (item.notes, item.responsible_text, item.competence):
            piece = " ".join(text.split())[:30]
            if len(piece) >= 15 and piece.lower() not in public_titles:
                found.append(piece)
    return [t.encode() for t in found]


def test_feed_holds_only_public_text(published: tuple[Settings, Plan]) -> None:
    settings, plan = published
    feed = settings.data_path(settings.feed.path).read_bytes()
    assert b"BEGIN:VEVENT" in feed
    assert b"alert" in feed  # the hostile public title is there, as text
    unfolded = feed.replace(b"\r\n ", b"")
    without_uids = b"\n".join(x for x in unfolded.split(b"\r\n") if not x.startswith(b"UID:"))
    assert not EMAIL.findall(without_uids)  # UIDs look like addresses; nothing else may
    secrets = private_texts(plan)
    assert len(secrets) > 10  # the seed has people, notes and responsibilities
    org = b"".join(p.read_bytes() for p in settings.data_path("calendars/org").glob("*.ics"))
    assert any(s in org.replace(b"\r\n ", b"") for s in secrets)  # staff do see them
    for text in secrets:
        assert text not in unfolded, text


def test_agenda_page_escapes_and_holds_only_public_text(
    site: httpx.Client, published: tuple[Settings, Plan]
) -> None:
    page = site.get("/")
    assert page.status_code == 200
    body = page.content
    assert b"&lt;script&gt;" in body
    assert b'<script>alert("x")' not in body
    assert b"<img src=x" not in body
    assert not EMAIL.findall(body)
    for text in private_texts(published[1]):
        assert text not in body, text


def test_admin_endpoints_need_the_token(site: httpx.Client) -> None:
    assert site.get("/admin/status").status_code == 401
    assert site.post("/admin/sync").status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert site.get("/admin/status", headers=wrong).status_code == 401
    assert site.get("/admin/status", headers={"Authorization": ADMIN}).status_code == 401
    right = {"Authorization": f"Bearer {ADMIN}"}
    assert site.get("/admin/status", headers=right).status_code == 200


# --- plan URLs ---------------------------------------------------------------------------------


class _Plans(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith("/loop"):
            n = int(self.path.rsplit("/", 1)[1] or 0)
            self.send_response(302)
            self.send_header("Location", f"/loop/{n + 1}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"x" * 5000
        self.send_response(200)
        if self.path != "/chunked":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def plan_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Plans)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/plan.txt", "gopher://x/", "data:,x"]
)
def test_plan_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(PlanError, match="scheme"):
        read_source(url, max_bytes=1000, timeout_seconds=5)


@pytest.mark.parametrize("path", ["/big", "/chunked"])
def test_plan_url_refuses_oversized_bodies(plan_server: str, path: str) -> None:
    with pytest.raises(PlanError, match="limit"):
        read_source(plan_server + path, max_bytes=1000, timeout_seconds=5)


def test_plan_url_refuses_endless_redirects(plan_server: str) -> None:
    with pytest.raises(PlanError, match="redirect"):
        read_source(plan_server + "/loop/0", max_bytes=1000, timeout_seconds=5)


# --- TLS ---------------------------------------------------------------------------------------


def test_tls_verification_is_on_by_default() -> None:
    server = CalDAVServer(url="https://cal.example.org/", username="u", password="p")  # type: ignore[arg-type]
    assert server.verify_tls is True
    http = DavHttp(server=server, stats=TargetStats(), calendar="c")
    try:
        assert http.verify is True
    finally:
        http.close()


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[str]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Plans)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_self_signed_server_is_refused_by_caldav_and_plan_urls(self_signed: str) -> None:
    server = CalDAVServer(url=self_signed, username="u", password="p", timeout_seconds=5)  # type: ignore[arg-type]
    http = DavHttp(
        server=server,
        stats=TargetStats(),
        calendar="c",
        policy=RetryPolicy(attempts=1, sleep=lambda _: None),
    )
    try:
        with pytest.raises(TargetError, match="TLS verification failed"):
            http.request("PROPFIND", "/")
    finally:
        http.close()
    with pytest.raises(PlanError):
        read_source(self_signed + "big", max_bytes=100_000, timeout_seconds=5)
