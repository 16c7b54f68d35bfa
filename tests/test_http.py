"""The HTTP server over real sockets: feed caching and CORS, agenda, health, metrics, admin."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncsvc.domain.changes import (
    CalendarReport,
    Change,
    ChangeKind,
    ChangeStatus,
    Outcome,
    RunReport,
)
from syncsvc.settings import Settings
from syncsvc.state.records import SyncStatus, TriggerResult
from syncsvc.state.sqlite import SqliteState
from syncsvc.web import WebContext, make_server, serve_in_thread
from syncsvc.web.metrics import Metrics
from syncsvc.web.public_data import anchor
from syncsvc.web.public_page import content_security_policy
from tests.feedsample import NOW, web_settings, write_feed

TOKEN = "s3cret-token-for-the-web-tests-0123"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _report(finished: datetime, *, failed: bool = False) -> RunReport:
    org = CalendarReport(
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
            ),
            Change(
                ChangeKind.UPDATE,
                "u2",
                "Tirsdagsmøte",
                date(2024, 9, 17),
                "moved",
                status=ChangeStatus.APPLIED,
            ),
        ],
        requests=0,
    )
    dav = CalendarReport(name="hva-skjer", target="caldav", requests=7)
    if failed:
        dav.outcome, dav.error = Outcome.FAILED, "HTTP 503 from server"
    return RunReport(
        run_id="r" + finished.strftime("%H%M%S"),
        started=finished - timedelta(seconds=3),
        finished=finished,
        plan_items=30,
        plan_undated=4,
        plan_problems=2,
        calendars=[org, dav],
    )


class Server:
    def __init__(self, settings: Settings, store: SqliteState, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.metrics = Metrics()
        self.triggers: list[str] = []
        self.context = WebContext(
            settings,
            metrics=self.metrics,
            store=store,
            trigger=self._trigger,
            clock=clock,
            sync_status=lambda: SyncStatus(running=False, pending=bool(self.triggers)),
        )
        self.httpd = make_server(self.context)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = serve_in_thread(self.httpd)
        self.client = httpx.Client(base_url=self.base, timeout=10)

    def _trigger(self, reason: str) -> TriggerResult:
        self.triggers.append(reason)
        return TriggerResult(queued=True, running=False, coalesced=len(self.triggers) > 1)

    def record(self, report: RunReport) -> None:
        self.store.record_run(report)
        self.metrics.observe_run(report)

    def close(self) -> None:
        self.client.close()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    made: list[Server] = []
    stores: list[SqliteState] = []

    def build(**kwargs: Any) -> Server:
        settings = web_settings(tmp_path, **kwargs)
        store = SqliteState(tmp_path / "state.sqlite3")
        stores.append(store)
        server = Server(settings, store, Clock(NOW))
        made.append(server)
        return server

    yield build
    for server in made:
        server.close()
    for store in stores:
        store.close()


def test_feed_is_503_until_written_then_200_with_validators(make: Callable[..., Server]) -> None:
    srv = make()
    missing = srv.client.get("/hva-skjer.ics")
    assert missing.status_code == 503
    assert "not been written yet" in missing.text
    write_feed(srv.settings)
    ok = srv.client.get("/hva-skjer.ics")
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "text/calendar; charset=utf-8"
    assert ok.content.startswith(b"BEGIN:VCALENDAR")
    assert ok.headers["etag"].startswith('"')  # strong
    assert ok.headers["last-modified"].endswith("GMT")
    assert ok.headers["access-control-allow-origin"] == "*"
    head = srv.client.head("/hva-skjer.ics")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(ok.content))


def test_feed_revalidation_answers_304(make: Callable[..., Server]) -> None:
    srv = make()
    path = write_feed(srv.settings)
    first = srv.client.get("/hva-skjer.ics")
    etag, modified = first.headers["etag"], first.headers["last-modified"]

    by_etag = srv.client.get("/hva-skjer.ics", headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == etag
    assert by_etag.headers["access-control-allow-origin"] == "*"
    in_list = srv.client.get("/hva-skjer.ics", headers={"If-None-Match": f'"other", W/{etag}'})
    assert in_list.status_code == 304
    by_date = srv.client.get("/hva-skjer.ics", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    # An old date or another tag gets the body; If-None-Match wins over If-Modified-Since.
    older = format_datetime(first_modified(first) - timedelta(hours=1), usegmt=True)
    assert srv.client.get("/hva-skjer.ics", headers={"If-Modified-Since": older}).status_code == 200
    both = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
    assert srv.client.get("/hva-skjer.ics", headers=both).status_code == 200

    # A new feed version: the old tag no longer matches.
    write_feed(srv.settings, path.read_bytes().replace(b"Lesefestival", b"Lesefest"))
    changed = srv.client.get("/hva-skjer.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def first_modified(response: httpx.Response) -> datetime:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(response.headers["last-modified"])


def test_cors_preflight(make: Callable[..., Server]) -> None:
    srv = make()
    pre = srv.client.options(
        "/hva-skjer.ics",
        headers={"Origin": "https://bibliotek.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "GET" in pre.headers["access-control-allow-methods"]
    assert "If-None-Match" in pre.headers["access-control-allow-headers"]


def test_agenda_page_headers_links_and_escaping(make: Callable[..., Server]) -> None:
    srv = make(base_url="https://kalender.example.no/bibliotek/")
    assert srv.client.get("/").status_code == 503
    write_feed(srv.settings)
    page = srv.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    assert csp == content_security_policy(embed=False)
    assert "default-src 'none'" in csp  # no script may run
    assert "script-src" not in csp
    assert "frame-ancestors 'none'" in csp
    assert 'href="webcal://kalender.example.no/bibliotek/hva-skjer.ics"' in page.text
    assert 'href="https://kalender.example.no/bibliotek/hva-skjer.ics"' in page.text
    assert "<script>" not in page.text
    assert "Forfatterbesøk" in page.text


def test_agenda_links_are_relative_without_public_base_url(
    make: Callable[..., Server],
) -> None:
    srv = make()
    write_feed(srv.settings)
    page = srv.client.get("/", headers={"Host": "bibliotek.example:8080"})
    assert page.status_code == 200
    assert 'href="/hva-skjer.ics"' in page.text
    assert "bibliotek.example" not in page.text
    assert "webcal:" not in page.text  # a webcal link needs a host: only with the base URL
    again = srv.client.get("/", headers={"Host": "other.example"})
    assert again.content == page.content  # the page does not depend on Host


def test_month_pages_embed_view_and_single_event_files(make: Callable[..., Server]) -> None:
    srv = make(base_url="https://kalender.example.no/bibliotek/")
    write_feed(srv.settings)
    june = srv.client.get("/", params={"maaned": "2024-06"})
    assert june.status_code == 200
    assert "Tirsdagsmøte (vår)" in june.text  # past events are there month by month
    assert "Tirsdagsmøte (vår)" not in srv.client.get("/").text
    bogus = srv.client.get("/", params={"maaned": "<script>"})
    assert bogus.status_code == 200
    assert bogus.content == srv.client.get("/").content  # unknown month: the upcoming view

    embed = srv.client.get("/embed")
    assert embed.status_code == 200
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "Forfatterbesøk" in embed.text
    assert "<header>" not in embed.text

    name = anchor("test-2@syncsvc.local")  # Forfatterbesøk in tests/feedsample.py
    one = srv.client.get(f"/hva-skjer/{name}.ics")
    assert one.status_code == 200
    assert one.headers["content-type"] == "text/calendar; charset=utf-8"
    assert one.headers["content-disposition"] == f'attachment; filename="{name}.ics"'
    assert one.content.count(b"BEGIN:VEVENT") == 1
    assert b"SUMMARY:Forfatterbes" in one.content
    assert f"https://kalender.example.no/bibliotek/hva-skjer/{name}.ics" in srv.client.get("/").text
    for missing in ("e-000000000000.ics", name, "x.ics", "..%2Fstate.sqlite3"):
        assert srv.client.get(f"/hva-skjer/{missing}").status_code == 404


def test_embed_frame_ancestors_are_configurable(tmp_path: Path) -> None:
    settings = web_settings(tmp_path)
    http = settings.http.model_copy(update={"embed_frame_ancestors": "https://bib.example.no"})
    srv = Server(
        settings.model_copy(update={"http": http}), SqliteState(tmp_path / "s"), Clock(NOW)
    )
    try:
        write_feed(srv.settings)
        csp = srv.client.get("/embed").headers["content-security-policy"]
        assert "frame-ancestors https://bib.example.no" in csp
        assert "frame-ancestors 'none'" in srv.client.get("/").headers["content-security-policy"]
    finally:
        srv.close()
        srv.store.close()


def test_health_and_readiness(make: Callable[..., Server]) -> None:
    srv = make()
    assert srv.client.get("/healthz").status_code == 200
    before = srv.client.get("/readyz")
    assert before.status_code == 503
    assert before.text == "starting\n"
    srv.record(_report(NOW - timedelta(minutes=5)))
    assert srv.client.get("/readyz").text == "ready\n"
    # Too old: more than twice the 15-minute interval.
    srv.clock.now = NOW + timedelta(minutes=31)
    stale = srv.client.get("/readyz")
    assert (stale.status_code, stale.text) == (503, "stale\n")
    # A recent failed run is not ready either.
    srv.record(_report(NOW + timedelta(minutes=30), failed=True))
    not_ok = srv.client.get("/readyz")
    assert (not_ok.status_code, not_ok.text) == (503, "partial\n")  # one word: no error text


def test_metrics_exposition(make: Callable[..., Server]) -> None:
    srv = make()
    srv.record(_report(NOW, failed=True))
    srv.record(_report(NOW + timedelta(minutes=15)))
    write_feed(srv.settings)
    srv.client.get("/hva-skjer.ics")
    # Calendar labels name people: without public_metrics the token is needed.
    assert srv.client.get("/metrics").status_code == 401
    response = srv.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE syncsvc_runs_total counter" in response.text
    samples = parse_exposition(response.text)
    assert samples['syncsvc_runs_total{dry_run="false",outcome="ok"}'] == 1
    assert samples['syncsvc_runs_total{dry_run="false",outcome="partial"}'] == 1
    assert samples["syncsvc_last_run_duration_seconds"] == 3
    assert samples['syncsvc_changes_total{calendar="org",kind="create"}'] == 2
    assert samples['syncsvc_changes_total{calendar="org",kind="delete"}'] == 0
    assert samples['syncsvc_requests_total{calendar="hva-skjer"}'] == 14
    assert samples['syncsvc_calendar_errors_total{calendar="hva-skjer"}'] == 1
    assert samples['syncsvc_calendar_up{calendar="hva-skjer"}'] == 1
    assert samples["syncsvc_plan_problems"] == 2
    assert samples["syncsvc_plan_undated_items"] == 4
    assert samples['syncsvc_http_requests_total{code="200",endpoint="feed"}'] == 1


def test_admin_requires_the_bearer_token(make: Callable[..., Server]) -> None:
    srv = make()
    srv.record(_report(NOW, failed=True))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        denied = srv.client.post("/admin/sync", headers=headers)
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"].startswith("Bearer")
        assert srv.client.get("/admin/status", headers=headers).status_code == 401
    assert srv.triggers == []

    auth = {"Authorization": f"Bearer {TOKEN}"}
    accepted = srv.client.post("/admin/sync", headers=auth)
    assert accepted.status_code == 202
    assert accepted.json()["queued"] is True
    assert srv.triggers == ["admin"]
    status = srv.client.get("/admin/status", headers=auth)
    assert status.status_code == 200
    body = status.json()
    cals = {c["name"]: c for c in body["calendars"]}
    assert cals["hva-skjer"]["error"] == "HTTP 503 from server"
    assert body["runs"][0]["plan_undated"] == 4
    assert body["ready"] is False
    assert "undated" in body["plan"]
    assert srv.client.get("/admin/sync", headers=auth).status_code == 405


def test_admin_is_off_without_a_token(make: Callable[..., Server]) -> None:
    srv = make(token=None)
    assert srv.client.post("/admin/sync", headers={"Authorization": "Bearer x"}).status_code == 404
    assert srv.client.get("/admin/status").status_code == 404
    assert srv.triggers == []


def test_the_token_is_never_logged(
    make: Callable[..., Server], caplog: pytest.LogCaptureFixture
) -> None:
    from structlog.testing import capture_logs

    srv = make()
    caplog.set_level(logging.DEBUG, logger="syncsvc.web")  # request lines are debug
    with capture_logs() as logs:
        srv.client.post("/admin/sync", headers={"Authorization": f"Bearer {TOKEN}"})
        srv.client.post("/admin/sync", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert logs  # the request was logged ...
    assert TOKEN not in repr(logs)  # ... without the token


def test_unknown_paths_and_concurrent_requests(make: Callable[..., Server]) -> None:
    srv = make()
    write_feed(srv.settings)
    assert srv.client.get("/nope").status_code == 404
    results: list[int] = []
    lock = threading.Lock()

    def fetch() -> None:
        with httpx.Client(base_url=srv.base, timeout=10) as client:
            for _ in range(10):
                code = client.get("/hva-skjer.ics").status_code
                with lock:
                    results.append(code)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 80


def test_clock_default_is_aware() -> None:
    assert WebContext(web_settings(Path("/nonexistent"))).clock().tzinfo is UTC


def parse_exposition(text: str) -> dict[str, float]:
    """Sample lines as {'name{labels}': value}: enough for these tests, not a full parser."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        samples[series] = float(value)
    return dict(samples)


def test_metrics_can_be_made_public_and_are_off_without_token_or_opt_in(
    make: Callable[..., Server],
) -> None:
    assert make(token=None).client.get("/metrics").status_code == 404
    public = make(token=None, public_metrics=True)
    response = public.client.get("/metrics")
    assert response.status_code == 200
    assert "# TYPE syncsvc_runs_total counter" in response.text


def test_failed_admin_attempts_are_throttled_per_client(make: Callable[..., Server]) -> None:
    srv = make()
    codes = [
        srv.client.get("/admin/status", headers={"Authorization": f"Bearer guess-{n}"}).status_code
        for n in range(14)
    ]
    # The burst (10) is answered 401, then every attempt is refused unchecked ...
    assert codes == [401] * 10 + [429] * 4
    limited = srv.client.get("/admin/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert limited.status_code == 429  # ... even the right token: a guesser learns nothing
    assert int(limited.headers["retry-after"]) >= 1
    assert srv.triggers == []


def test_get_with_a_body_is_refused_and_the_connection_closed(make: Callable[..., Server]) -> None:
    srv = make()
    response = srv.client.request("GET", "/healthz", content=b"x=1")
    assert response.status_code == 400
    assert response.headers["connection"] == "close"
    too_big = srv.client.post(
        "/admin/sync", content=b"x" * 5000, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert too_big.status_code == 413

    def chunks() -> Iterator[bytes]:
        yield b"x=1"

    chunked = srv.client.post(
        "/admin/sync", content=chunks(), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert chunked.status_code == 411
    assert srv.triggers == []


def test_a_handler_crash_is_a_500_logged_through_structlog(make: Callable[..., Server]) -> None:
    from structlog.testing import capture_logs

    srv = make()

    def broken(reason: str) -> TriggerResult:
        raise RuntimeError("boom")

    srv.context.trigger = broken
    with capture_logs() as logs:
        response = srv.client.post("/admin/sync", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 500
    assert "boom" not in response.text
    assert any(entry["event"] == "http.handler_failed" for entry in logs)


def test_the_connection_cap_fits_under_the_open_file_limit() -> None:
    import resource

    from syncsvc.web.server import connection_cap

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1024:
        pytest.skip(f"the hard open-file limit is {hard}")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        # 64 kept for the rest of the daemon, 128 for one accept batch.
        assert connection_cap(512, 128) == 512
        assert connection_cap(4096, 128) == 1024 - 64 - 128
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_forwarded_clients_count_only_behind_a_trusted_proxy(make: Callable[..., Server]) -> None:
    def attempt(srv: Server, client: str) -> int:
        headers = {"Authorization": "Bearer wrong", "X-Forwarded-For": client}
        return srv.client.get("/admin/status", headers=headers).status_code

    proxied = make(trusted_proxies=("127.0.0.1",))
    assert [attempt(proxied, "203.0.113.7") for _ in range(11)] == [401] * 10 + [429]
    assert attempt(proxied, "203.0.113.8") == 401  # another client behind the same proxy
    # Without a trusted proxy the header is anyone's to send: it changes nothing.
    direct = make()
    assert [attempt(direct, f"198.51.100.{n}") for n in range(11)] == [401] * 10 + [429]
