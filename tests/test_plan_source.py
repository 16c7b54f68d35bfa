"""Plan sources: files and http(s) URLs against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from syncsvc.domain.errors import PlanError
from syncsvc.domain.plan import ProblemKind
from syncsvc.plan.load import PlanSourceSpec, load_plan, read_plan_bytes
from tests.plan_docs import SEED_TEXT

BODY = SEED_TEXT.encode()
ETAG = '"v1"'


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, str | None]]] = []
    release: ClassVar[threading.Event] = threading.Event()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).requests.append((self.path, self.headers.get("If-None-Match")))
        if self.path == "/plan.txt":
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.end_headers()
                return
            self._send(BODY, etag=ETAG)
        elif self.path == "/big.txt":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the limit is enforced while streaming
            for _ in range(100):
                self.wfile.write(b"x" * 1000)
        elif self.path.startswith("/loop"):
            self.send_response(302)
            self.send_header("Location", "/loop" + str(len(self.path)))
            self.end_headers()
        elif self.path == "/to-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/plan.txt")
            self.end_headers()
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            type(self).release.wait(10)  # never answers within the client's timeout
        else:
            self.send_response(404)
            self.end_headers()

    def _send(self, body: bytes, *, etag: str) -> None:
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.requests = []
    _Handler.release = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    _Handler.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_url_200_then_304_reuses_the_cached_body(server: str, tmp_path: Path) -> None:
    spec = PlanSourceSpec(server + "/plan.txt", cache_dir=tmp_path)
    first = load_plan(spec)
    second = load_plan(spec)
    assert _Handler.requests == [("/plan.txt", None), ("/plan.txt", ETAG)]
    assert first.extra["http"] == "200"
    assert second.extra["http"] == "304 (cached body)"
    assert second.items == first.items
    assert len(first.items) == 23
    assert second.source == server + "/plan.txt"


def test_url_size_limit(server: str) -> None:
    with pytest.raises(PlanError, match="limit"):
        load_plan(PlanSourceSpec(server + "/big.txt", max_bytes=10_000))


def test_url_redirect_loop(server: str) -> None:
    with pytest.raises(PlanError, match="redirects"):
        load_plan(PlanSourceSpec(server + "/loop"))
    assert len(_Handler.requests) == 6  # the first request and 5 redirects


def test_redirect_to_another_scheme(server: str) -> None:
    with pytest.raises(PlanError):
        load_plan(PlanSourceSpec(server + "/to-ftp"))


def test_url_timeout(server: str) -> None:
    with pytest.raises(PlanError, match="timed out"):
        load_plan(PlanSourceSpec(server + "/slow", timeout_seconds=0.3))


def test_http_error_status(server: str) -> None:
    with pytest.raises(PlanError, match="404"):
        load_plan(PlanSourceSpec(server + "/missing.txt"))


@pytest.mark.parametrize("url", ["ftp://example.org/plan.txt", "file:///etc/passwd", "gopher://x"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(PlanError, match="only http and https") as err:
        load_plan(PlanSourceSpec(url))
    assert err.value.where is not None
    assert err.value.where.file == url


def test_file_source(tmp_path: Path) -> None:
    path = tmp_path / "arsplan.txt"
    path.write_bytes(BODY)
    plan = load_plan(PlanSourceSpec(str(path)))
    assert plan.source == str(path)
    assert len(plan.items) == 23
    assert plan.items[0].where is not None
    assert plan.items[0].where.file == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="no such file"):
        load_plan(PlanSourceSpec(str(tmp_path / "nope.txt")))


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(PlanError, match="empty"):
        load_plan(PlanSourceSpec(str(tmp_path / "empty.txt")))


def test_binary_garbage() -> None:
    with pytest.raises(PlanError):
        read_plan_bytes(bytes(range(256)) * 4, name="x.bin")


def test_cp1252_text_is_read_with_a_warning() -> None:
    plan = read_plan_bytes(SEED_TEXT.encode("cp1252", errors="replace"), name="p.txt")
    assert len(plan.items) == 23
    assert plan.items[1].title == "Etablere rutiner for faste møter med kommunene"
    (warning,) = [p for p in plan.problems if p.kind is ProblemKind.OTHER]
    assert "cp1252" in warning.message


def test_utf8_bom_and_crlf() -> None:
    data = b"\xef\xbb\xbf" + SEED_TEXT.replace("\n", "\r\n").encode()
    plan = read_plan_bytes(data, name="p.txt")
    assert plan.title.startswith("Årsplan 2024")
    assert len(plan.items) == 23


def test_no_date_column_names_the_file_and_header_line() -> None:
    text = "Årsplan 2024\n\nARBEIDSOPPGAVER AKTIVITETER\tSAMARBEID/ANSVAR\nX\tv/Tone\n"
    with pytest.raises(PlanError, match="no date column") as err:
        read_plan_bytes(text.encode(), name="p.txt", format="table-text")
    assert err.value.where is not None
    assert (err.value.where.file, err.value.where.line) == ("p.txt", 3)


def test_no_year_anywhere() -> None:
    text = "Årsplan\n\nARBEIDSOPPGAVER\tDATO/TID\nSommerles\t1. juni\n"
    with pytest.raises(PlanError, match="no year"):
        read_plan_bytes(text.encode(), name="p.txt")
    plan = read_plan_bytes(text.encode(), name="p.txt", year=2031)
    assert plan.items[0].occurrences[0].first_day.year == 2031


def test_unknown_format() -> None:
    # No reader fits: the message lists what each one tried and what it expected.
    with pytest.raises(PlanError, match="no plan found in this text document") as err:
        read_plan_bytes(b"just some words\n", name="notes")
    for expected in ("table:", "DATO/TID", "grid:", "month names", "list:", "9. januar"):
        assert expected in str(err.value)
    with pytest.raises(PlanError, match="unknown plan format"):
        read_plan_bytes(b"x", name="p.txt", format="word")
