"""The public feed file as the HTTP server serves it: bytes, strong ETag, Last-Modified, and the
conditional-request rules (RFC 9110 §13) that turn a revalidation into a 304."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    body: bytes
    etag: str  # strong: quoted hash of the bytes
    last_modified: datetime  # UTC, whole seconds (HTTP dates have no fractions)

    @property
    def last_modified_http(self) -> str:
        return format_datetime(self.last_modified, usegmt=True)


class FeedFile:
    """Reads the feed file once per change. The engine replaces the file atomically (rename),
    so (inode, size, mtime) changes whenever the content may have changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._key: tuple[int, int, int] | None = None
        self._snapshot: FeedSnapshot | None = None

    def load(self) -> FeedSnapshot | None:
        """The current feed, or None if none has been written yet."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            if key == self._key and self._snapshot is not None:
                return self._snapshot
        try:
            body = self.path.read_bytes()
        except FileNotFoundError:
            return None
        snapshot = FeedSnapshot(
            body=body,
            etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
            last_modified=datetime.fromtimestamp(int(st.st_mtime), tz=UTC),
        )
        with self._lock:
            self._key, self._snapshot = key, snapshot
        return snapshot


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str, last_modified: datetime
) -> bool:
    """True if a GET/HEAD with these headers should get 304 Not Modified.

    If-None-Match wins when present (weak comparison, as the RFC asks for this header);
    If-Modified-Since is only consulted without it.
    """
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        if "*" in tags:
            return True
        bare = etag.removeprefix("W/")
        return any(t.removeprefix("W/") == bare for t in tags)
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since
    return False
