"""No secret ever leaves: whole CLI syncs at debug level with JSON logs, with a CalDAV
password (secrets directory), a bearer token (refused by the server), a password in a server
URL and a server that is down, a Graph client secret (secret file) against the fake Graph,
and the admin token; then a run with a wrong password, `config check` and `status --json`.
No output line, error message, report or file under the data directory holds any secret,
nor the Basic-auth encoding of a password.
"""

from __future__ import annotations

import base64
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.fake_graph import FakeGraph
from tests.reliability import activity_list
from tests.servers import DavServer, calendar_path, free_port

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parent.parent
YEAR = date.today().year + 1
MAILBOX = "arsplan@bibliotek.example"
BEARER = "Bearer-Tok-7f3a9c2e41"
URL_PASSWORD = "Url-Pw-5d8e1b"
DOWN_PASSWORD = "Down-Pw-0c4f2a"
GRAPH_SECRET = "Graph-Secret-9b7d3e11"
ADMIN_TOKEN = "Admin-Tok-2e6c8a40-secrets-test-0001"
WRONG_PASSWORD = "Wrong-Pw-41d9b7"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(secret=GRAPH_SECRET) as fake:
        fake.add_mailbox(MAILBOX, calendars=("Årsplan",))
        yield fake


def secrets_of(server: DavServer) -> list[str]:
    assert server.password is not None
    return [
        server.password,
        BEARER,
        URL_PASSWORD,
        DOWN_PASSWORD,
        GRAPH_SECRET,
        ADMIN_TOKEN,
        WRONG_PASSWORD,
    ]


def encodings(secret: str, user: str) -> list[bytes]:
    """The secret as bytes, and as a Basic-auth header would carry it."""
    basic = base64.b64encode(f"{user}:{secret}".encode())
    return [secret.encode(), basic, base64.b64encode(secret.encode())]


def syncsvc(config: Path, secrets: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCSVC_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "syncsvc",
            "--config",
            str(config),
            "--secrets-dir",
            str(secrets),
            "--log-format",
            "json",
            "--log-level",
            "debug",
            *args,
        ],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_no_secret_in_any_output_or_file(
    radicale: DavServer,
    graph: FakeGraph,
    tmp_path: Path,
) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text(activity_list(random.Random(3), 12, YEAR), encoding="utf-8")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "http__admin_token").write_text(ADMIN_TOKEN)
    password_file = tmp_path / "rad-password"
    password_file.write_text(radicale.password or "")
    (tmp_path / "graph-secret").write_text(GRAPH_SECRET + "\n")
    cal = calendar_path(radicale, radicale.new_calendar("secrets"))
    port = free_port()
    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f'[plan]\nsource = "{plan}"\n'
        f'[sync]\ndata_dir = "{tmp_path / "var"}"\n'
        f'[servers.rad]\nurl = "{radicale.url}"\nusername = "{radicale.username}"\n'
        f'password_file = "{password_file}"\ntimeout_seconds = 5\n'
        f'[servers.tok]\nurl = "{radicale.url}"\nauth = "bearer"\ntoken = "{BEARER}"\n'
        f'[servers.down]\nurl = "http://alice:{URL_PASSWORD}@127.0.0.1:{port}/"\n'
        f'username = "alice"\npassword = "{DOWN_PASSWORD}"\ntimeout_seconds = 2\n'
        f'[graph]\ntenant_id = "{graph.tenant}"\nclient_id = "{graph.client_id}"\n'
        f'client_secret_file = "{tmp_path / "graph-secret"}"\n'
        f'base_url = "{graph.graph_url}"\nauthority_url = "{graph.url}"\n'
        f'[[calendars]]\nname = "rad"\ntarget = "caldav"\nserver = "rad"\nurl = "{cal}"\n'
        f'[[calendars]]\nname = "tok"\ntarget = "caldav"\nserver = "tok"\nurl = "{cal}"\n'
        f'[[calendars]]\nname = "down"\ntarget = "caldav"\nserver = "down"\nurl = "/x/"\n'
        f'[[calendars]]\nname = "ms"\ntarget = "graph"\nmailbox = "{MAILBOX}"\n'
        f'calendar = "Årsplan"\n'
        '[[calendars]]\nname = "local"\ntarget = "folder"\npath = "calendars/local"\n'
        '[[calendars]]\nname = "pub"\ntarget = "folder"\npath = "calendars/pub"\n'
        'audience = "public"\n'
        '[feed]\ncalendar = "pub"\n',
        encoding="utf-8",
    )
    outputs: list[tuple[str, bytes]] = []

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        result = syncsvc(config, secrets, *args)
        outputs.append((f"{args} stdout", result.stdout))
        outputs.append((f"{args} stderr", result.stderr))
        return result

    first = run("sync", "--json")
    assert first.returncode == 7, first.stderr[-2000:]  # partial: tok refused, down is down
    assert b'"outcome": "failed"' in first.stdout
    assert b"refused access" in first.stdout  # the bearer calendar's error is reported
    assert b"connection failed" in first.stdout or b"cannot reach" in first.stdout
    assert any(w[0] == "POST" for w in graph.writes)  # Graph really synced
    assert b'"level": "debug"' in first.stderr  # debug logging really was on

    password_file.write_text(WRONG_PASSWORD)
    wrong = run("sync", "--json")
    assert wrong.returncode in (6, 7), wrong.stderr[-2000:]
    assert b"401" in wrong.stdout

    assert run("config", "check").returncode == 0
    assert run("status", "--json").returncode == 0
    assert run("sync", "--dry-run").returncode in (6, 7)

    files = [(str(p), p.read_bytes()) for p in (tmp_path / "var").rglob("*") if p.is_file()]
    assert any(name.endswith("state.sqlite3") for name, _ in files)
    user = radicale.username or ""
    for secret in secrets_of(radicale):
        for needle in encodings(secret, user):
            for where, data in outputs + files:
                assert needle not in data, f"{secret!r} ({needle!r}) found in {where}"
