"""The fault proxy itself: passes traffic through and injects exactly the chosen faults."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.faultproxy import FaultPlan, FaultProxy


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits = 0

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_PUT(self) -> None:
        Echo.hits += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("ETag", '"e1"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def upstream() -> Iterator[tuple[str, int]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield ("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


def put(url: str, body: bytes) -> tuple[int, bytes, str | None]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("PUT", "/x.ics", body=body)
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader("ETag")
    finally:
        conn.close()


def test_passes_through_without_faults(upstream: tuple[str, int]) -> None:
    with FaultProxy(upstream) as proxy:
        assert put(proxy.url, b"hello") == (201, b"hello", '"e1"')
        assert proxy.requests == 1
        assert not proxy.injected


@pytest.mark.parametrize("fault", ["500", "503", "429"])
def test_status_faults_do_not_reach_the_server(upstream: tuple[str, int], fault: str) -> None:
    Echo.hits = 0
    with FaultProxy(upstream, FaultPlan(rates={fault: 1.0}, retry_after="3")) as proxy:
        status, _, _ = put(proxy.url, b"x")
        assert status == int(fault)
        assert Echo.hits == 0
        assert proxy.injected[fault] == 1


def test_lost_response_reaches_the_server_but_not_the_client(upstream: tuple[str, int]) -> None:
    Echo.hits = 0
    with FaultProxy(upstream, FaultPlan(rates={"lost_response": 1.0})) as proxy:
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            put(proxy.url, b"x")
        assert Echo.hits == 1


def test_truncated_body_is_detected_by_the_client(upstream: tuple[str, int]) -> None:
    with (
        FaultProxy(upstream, FaultPlan(rates={"truncate": 1.0})) as proxy,
        pytest.raises(http.client.IncompleteRead),
    ):
        put(proxy.url, b"0123456789")


def test_same_seed_same_faults() -> None:
    rates = {"drop": 0.2, "500": 0.2, "slow": 0.2}
    first = [FaultPlan(seed=7, rates=rates).choose() for _ in range(1)]
    a, b = FaultPlan(seed=7, rates=rates), FaultPlan(seed=7, rates=rates)
    assert [a.choose() for _ in range(50)] == [b.choose() for _ in range(50)]
    assert first[0] in {None, "drop", "500", "slow"}
