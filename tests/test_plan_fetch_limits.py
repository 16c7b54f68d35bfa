"""Plan downloads against hostile servers on 127.0.0.1: a trickle of headers meets one total
deadline, shutdown interrupts a download, and redirects cannot lead to loopback, private or
link-local addresses unless the configured URL is one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from syncsvc.domain.errors import PlanError
from syncsvc.plan import netguard
from syncsvc.plan.netguard import AddressRefused, GuardedBackend, address_kind
from syncsvc.plan.source import read_source
from tests.bombs import SlowHeaderServer

PLAN = b"Aktivitet\tDato\nSommerles\t1. juni\n"


@pytest.fixture
def slow() -> Iterator[SlowHeaderServer]:
    server = SlowHeaderServer(interval=0.2)
    yield server
    server.close()


def in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as err:  # reported to the test below
            errors.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_trickled_headers_meet_one_total_deadline(slow: SlowHeaderServer) -> None:
    # Each header byte comes well within the per-read timeout; only a total deadline ends it.
    thread, errors = in_thread(lambda: read_source(slow.url, timeout_seconds=1.5))
    thread.join(30)
    assert not thread.is_alive(), "the download outlived its deadline"
    assert len(errors) == 1
    assert isinstance(errors[0], PlanError)
    assert "1.5 s" in str(errors[0])
    assert slow.connections == 1


def test_shutdown_interrupts_a_download(slow: SlowHeaderServer) -> None:
    thread, errors = in_thread(lambda: read_source(slow.url, timeout_seconds=600))
    try:
        while slow.connections == 0 and thread.is_alive():
            thread.join(0.05)  # until the download is under way
        netguard.stop_fetches()
        thread.join(30)
    finally:
        netguard.allow_fetches()
    assert not thread.is_alive()
    assert isinstance(errors[0], PlanError)
    assert "the daemon is stopping" in str(errors[0])


class _Redirects(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/to/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(PLAN)))
        self.end_headers()
        self.wfile.write(PLAN)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def redirector() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirects)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.20.30.40/plan.txt", "private"),
        ("http://[fd00::1]/plan.txt", "private"),
        ("http://192.168.1.1/plan.txt", "private"),
    ],
)
def test_redirects_to_other_kinds_of_address_are_refused(
    redirector: str, target: str, kind: str
) -> None:
    began = time.monotonic()
    with pytest.raises(PlanError, match=f"refused to connect: .* is a {kind} address"):
        read_source(f"{redirector}/to/{target}", timeout_seconds=5)
    assert time.monotonic() - began < 5  # refused before any connection attempt


def test_redirects_within_the_configured_kind_and_to_non_http(redirector: str) -> None:
    port = redirector.rsplit(":", 1)[1]
    # The configured URL is loopback: another loopback address is fine.
    fetched = read_source(f"{redirector}/to/http://localhost:{port}/plan.txt", timeout_seconds=5)
    assert fetched.data == PLAN
    with pytest.raises(PlanError, match="unsupported URL"):
        read_source(f"{redirector}/to/file:///etc/passwd", timeout_seconds=5)


def test_a_public_origin_may_not_reach_loopback(redirector: str) -> None:
    """What a public plan URL's download does when it is sent to 127.0.0.1: the backend as
    `read_source` builds it, told that the origin was public."""
    backend = GuardedBackend(time.monotonic() + 5, 5, origin_kinds=frozenset({"public"}))
    port = int(redirector.rsplit(":", 1)[1])
    for host in ("127.0.0.1", "localhost", "0.0.0.0"):
        with pytest.raises(AddressRefused) as refused:
            backend.connect_tcp(host, port)
        assert refused.value.kind == "loopback"
    loopback = GuardedBackend(time.monotonic() + 5, 5, origin_kinds=frozenset({"loopback"}))
    loopback.connect_tcp("127.0.0.1", port).close()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.10", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("8.8.8.8", "public"),
        ("2001:4860:4860::8888", "public"),
        ("224.0.0.1", "reserved"),
    ],
)
def test_address_kinds(address: str, kind: str) -> None:
    assert address_kind(address) == kind
