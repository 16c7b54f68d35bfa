"""A vdir calendar folder (khal, vdirsyncer, Thunderbird via a sync tool): one `.ics` per event.

The etag of an event is the hash of its file's bytes. Writes are atomic (a temp file in the
same directory, fsync, then rename), creates never overwrite (link(2) fails on an existing
name), and updates/deletes compare the etag first. Files without our marker are never read
beyond parsing and never written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from syncsvc.domain.errors import ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.pipeline.ical import event_to_ical, observe_ical
from syncsvc.targets.base import TargetStats

if TYPE_CHECKING:
    from syncsvc.settings import Settings
    from syncsvc.state.base import TargetState

log = structlog.get_logger(__name__)

# Temporary files older than this are leftovers of a crashed write (a live write takes ms).
STALE_TEMP_SECONDS = 3600
_SAFE_UID = re.compile(r"^[A-Za-z0-9@._+-]{1,200}$")


def file_name(uid: str) -> str:
    """The file an event lives in: the UID itself when safe (as vdirsyncer does), else a hash."""
    if _SAFE_UID.match(uid) and not uid.startswith("."):
        return f"{uid}.ics"
    return hashlib.sha256(uid.encode()).hexdigest()[:40] + ".ics"


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FolderTarget:
    def __init__(
        self, name: str, path: Path, *, displayname: str | None = None, color: str | None = None
    ) -> None:
        self.name = name
        self.path = path
        self.displayname = displayname or name
        self.color = color
        self.stats = TargetStats()
        self._files: dict[str, str] = {}  # uid -> file name, from the last observe

    # --- reading ------------------------------------------------------------------------
    def observe(self) -> Mapping[str, ObservedEvent]:
        found: dict[str, ObservedEvent] = {}
        self._files = {}
        if not self.path.is_dir():
            return found
        try:
            entries = sorted(os.listdir(self.path))
        except OSError as err:
            raise TargetError(
                f"cannot list {self.path}: {err.strerror}", calendar=self.name
            ) from None
        for entry in entries:
            if entry.startswith(".syncsvc-") and entry.endswith(".tmp"):
                self._remove_stale_temp(entry)
                continue
            if not entry.endswith(".ics") or entry.startswith("."):
                continue
            event = self._read(entry)
            if event is None:
                continue
            if event.uid in found:  # two files, one UID: keep the one named after it, say so
                if entry != file_name(event.uid):
                    self.stats.notes.append(f"duplicate UID {event.uid} in {entry}; ignored")
                    continue
                self.stats.notes.append(
                    f"duplicate UID {event.uid} in {self._files[event.uid]}; ignored"
                )
            found[event.uid] = event
            self._files[event.uid] = entry
        return found

    def _remove_stale_temp(self, entry: str) -> None:
        """A write interrupted by a crash leaves its temporary file; clear it once it is old
        enough that no live write can own it."""
        path = self.path / entry
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > STALE_TEMP_SECONDS:
                path.unlink()

    def observe_one(self, uid: str) -> ObservedEvent | None:
        entry = self._files.get(uid, file_name(uid))
        event = self._read(entry)
        return event if event is not None and event.uid == uid else None

    def _read(self, entry: str) -> ObservedEvent | None:
        try:
            data = (self.path / entry).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise TargetError(f"cannot read {entry}: {err.strerror}", calendar=self.name) from None
        return observe_ical(data, remote_id=entry, etag=etag_of(data))

    # --- writing ------------------------------------------------------------------------
    def create(self, event: DesiredEvent) -> ObservedEvent:
        self._ensure_dir()
        entry = file_name(event.uid)
        data = event_to_ical(event, sequence=0, stamp=datetime.now(UTC))
        tmp = self._write_temp(data)
        try:
            os.link(tmp, self.path / entry)  # fails if the name exists: never overwrite
        except FileExistsError:
            raise ConflictError(f"{entry} exists already", calendar=self.name) from None
        except OSError as err:
            raise TargetError(f"cannot write {entry}: {err.strerror}", calendar=self.name) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self._sync_dir()
        self._files[event.uid] = entry
        return self._observed(event, entry, data, 0)

    def update(self, old: ObservedEvent, event: DesiredEvent, sequence: int) -> ObservedEvent:
        self._check(old)
        data = event_to_ical(event, sequence=sequence, stamp=datetime.now(UTC))
        tmp = self._write_temp(data)
        try:
            os.replace(tmp, self.path / old.remote_id)
        except OSError as err:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise TargetError(
                f"cannot write {old.remote_id}: {err.strerror}", calendar=self.name
            ) from None
        self._sync_dir()
        return self._observed(event, old.remote_id, data, sequence)

    def delete(self, old: ObservedEvent) -> None:
        try:
            self._check(old)
        except _Gone:
            return
        try:
            os.unlink(self.path / old.remote_id)
        except FileNotFoundError:
            return
        except OSError as err:
            raise TargetError(
                f"cannot delete {old.remote_id}: {err.strerror}", calendar=self.name
            ) from None
        self._sync_dir()
        self._files.pop(old.uid, None)

    def close(self) -> None:
        pass

    # --- helpers ------------------------------------------------------------------------
    def _check(self, old: ObservedEvent) -> None:
        try:
            current = (self.path / old.remote_id).read_bytes()
        except FileNotFoundError:
            raise _Gone(f"{old.remote_id} is gone", calendar=self.name) from None
        if etag_of(current) != old.etag:
            raise ConflictError(f"{old.remote_id} changed since it was read", calendar=self.name)

    def _observed(self, event: DesiredEvent, entry: str, data: bytes, seq: int) -> ObservedEvent:
        return event.written(entry, etag_of(data), seq)

    def ensure_calendar(self) -> None:
        """The folder exists (a person with no events still gets an empty calendar)."""
        self._ensure_dir()

    def _ensure_dir(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # vdir metadata (as vdirsyncer and khal read it); set once, so a rename by hand
            # in a client that writes these files is kept.
            for meta, value in (("displayname", self.displayname), ("color", self.color)):
                if value and not (self.path / meta).exists():
                    (self.path / meta).write_text(value, encoding="utf-8")
        except OSError as err:
            raise TargetError(
                f"cannot create {self.path}: {err.strerror}", calendar=self.name
            ) from None

    def _write_temp(self, data: bytes) -> str:
        self._ensure_dir()
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".syncsvc-", suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except OSError as err:
            raise TargetError(
                f"cannot write in {self.path}: {err.strerror}", calendar=self.name
            ) from None
        return tmp

    def _sync_dir(self) -> None:
        # Make the rename itself durable; not every file system allows it, which is fine.
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


class _Gone(ConflictError):
    """The event's file vanished: for delete that is success, for update a conflict."""


def open_target(calendar: object, settings: Settings, state: TargetState) -> FolderTarget:
    from syncsvc.targets.folder.config import FolderCalendar

    assert isinstance(calendar, FolderCalendar)
    return FolderTarget(
        calendar.name,
        settings.data_path(calendar.path),
        displayname=calendar.display_name,
        color=calendar.color,
    )
