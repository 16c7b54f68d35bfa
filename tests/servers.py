"""Real CalDAV servers for the tests: Radicale and Xandikos as subprocesses on 127.0.0.1
(Cyrus and DAViCal, which need system packages, live in servers_cyrus and servers_davical).

Each server starts once per test session in a temporary directory at a free port, is polled
until it answers (bounded deadline), and is terminated after the session. Tests get a fresh
calendar each (`DavServer.new_calendar`) so they never see each other's events.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from syncsvc.settings import CalDAVCalendar, CalDAVServer, Settings
from syncsvc.state.base import TargetState
from syncsvc.targets.base import Target
from syncsvc.targets.registry import open_target

USER = "alice"
PASSWORD = "s3cret-pw"
STARTUP_DEADLINE = 20.0

_MKCALENDAR = b"""<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>%s</D:displayname></D:prop></D:set>
</C:mkcalendar>"""


@dataclass
class DavServer:
    """A running server: its base URL, credentials and where calendars go."""

    kind: str  # "radicale" | "xandikos" | "cyrus" | "davical"
    url: str  # base URL, ends with "/"
    calendar_home: str  # path of the collection that holds our calendars, ends with "/"
    username: str | None = None
    password: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _counter: itertools.count[int] = field(default_factory=itertools.count, repr=False)

    def client(self) -> httpx.Client:
        auth = (self.username, self.password) if self.username and self.password else None
        # Following redirects (method and body kept): Cyrus 301s a calendar shared with us.
        return httpx.Client(
            base_url=self.url, auth=auth, timeout=10.0, trust_env=False, follow_redirects=True
        )

    def new_calendar(self, prefix: str = "cal") -> str:
        """Create a calendar collection with a unique name; returns its absolute URL."""
        name = f"{prefix}-{next(self._counter)}"
        return self.new_calendar_at(f"{self.calendar_home}{name}/", name)

    def new_calendar_at(self, path: str, name: str) -> str:
        """Create a calendar collection at `path`; returns its absolute URL."""
        with self.client() as http:
            resp = http.request(
                "MKCALENDAR",
                path,
                content=_MKCALENDAR % name.encode(),
                headers={"Content-Type": "application/xml; charset=utf-8"},
            )
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"MKCALENDAR {path} on {self.kind}: {resp.status_code}")
        return self.url.rstrip("/") + path

    def put_raw(self, calendar_url: str, name: str, data: bytes) -> str:
        """Write an object directly (a person's own event); returns its href."""
        href = calendar_url + name
        with self.client() as http:
            resp = http.put(href, content=data, headers={"Content-Type": "text/calendar"})
        if resp.status_code not in (201, 204):
            raise RuntimeError(f"PUT {href}: {resp.status_code}")
        return href

    def get_raw(self, href: str) -> bytes | None:
        with self.client() as http:
            resp = http.get(href)
        return None if resp.status_code == 404 else resp.content

    def delete_raw(self, href: str) -> None:
        with self.client() as http:
            http.delete(href)

    def list_hrefs(self, calendar_url: str) -> list[str]:
        """Every object in the calendar (ours or not), by a plain PROPFIND."""
        body = b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
        with self.client() as http:
            resp = http.request(
                "PROPFIND",
                calendar_url,
                content=body,
                headers={"Depth": "1", "Content-Type": "application/xml"},
            )
        hrefs = re.findall(rb"<(?:\w+:)?href>([^<]+)</(?:\w+:)?href>", resp.content)
        own = resp.url.path  # after any redirect
        return sorted(h.decode() for h in hrefs if h.decode().rstrip("/") != own.rstrip("/"))


def server_config(server: DavServer, *, password: str | None = None) -> CalDAVServer:
    """Settings for `server` (optionally with a different password)."""
    if server.username is None:
        return CalDAVServer(url=server.url, auth="none")
    secret = password if password is not None else server.password
    return CalDAVServer(
        url=server.url,
        username=server.username,
        password=SecretStr(secret) if secret is not None else None,
        timeout_seconds=10.0,
    )


def calendar_path(server: DavServer, calendar_url: str) -> str:
    """The calendar URL relative to the server URL (as a user would configure it)."""
    return calendar_url.removeprefix(server.url.rstrip("/"))


def open_caldav(
    server: DavServer,
    calendar_url: str,
    state: TargetState,
    *,
    name: str = "cal",
    password: str | None = None,
    create: bool = False,
) -> Target:
    """A CalDAV target through the factory, as the engine opens it."""
    config = server_config(server, password=password)
    settings = Settings(
        servers={"srv": config.model_copy(update={"create_calendars": create})},
        calendars=(
            CalDAVCalendar(
                name=name, target="caldav", server="srv", url=calendar_path(server, calendar_url)
            ),
        ),
    )
    return open_target(settings.calendars[0], settings, state)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(server: DavServer, log: Path) -> None:
    """Poll the server until it answers any HTTP status, or fail with its log."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    assert server.process is not None
    with httpx.Client(timeout=1.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                break
            try:
                http.request("OPTIONS", server.url)
                return
            except httpx.TransportError:
                # Wait on the process rather than a bare sleep: returns early if it dies.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    server.process.wait(timeout=0.05)
    _stop(server)
    raise RuntimeError(f"{server.kind} did not start; log:\n{log.read_text(errors='replace')}")


def _stop(server: DavServer) -> None:
    if server.process is None or server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


def start_radicale(root: Path, *, encryption: str = "plain") -> DavServer:
    """Radicale with htpasswd auth (plain or bcrypt) and filesystem storage under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    htpasswd = root / "htpasswd"
    if encryption == "bcrypt":
        from passlib.hash import bcrypt  # type: ignore[import-untyped]

        secret = bcrypt.hash(PASSWORD)
    else:
        secret = PASSWORD
    htpasswd.write_text(f"{USER}:{secret}\n")
    port = free_port()
    config = root / "config"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {htpasswd}\n"
        f"htpasswd_encryption = {encryption}\n"
        "delay = 0\n"
        "[storage]\n"
        f"filesystem_folder = {root / 'collections'}\n"
        "[logging]\n"
        "level = warning\n"
    )
    log = root / "radicale.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = DavServer(
        kind="radicale",
        url=f"http://127.0.0.1:{port}/",
        calendar_home=f"/{USER}/",
        username=USER,
        password=PASSWORD,
        process=process,
    )
    _wait_until_up(server, log)
    return server


def start_xandikos(root: Path) -> DavServer:
    """Xandikos (no auth: it expects a proxy in front) with its default layout under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "xandikos.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xandikos",
                "serve",
                "--defaults",
                "--no-detect-systemd",
                "-d",
                str(root / "data"),
                "--state-dir",
                str(root / "state"),
                "-l",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = DavServer(
        kind="xandikos",
        url=f"http://127.0.0.1:{port}/",
        calendar_home="/user/calendars/",
        process=process,
    )
    _wait_until_up(server, log)
    return server


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"))
    yield server
    _stop(server)


@pytest.fixture(scope="session")
def radicale_bcrypt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale-bcrypt"), encryption="bcrypt")
    yield server
    _stop(server)


@pytest.fixture(scope="session")
def xandikos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    server = start_xandikos(tmp_path_factory.mktemp("xandikos"))
    yield server
    _stop(server)


SERVERS = ("radicale", "xandikos", "cyrus", "davical")


@pytest.fixture(params=SERVERS)
def dav_server(request: pytest.FixtureRequest) -> DavServer:
    """Each test that uses this runs once per server."""
    server: DavServer = request.getfixturevalue(request.param)
    return server


@pytest.fixture
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/"
