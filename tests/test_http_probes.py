"""What a stranger can send the public listener, over raw sockets, against the real server in
a child process (tests/http_child.py): smuggling forms, half-open floods under a 1024-file
limit, idle and trickling connections, aborted requests, and what /metrics and /readyz show.

Bounded: a dozen smuggling forms, one flood of 1,100 sockets, a few seconds of timeouts.
"""

from __future__ import annotations

import json
import resource
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.http_child import ERROR, PATH, PERSON, SECRET

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "probe-admin-token-0123456789abcdef"  # 34 characters


@dataclass
class Child:
    process: subprocess.Popen[str]
    port: int

    def stop(self) -> str:
        """Stops the server and returns everything it wrote to stderr."""
        assert self.process.stdin is not None
        assert self.process.stderr is not None
        self.process.stdin.close()
        self.process.wait(20)
        try:
            return self.process.stderr.read()
        finally:
            self.process.stderr.close()
            if self.process.stdout is not None:
                self.process.stdout.close()


def start(tmp: Path, *args: str) -> Child:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.http_child", str(tmp), "--token", TOKEN, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        assert process.stderr is not None
        raise RuntimeError(f"server did not start:\n{process.stderr.read()}")
    return Child(process, int(json.loads(line)["port"]))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Child]:
    child = start(tmp_path_factory.mktemp("probe"), "--failed-run")
    yield child
    child.stop()


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_to_eof(sock: socket.socket, limit: float = 5.0) -> bytes:
    """Everything the server sends until it closes; fails if it does not within `limit`."""
    deadline = time.monotonic() + limit
    chunks = []
    while True:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        except TimeoutError:
            pytest.fail(f"the server did not close the connection within {limit:g} s")
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def statuses(data: bytes) -> list[int]:
    """Status codes of the responses in `data`, in order; -1 for bytes that are no response."""
    codes = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if not sep or not lines[0].startswith(b"HTTP/1."):
            codes.append(-1)
            break
        code = int(lines[0].split()[1])
        codes.append(code)
        length: int | None = 0 if code in (204, 304) else None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        # Without Content-Length the body runs to the close (RFC 9112 §6.3, last rule).
        data = b"" if length is None else rest[length:]
    return codes


# A request hidden in a body: answered on its own, it would be a second response (401).
INNER = b"GET /admin/status HTTP/1.1\r\nHost: probe\r\n\r\n"
LAST = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
N = str(len(INNER)).encode()
CHUNKED = hex(len(INNER))[2:].encode() + b"\r\n" + INNER + b"\r\n0\r\n\r\n"


def _get(*headers: bytes, body: bytes = b"") -> bytes:
    return (
        b"GET /healthz HTTP/1.1\r\nHost: probe\r\n"
        + b"".join(h + b"\r\n" for h in headers)
        + (b"\r\n" + body)
    )


SMUGGLING = {
    "get-with-content-length": _get(b"Content-Length: " + N, body=INNER),
    "get-chunked": _get(b"Transfer-Encoding: chunked", body=CHUNKED),
    "cl-te": _get(
        b"Content-Length: " + str(len(b"0\r\n\r\n" + INNER)).encode(),
        b"Transfer-Encoding: chunked",
        body=b"0\r\n\r\n" + INNER,
    ),
    "te-cl": _get(b"Transfer-Encoding: chunked", b"Content-Length: 4", body=CHUNKED),
    "duplicate-cl-differing": _get(b"Content-Length: 0", b"Content-Length: " + N, body=INNER),
    "duplicate-cl-same": _get(b"Content-Length: " + N, b"Content-Length: " + N, body=INNER),
    "cl-plus-sign": _get(b"Content-Length: +" + N, body=INNER),
    "cl-underscore": _get(b"Content-Length: " + N[:1] + b"_" + N[1:], body=INNER),
    "te-unknown-coding": _get(b"Transfer-Encoding: xchunked", body=CHUNKED),
    "te-chunked-identity": _get(b"Transfer-Encoding: chunked, identity", body=CHUNKED),
    "te-space-before-colon": _get(b"Transfer-Encoding : chunked", body=CHUNKED),
    "duplicate-host": _get(b"Host: other", b"Content-Length: 0"),
}


@pytest.mark.parametrize("form", sorted(SMUGGLING))
def test_smuggling_forms_get_one_response_or_a_400(server: Child, form: str) -> None:
    with connect(server.port) as sock:
        sock.sendall(SMUGGLING[form] + LAST)
        got = statuses(read_to_eof(sock))
    # Either refused (400, connection closed) or the body was read as a body: the first
    # request's answer and the closing /healthz's, never the hidden request's.
    assert got in ([400], [200, 200]), got


def test_a_plain_keepalive_exchange_still_works(server: Child) -> None:
    with connect(server.port) as sock:
        sock.sendall(_get() + _get() + LAST)
        assert statuses(read_to_eof(sock)) == [200, 200, 200]


def test_readyz_and_metrics_hold_no_person_path_or_secret(server: Child) -> None:
    def get(path: str, *headers: bytes) -> tuple[int, bytes]:
        with connect(server.port) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n".encode()
                + b"".join(h + b"\r\n" for h in headers)
                + b"\r\n"
            )
            data = read_to_eof(sock)
        return statuses(data)[0], data.partition(b"\r\n\r\n")[2]

    leaks = [PERSON, "tindholm", PATH, "/srv", SECRET, ERROR[:20]]
    code, body = get("/readyz")
    assert code == 503
    assert body.decode().strip() == "failed"
    code, body = get("/metrics")
    assert code == 401
    for path in ("/readyz", "/metrics", "/healthz", "/"):
        code, body = get(path)
        assert not any(leak.encode() in body for leak in leaks), path
    # The same request with the token does see the detail: the probe above could fail.
    code, body = get("/metrics", f"Authorization: Bearer {TOKEN}".encode())
    assert code == 200
    assert PERSON.encode() in body


def test_the_host_header_never_reaches_the_page(server: Child) -> None:
    with connect(server.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: evil.example:666\r\nConnection: close\r\n\r\n")
        data = read_to_eof(sock)
    assert statuses(data) == [200]
    assert b"evil.example" not in data
    assert b'href="/hva-skjer.ics"' in data  # the relative download link


def _raise_own_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"this test opens {needed} sockets; the hard file limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def test_half_open_flood_under_1024_files_does_not_stop_healthz(tmp_path: Path) -> None:
    flood = 1100
    _raise_own_nofile(flood + 200)
    child = start(tmp_path, "--nofile", "1024", "--idle", "60", "--header", "60")
    sockets: list[socket.socket] = []
    try:
        for _ in range(flood):
            sock = connect(child.port)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nX-Slow: ")
            sockets.append(sock)
        # The oldest half-open client is the first to be closed to make room.
        assert read_to_eof(sockets[0], limit=10) == b""
        with connect(child.port, timeout=1.0) as sock:
            sock.sendall(LAST)
            answer = read_to_eof(sock, limit=1.0)
        assert statuses(answer) == [200]
        closed = 0
        for sock in sockets:
            sock.setblocking(False)
            try:
                closed += sock.recv(1) == b""
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed += 1
        # The server never held more connections than its file limit allows.
        assert closed >= flood - 1024
    finally:
        for sock in sockets:
            sock.close()
        stderr = child.stop()
    assert_only_structured_logs(stderr)


def test_idle_and_trickling_connections_are_closed(tmp_path: Path) -> None:
    child = start(tmp_path, "--idle", "1", "--header", "1")
    try:
        # A connection that never sends a byte.
        with connect(child.port) as sock:
            began = time.monotonic()
            assert read_to_eof(sock, limit=5) == b""
            assert time.monotonic() - began >= 0.9  # closed by the timeout, not at once
        # A kept-alive connection after its answer.
        with connect(child.port) as sock:
            began = time.monotonic()
            sock.sendall(_get())
            # One answer, then the server keeps the connection until the idle timeout.
            assert statuses(read_to_eof(sock, limit=5)) == [200]
            assert time.monotonic() - began >= 0.9
        # Headers trickled a byte every 0.1 s: the header deadline closes it, although every
        # single read is quick.
        with connect(child.port) as sock:
            began = time.monotonic()
            closed = False
            for byte in _get(*[b"X-Pad: " + b"a" * 40] * 5):
                try:
                    sock.send(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                sock.settimeout(0.1)
                try:
                    if sock.recv(1) == b"":
                        closed = True
                        break
                except TimeoutError:
                    continue
            assert closed, "the server waited for a trickle of headers"
            assert time.monotonic() - began < 5
    finally:
        stderr = child.stop()
    assert_only_structured_logs(stderr)


def test_a_client_that_stops_reading_is_closed(tmp_path: Path) -> None:
    child = start(tmp_path, "--feed-bytes", "8000000", "--response", "1")
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", child.port))
        with sock:
            sock.sendall(b"GET /hva-skjer.ics HTTP/1.1\r\nHost: probe\r\n\r\n")
            assert sock.recv(5) == b"HTTP/"
            # Read nothing more until the server has had time to give up on us.
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                time.sleep(0.2)  # the client's own pace, as a stalled reader would have
            received = len(read_to_eof(sock, limit=10))
        assert received < 8_000_000  # cut off: the rest of the answer was never sent
    finally:
        stderr = child.stop()
    assert_only_structured_logs(stderr)


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN, as a client that crashes or gives up does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_aborted_requests_leave_no_traceback_outside_structlog(tmp_path: Path) -> None:
    child = start(tmp_path, "--feed-bytes", "4000000")
    try:
        for _ in range(10):
            sock = connect(child.port)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /hva-skjer.ics HTTP/1.1\r\nHost: probe\r\n\r\n")
            sock.recv(100)  # the answer has started; the client goes away mid-body
            _reset(sock)
            sock = connect(child.port)
            sock.sendall(b"GET /hva-skjer.ics HTTP/1.1\r\nHo")
            _reset(sock)
            sock = connect(child.port)
            sock.sendall(b"POST /admin/sync HTTP/1.1\r\nHost: probe\r\nContent-Length: 900\r\n\r\n")
            _reset(sock)
        with connect(child.port) as sock:
            sock.sendall(LAST)
            assert statuses(read_to_eof(sock)) == [200]
    finally:
        stderr = child.stop()
    assert_only_structured_logs(stderr)


def assert_only_structured_logs(stderr: str) -> None:
    """Every line the server wrote is one structlog JSON record: no raw traceback, no print."""
    for line in stderr.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"a line outside structlog: {line[:300]}")
        assert isinstance(record, dict), line[:300]
        assert "event" in record, line[:300]
        assert TOKEN not in line
