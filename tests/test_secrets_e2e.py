"""No secret from a plan URL or from a server that echoes credentials reaches any output, state
file, calendar or the feed: through the CLI, with the plan served over HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.test_ownership_e2e import PLAN, syncsvc

USER, PASSWORD, TOKEN = "planreader", "Pw-s3cret-4711", "Tok-9f8e7d6c5b"
ECHOED = "Dav-pw-echo-2468"  # a CalDAV password the server below repeats in its error page
SECRETS = (PASSWORD, TOKEN, ECHOED)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/share/Arsplan.txt"):
            body = PLAN.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        else:  # the "CalDAV server": refuses, and echoes what it was sent
            body = f"denied: {self.headers.get('Authorization')} {self.path} {ECHOED}".encode()
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PROPFIND = do_REPORT = do_PUT = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_no_secret_anywhere(server: str, tmp_path: Path) -> None:
    source = f"http://{USER}:{PASSWORD}@{server}/share/Arsplan.txt?token={TOKEN}&v=2"
    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f"""[plan]
source = "{source}"

[sync]
data_dir = "var"

[servers.echo]
url = "http://{server}/dav/"
username = "alice"
password = "{ECHOED}"
timeout_seconds = 5

[[calendars]]
name = "org"
target = "folder"
path = "calendars/org"

[[calendars]]
name = "hva-skjer"
target = "folder"
selector = "public"
audience = "public"
path = "calendars/hva-skjer"

[[calendars]]
name = "remote"
target = "caldav"
server = "echo"
url = "/dav/cal/"

[feed]
calendar = "hva-skjer"
path = "public/hva-skjer.ics"
""",
        encoding="utf-8",
    )
    outputs = []
    for args in (
        ("sync", "--json"),
        ("sync",),
        ("sync", "--dry-run"),
        ("status",),
        ("status", "--json"),
        ("plan", "show"),
        ("plan", "check"),
        ("config", "check"),
    ):
        result = syncsvc(config, *args)
        outputs.append(f"{args}: {result.returncode}\n{result.stdout}\n{result.stderr}")
    text = "\n".join(outputs)
    assert "Arsplan.txt" in text  # the document is named ...
    assert "remote" in text  # ... and the failing calendar reported
    for secret in SECRETS:
        assert secret not in text, (secret, text[text.find(secret) - 300 :][:600])
    files = [p for p in (tmp_path / "var").rglob("*") if p.is_file()]
    assert any(p.name.endswith(".ics") for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, (secret, path)
    staff = next((tmp_path / "var" / "calendars" / "org").glob("*.ics")).read_bytes()
    assert b"Kilde: Arsplan.txt" in staff.replace(b"\r\n ", b"")
