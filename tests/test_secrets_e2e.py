"""No secret from a plan URL or from a server that echoes credentials reaches any output, state
file, calendar or the feed: through the CLI, with the plan served over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.test_ownership_e2e import PLAN, syncsvc

USER, PASSWORD, TOKEN = "planreader", "Pw-s3cret-4711", "Tok-9f8e7d6c5b"
ECHOED = "Dav-pw-echo-2468"  # a CalDAV password the server below repeats in its error page
CLIENT_SECRET = "Graph-secret-1357"  # the token endpoint below echoes it in its refusal
SECRETS = (PASSWORD, TOKEN, ECHOED, CLIENT_SECRET)


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

    def do_POST(self) -> None:  # a token endpoint that repeats the secret it was sent
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        if self.path.startswith("/behind-a-proxy/"):  # a proxy's HTML error page instead
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        sent = form.get("client_secret", [""])[0]
        body = json.dumps(
            {
                "error": "invalid_client",
                "error_description": f"AADSTS7000215: Invalid client secret provided: {sent}",
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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

[graph]
tenant_id = "contoso"
client_id = "app"
client_secret = "{CLIENT_SECRET}"
authority_url = "http://{server}"
base_url = "http://{server}/v1.0"

[[calendars]]
name = "outlook"
target = "graph"
mailbox = "plan@example.org"

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
    assert "remote" in text  # ... and the failing calendars reported
    assert "token request refused" in text
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


def test_no_secret_at_the_endpoints(server: str, tmp_path: Path) -> None:
    """The daemon's /readyz, /admin/status and /metrics after a run with a secret-laden plan
    URL and a server that echoes its password."""
    import queue

    import httpx

    from syncsvc.domain.changes import RunReport
    from syncsvc.service.daemon import DaemonInfo, run_daemon
    from syncsvc.settings import Settings

    token = "admin-token-" + "x" * 32
    settings = Settings.model_validate(
        {
            "plan": {
                "source": f"http://{USER}:{PASSWORD}@{server}/share/Arsplan.txt?token={TOKEN}"
            },
            "sync": {"data_dir": str(tmp_path / "var")},
            "servers": {
                "echo": {"url": f"http://{server}/dav/", "username": "alice", "password": ECHOED}
            },
            "calendars": [
                {"name": "org", "target": "folder", "path": "calendars/org"},
                {"name": "remote", "target": "caldav", "server": "echo", "url": "/dav/cal/"},
            ],
            "feed": {"calendar": ""},
            "http": {"host": "127.0.0.1", "port": 0, "admin_token": token},
        }
    )
    stop = threading.Event()
    started: queue.Queue[DaemonInfo] = queue.Queue()
    reports: queue.Queue[RunReport] = queue.Queue()
    thread = threading.Thread(
        target=run_daemon,
        args=(settings,),
        kwargs={"stop": stop, "on_start": started.put, "on_run": reports.put},
    )
    thread.start()
    try:
        info = started.get(timeout=60)
        report = reports.get(timeout=120)
        assert report.calendars  # the run happened (and the echo calendar failed)
        assert info.http_address is not None
        host, port = info.http_address
        bodies = []
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=10, trust_env=False) as http:
            for path in ("/readyz", "/metrics", "/admin/status"):
                reply = http.get(path, headers={"Authorization": f"Bearer {token}"})
                bodies.append(f"{path} {reply.status_code}\n{reply.text}")
        text = "\n".join(bodies)
        assert "/admin/status 200" in text
        assert "Arsplan.txt" in text
        for secret in SECRETS:
            assert secret not in text, (secret, text[text.find(secret) - 300 :][:600])
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()


def test_a_token_endpoint_answering_html_is_a_clear_auth_error(server: str) -> None:
    import httpx

    from syncsvc.domain.errors import AuthError
    from syncsvc.targets.graph.auth import client_credentials_tokens

    tokens = client_credentials_tokens(
        f"http://{server}/behind-a-proxy/oauth2/v2.0/token",
        "app",
        CLIENT_SECRET,
        "https://graph.microsoft.com/.default",
        http=httpx.Client(timeout=5, trust_env=False),
    )
    with pytest.raises(AuthError, match=r"token request refused: .*502"):
        tokens.token()
