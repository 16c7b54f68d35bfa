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

KINDS = ("radicale", "xandikos")


def _stop(server: DavServer) -> None:
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
                root = Path(tmp) / kind
                started[kind] = start_radicale(root) if kind == "radicale" else start_xandikos(root)
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
