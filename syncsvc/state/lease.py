"""Which recorded runs are still alive, across processes, without trusting the clock.

A run holds an exclusive `flock` on a small file of its own from its start to its end. The
kernel drops the lock when the process dies however it dies (SIGKILL included), so a reader
that can take the lock knows the run is over; a reader that cannot, knows it is alive,
whether in this process (another open file) or in another one on the same machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import threading
from pathlib import Path

_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Leases:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._held: dict[str, int] = {}  # run_id -> file descriptor holding the lock
        self._lock = threading.Lock()

    def _path(self, run_id: str) -> Path:
        name = run_id if _SAFE.match(run_id) else hashlib.sha256(run_id.encode()).hexdigest()
        return self.folder / f"{name}.lock"

    def take(self, run_id: str) -> None:
        with self._lock:
            if run_id in self._held:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path(run_id), os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh run id: nobody else holds it
            self._held[run_id] = fd

    def release(self, run_id: str) -> None:
        with self._lock:
            fd = self._held.pop(run_id, None)
            if fd is None:
                return
            with contextlib.suppress(FileNotFoundError):
                self._path(run_id).unlink()
            os.close(fd)

    def alive(self, run_id: str) -> bool:
        with self._lock:
            if run_id in self._held:
                return True
        path = self._path(run_id)
        try:
            fd = os.open(path, os.O_RDWR)  # never create: a missing file is a finished run
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also drops the lock we may have just taken
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # the owner died: clear its leftover
        return False

    def release_all(self) -> None:
        for run_id in list(self._held):
            self.release(run_id)
