"""CalDAV-specific behaviour on real servers: request budgets, sync tokens and the fallback,
exact bytes on the wire, retries, lost replies and error messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import niquests
import pytest
from niquests.structures import CaseInsensitiveDict
from pydantic import SecretStr

from syncsvc.domain.errors import AuthError, ConflictError, TargetError
from syncsvc.settings import CalDAVServer
from syncsvc.state.memory import MemoryState
from syncsvc.targets.base import Target, TargetStats
from syncsvc.targets.caldav.http import DavHttp, redact
from syncsvc.targets.caldav.target import CalDAVTarget, object_name
from syncsvc.targets.retry import RetryPolicy, retry_after_seconds
from tests.builders import Sleeps
from tests.servers import PASSWORD, DavServer, open_caldav, server_config
from tests.target_contract import FOREIGN, event

pytestmark = pytest.mark.servers

_OPEN: list[CalDAVTarget] = []


@pytest.fixture(autouse=True)
def _close_targets() -> Iterator[None]:
    """Close every target a test opened (sockets must not leak: warnings are errors)."""
    yield
    while _OPEN:
        _OPEN.pop()._http.close()


def opened(target: Target) -> CalDAVTarget:
    assert isinstance(target, CalDAVTarget)
    _OPEN.append(target)
    return target


@dataclass
class Wire:
    """Records every request a target sends; can fail or answer some of them instead."""

    sent: list[tuple[str, str, bytes, dict[str, str]]] = field(default_factory=list)
    fake: Callable[[str, str, bytes], niquests.Response | None] | None = None
    lose_first: str | None = None  # a method whose first reply is lost after it was sent

    def install(self, target: CalDAVTarget) -> None:
        session = target._http._session
        real = session.request

        def request(method: str, url: str, **kw: Any) -> niquests.Response:
            body = kw.get("data") or b""
            self.sent.append((method, url, body, dict(kw.get("headers") or {})))
            if self.fake is not None:
                canned = self.fake(method, url, body)
                if canned is not None:
                    return canned
            response = real(method, url, **kw)
            if method == self.lose_first:
                self.lose_first = None
                raise niquests.exceptions.ConnectionError("connection reset")
            return response

        session.request = request  # type: ignore[method-assign,assignment]

    @property
    def methods(self) -> list[str]:
        return [m for m, *_ in self.sent]


def canned(status: int, headers: dict[str, str] | None = None) -> niquests.Response:
    response = niquests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(headers or {})
    response._content = b""
    return response


def make_target(
    server: DavServer,
    calendar_url: str,
    state: MemoryState,
    *,
    sleeps: Sleeps | None = None,
    use_sync_collection: bool = True,
    config: CalDAVServer | None = None,
    attempts: int = 3,
) -> CalDAVTarget:
    policy = RetryPolicy(
        attempts=attempts,
        sleep=Sleeps() if sleeps is None else sleeps,
        rand=lambda: 1.0,
        max_total_wait=30.0,
    )
    http = DavHttp(
        server=config or server_config(server), stats=TargetStats(), calendar="cal", policy=policy
    )
    return opened(
        CalDAVTarget(
            name="cal",
            http=http,
            calendar_url=calendar_url,
            state=state,
            use_sync_collection=use_sync_collection,
        )
    )


@pytest.fixture
def calendar(dav_server: DavServer) -> str:
    return dav_server.new_calendar("target")


def seed(server: DavServer, calendar_url: str, state: MemoryState, n: int = 3) -> None:
    target = opened(open_caldav(server, calendar_url, state))
    target.observe()
    for i in range(n):
        target.create(event(f"seed{i}@test", day=i + 1))
    target.close()


def test_unchanged_calendar_costs_one_request(dav_server: DavServer, calendar: str) -> None:
    state = MemoryState()
    dav_server.put_raw(calendar, "own.ics", FOREIGN)
    seed(dav_server, calendar, state)
    target = opened(open_caldav(dav_server, calendar, state))
    assert set(target.observe()) == {"seed0@test", "seed1@test", "seed2@test"}
    target.close()
    assert target.stats.requests == 1
    assert target.stats.notes == []


def test_a_person_edit_costs_probe_sync_and_multiget(dav_server: DavServer, calendar: str) -> None:
    state = MemoryState()
    seed(dav_server, calendar, state)
    href = dav_server.url.rstrip("/") + state.get_events("cal")["seed1@test"].remote_id
    data = dav_server.get_raw(href)
    assert data is not None
    dav_server.put_raw(
        href.rsplit("/", 1)[0] + "/",
        href.rsplit("/", 1)[1],
        data.replace(b"SUMMARY:", b"SUMMARY:Endret "),
    )
    target = opened(open_caldav(dav_server, calendar, state))
    seen = target.observe()
    assert target.stats.requests == 3  # PROPFIND (token moved), sync report, multiget
    assert [uid for uid, e in seen.items() if e.drifted] == ["seed1@test"]


def test_wire_bytes_and_conditions(dav_server: DavServer, calendar: str) -> None:
    target = make_target(dav_server, calendar, MemoryState())
    wire = Wire()
    wire.install(target)
    created = target.create(event("w1@test"))
    updated = target.update(created, event("w1@test", summary="Ny"), sequence=3)
    target.delete(updated)
    puts = [(body, headers) for method, _, body, headers in wire.sent if method == "PUT"]
    assert puts[0][1]["If-None-Match"] == "*"
    assert puts[1][1]["If-Match"] == created.etag
    assert [h.get("If-Match") for m, _, _, h in wire.sent if m == "DELETE"] == [updated.etag]
    # Our renderer's bytes, unchanged: CRLF kept, SEQUENCE as the engine asked.
    assert b"\r\nSEQUENCE:3\r\n" in puts[1][0]
    assert b"\n" not in puts[1][0].replace(b"\r\n", b"")
    assert b"X-SYNCSVC-OWNER:v2.contract" in puts[0][0]


def test_fallback_lists_etags_and_fetches_only_changes(
    dav_server: DavServer,
    calendar: str,
) -> None:
    state = MemoryState()
    target = make_target(dav_server, calendar, state, use_sync_collection=False)
    target.observe()
    target.create(event("f1@test"))
    target.create(event("f2@test", day=6))
    target.close()
    assert state.get_token("cal") is None
    assert target.stats.notes == ["no sync-token support: etag listing"]

    again = make_target(dav_server, calendar, state, use_sync_collection=False)
    wire = Wire()
    wire.install(again)
    assert set(again.observe()) == {"f1@test", "f2@test"}
    assert wire.methods == ["PROPFIND"]  # nothing changed: no downloads


def test_server_without_sync_collection_falls_back(dav_server: DavServer, calendar: str) -> None:
    state = MemoryState()
    seed(dav_server, calendar, state, n=2)
    target = make_target(dav_server, calendar, MemoryState())
    wire = Wire(fake=lambda m, _u, body: canned(501) if b"sync-collection" in body else None)
    wire.install(target)
    assert set(target.observe()) == {"seed0@test", "seed1@test"}
    # identity probe, sync refused, list, multiget
    assert wire.methods == ["PROPFIND", "REPORT", "PROPFIND", "REPORT"]
    assert target.stats.notes == [
        "sync-collection refused (HTTP 501)",
        "no sync-token support: etag listing",
    ]


def test_rejected_token_means_full_resync(dav_server: DavServer, calendar: str) -> None:
    state = MemoryState()
    seed(dav_server, calendar, state, n=2)
    state.save("cal", "http://bogus/token/1", state.get_events("cal"))
    target = make_target(dav_server, calendar, state)
    assert set(target.observe()) == {"seed0@test", "seed1@test"}
    if dav_server.kind != "davical":
        assert any("sync token rejected" in n for n in target.stats.notes)
    # else: DAViCal takes any token it does not know as "from the start" (207, full listing)
    target.close()
    assert state.get_token("cal") not in (None, "http://bogus/token/1")


def test_lost_create_reply_is_checked_before_resending(
    dav_server: DavServer,
    calendar: str,
) -> None:
    sleeps = Sleeps()
    target = make_target(dav_server, calendar, MemoryState(), sleeps=sleeps)
    wire = Wire(lose_first="PUT")
    wire.install(target)
    created = target.create(event("lost@test"))
    assert wire.methods == ["PUT", "GET"]  # found by its href: not sent twice
    assert created.etag is not None
    assert target.stats.retries == 1
    assert len(sleeps) == 1


def test_retry_after_is_honoured(dav_server: DavServer, calendar: str) -> None:
    sleeps = Sleeps()
    target = make_target(dav_server, calendar, MemoryState(), sleeps=sleeps)
    answers = [canned(429, {"Retry-After": "3"})]
    wire = Wire(fake=lambda *_: answers.pop() if answers else None)
    wire.install(target)
    assert dict(target.observe()) == {}
    assert sleeps == [3.0]
    assert target.stats.retries == 1
    assert target.stats.requests == 3  # the 429, the PROPFIND again, the sync report


def test_server_errors_back_off_then_give_up(dav_server: DavServer, calendar: str) -> None:
    sleeps = Sleeps()
    target = make_target(dav_server, calendar, MemoryState(), sleeps=sleeps, attempts=4)
    Wire(fake=lambda *_: canned(503)).install(target)
    with pytest.raises(TargetError, match="HTTP 503") as err:
        target.observe()
    assert not isinstance(err.value, AuthError | ConflictError)
    assert sleeps == [0.5, 1.0, 2.0]  # exponential; jitter pinned to its maximum
    assert target.stats.requests == 4


def test_total_wait_is_capped(dav_server: DavServer, calendar: str) -> None:
    sleeps = Sleeps()
    target = make_target(dav_server, calendar, MemoryState(), sleeps=sleeps)
    Wire(fake=lambda *_: canned(503, {"Retry-After": "3600"})).install(target)
    with pytest.raises(TargetError, match="gave up after 1 tries"):
        target.observe()
    assert sleeps == []


def test_wrong_password_is_a_clear_auth_error(radicale: DavServer) -> None:
    calendar = radicale.new_calendar("auth")
    target = opened(open_caldav(radicale, calendar, MemoryState(), password="wrong-horse"))
    with pytest.raises(AuthError) as err:
        target.observe()
    message = str(err.value)
    assert "401" in message
    assert "wrong-horse" not in message
    assert PASSWORD not in message
    with pytest.raises(AuthError):
        target.create(event("never@test"))
    target.close()
    assert radicale.list_hrefs(calendar) == []


def test_bcrypt_htpasswd(radicale_bcrypt: DavServer) -> None:
    calendar = radicale_bcrypt.new_calendar("bcrypt")
    target = opened(open_caldav(radicale_bcrypt, calendar, MemoryState()))
    target.create(event("b1@test"))
    assert set(target.observe()) == {"b1@test"}
    target.close()
    wrong = opened(open_caldav(radicale_bcrypt, calendar, MemoryState(), password="nope"))
    with pytest.raises(AuthError):
        wrong.observe()


def test_server_down_names_url_without_credentials(dead_url: str) -> None:
    sleeps = Sleeps()
    config = CalDAVServer(
        url=dead_url.replace("http://", "http://alice:hunter2@"),
        username="alice",
        password=SecretStr("hunter2"),
    )
    http = DavHttp(
        server=config,
        stats=TargetStats(),
        calendar="cal",
        policy=RetryPolicy(attempts=2, sleep=sleeps, rand=lambda: 0.0),
    )
    target = opened(CalDAVTarget(name="cal", http=http, calendar_url="cal/", state=MemoryState()))
    with pytest.raises(TargetError) as err:
        target.observe()
    message = str(err.value)
    assert dead_url in message
    assert "hunter2" not in message
    assert "alice" not in message
    assert sleeps == [0.25]


def authorization_headers(target: CalDAVTarget) -> list[str]:
    """Record the Authorization header of every request the target sends from now on."""
    seen: list[str] = []
    real_request = target._http._session.request

    def spy(method: str, url: str, **kw: Any) -> niquests.Response:
        response = real_request(method, url, **kw)
        sent = response.request
        assert sent is not None
        assert sent.headers is not None
        seen.append(str(sent.headers.get("Authorization", "")))
        return response

    target._http._session.request = spy  # type: ignore[method-assign,assignment]
    return seen


def test_bearer_token_is_sent(xandikos: DavServer) -> None:
    calendar = xandikos.new_calendar("bearer")
    config = CalDAVServer(url=xandikos.url, auth="bearer", token=SecretStr("tok-123"))
    target = make_target(xandikos, calendar, MemoryState(), config=config)
    wire = Wire()
    wire.install(target)
    seen = authorization_headers(target)
    target.observe()
    assert seen == ["Bearer tok-123"] * 2  # the collection PROPFIND and the sync report


def test_observe_one_finds_event_under_another_name(dav_server: DavServer, calendar: str) -> None:
    target = make_target(dav_server, calendar, MemoryState())
    created = target.create(event("moved@test"))
    data = dav_server.get_raw(dav_server.url.rstrip("/") + created.remote_id)
    assert data is not None
    dav_server.delete_raw(dav_server.url.rstrip("/") + created.remote_id)
    dav_server.put_raw(calendar, "renamed-by-client.ics", data)
    fresh = make_target(dav_server, calendar, MemoryState())
    found = fresh.observe_one("moved@test")
    assert found is not None
    assert found.remote_id.endswith("/renamed-by-client.ics")


@pytest.mark.parametrize(
    ("uid", "name"),
    [("plain-uid.1", "plain-uid.1.ics"), ("a@b", None), ("x/y z", None)],
)
def test_object_names_are_safe_path_segments(uid: str, name: str | None) -> None:
    result = object_name(uid)
    assert result.endswith(".ics")
    assert all(c.isalnum() or c in "._-" for c in result)
    if name is not None:
        assert result == name
    assert object_name(uid) == result  # stable


def test_retry_after_parsing_and_redaction() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("soon") is None
    assert (
        redact("https://u:p@cal.example.org:8443/dav/?x=1")
        == "https://cal.example.org:8443/dav/?x=1"
    )


def test_no_netrc_or_environment_credentials(
    xandikos: DavServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calendar = xandikos.new_calendar("env")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login mallory password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("CALDAV_USERNAME", "mallory")
    monkeypatch.setenv("CALDAV_PASSWORD", "from-env")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    target = make_target(xandikos, calendar, MemoryState())
    seen = authorization_headers(target)
    assert dict(target.observe()) == {}  # reached directly, not via the bogus proxy
    assert seen == ["", ""]


def test_tls_settings_reach_the_client() -> None:
    def verify_of(config: CalDAVServer, ca_bundle: str | None = None) -> object:
        http = DavHttp(server=config, stats=TargetStats(), calendar="c", ca_bundle=ca_bundle)
        try:
            return http.verify
        finally:
            http.close()

    base = CalDAVServer(url="https://cal.example.org/", auth="none")
    assert verify_of(base) is True
    assert verify_of(base.model_copy(update={"verify_tls": False})) is False
    assert verify_of(base, ca_bundle="/etc/ssl/org-ca.pem") == "/etc/ssl/org-ca.pem"
