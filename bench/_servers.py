"""Local CalDAV servers for the benchmarks, started with the test suite's own helpers.

`tests.servers` starts Radicale and Xandikos on 127.0.0.1 in a directory at a free port; we
reuse it so the bench measures exactly the servers the tests run against. This module adds
what a script (not a pytest session) needs: a context manager that always stops them, and a
request counter on loopback.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.faultproxy import FaultProxy
from tests.servers import DavServer, calendar_path, server_config, start_radicale, start_xandikos

__all__ = [
    "DavServer",
    "FaultProxy",
    "calendar_path",
    "counting_proxy",
    "running_servers",
    "server_config",
]

KINDS = ("radicale", "xandikos")  # the default; "davical" too when installed (the tests' apt)


def _start(kind: str, root: Path) -> DavServer:
    if kind == "radicale":
        return start_radicale(root)
    if kind == "xandikos":
        return start_xandikos(root)
    if kind == "davical":  # Apache + mod_php processes and PostgreSQL: a multi-process server
        from tests.servers_davical import start_davical

        root.parent.chmod(0o755)  # PostgreSQL and Apache run as their own users
        root.mkdir(parents=True)
        return start_davical(root)
    raise ValueError(f"unknown server kind {kind!r} (radicale, xandikos, davical)")


def _stop(server: DavServer) -> None:
    if server.kind == "davical":
        from tests.servers_davical import DavicalServer, stop_davical

        if isinstance(server, DavicalServer):
            stop_davical(server)
            return
    process = server.process
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def running_servers(kinds: tuple[str, ...] = KINDS) -> Iterator[dict[str, DavServer]]:
    """Start each server kind in its own temporary directory; stop them all on exit."""
    started: dict[str, DavServer] = {}
    with tempfile.TemporaryDirectory(prefix="syncsvc-bench-") as tmp:
        try:
            for kind in kinds:
                started[kind] = _start(kind, Path(tmp) / kind)
            yield started
        finally:
            for server in started.values():
                _stop(server)


@contextmanager
def counting_proxy(server: DavServer) -> Iterator[FaultProxy]:
    """A pass-through proxy on 127.0.0.1 in front of `server`; `.requests` counts requests.

    It opens one upstream connection per request, so it slows things down: use it only for
    counting, never for the timed runs."""
    parts = urlsplit(server.url)
    with FaultProxy((parts.hostname or "127.0.0.1", parts.port or 80)) as proxy:
        yield proxy
