"""The target contract, run against every target: CalDAV on Radicale, Xandikos, Cyrus and
DAViCal, and the local folder target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncsvc.state.memory import MemoryState
from syncsvc.targets.base import Target
from syncsvc.targets.folder.target import FolderTarget
from tests.servers import DavServer, open_caldav
from tests.target_contract import TargetContract


class CalDAVHarness:
    def __init__(self, server: DavServer) -> None:
        self.server = server
        self.calendar_url = server.new_calendar("contract")
        self.target: Target = open_caldav(server, self.calendar_url, MemoryState())

    def _url(self, remote_id: str) -> str:
        return self.server.url.rstrip("/") + remote_id

    def put_foreign(self, name: str, data: bytes) -> str:
        href = self.server.put_raw(self.calendar_url, name, data)
        return href.removeprefix(self.server.url.rstrip("/"))

    def read(self, remote_id: str) -> bytes | None:
        return self.server.get_raw(self._url(remote_id))

    def write(self, remote_id: str, data: bytes) -> None:
        self.server.put_raw(
            self._url(remote_id).rsplit("/", 1)[0] + "/", remote_id.rsplit("/", 1)[1], data
        )

    def remove(self, remote_id: str) -> None:
        self.server.delete_raw(self._url(remote_id))


class FolderHarness:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.target: Target = FolderTarget("folder", path)

    def put_foreign(self, name: str, data: bytes) -> str:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_bytes(data)
        return name

    def read(self, remote_id: str) -> bytes | None:
        file = self.path / remote_id
        return file.read_bytes() if file.exists() else None

    def write(self, remote_id: str, data: bytes) -> None:
        (self.path / remote_id).write_bytes(data)

    def remove(self, remote_id: str) -> None:
        (self.path / remote_id).unlink()


@pytest.mark.servers
class TestRadicale(TargetContract):
    @pytest.fixture
    def harness(self, radicale: DavServer) -> Iterator[CalDAVHarness]:
        h = CalDAVHarness(radicale)
        yield h
        h.target.close()


@pytest.mark.servers
class TestXandikos(TargetContract):
    @pytest.fixture
    def harness(self, xandikos: DavServer) -> Iterator[CalDAVHarness]:
        h = CalDAVHarness(xandikos)
        yield h
        h.target.close()


@pytest.mark.servers
class TestCyrus(TargetContract):
    @pytest.fixture
    def harness(self, cyrus: DavServer) -> Iterator[CalDAVHarness]:
        h = CalDAVHarness(cyrus)
        yield h
        h.target.close()


@pytest.mark.servers
class TestDavical(TargetContract):
    @pytest.fixture
    def harness(self, davical: DavServer) -> Iterator[CalDAVHarness]:
        h = CalDAVHarness(davical)
        yield h
        h.target.close()


class TestFolder(TargetContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> Iterator[FolderHarness]:
        h = FolderHarness(tmp_path / "calendar")
        yield h
        h.target.close()
