"""The CalDAV target's picture of its calendar during a run: the owned events by href (and
by UID, so a write costs O(1), not a scan), and which hrefs we have read or written in this
run — a write only ever replaces an object seen to be ours in this run. Several writes may be
in flight at once (engine.apply), so every change takes the lock."""

from __future__ import annotations

import threading

from syncsvc.domain.events import ObservedEvent
from syncsvc.targets.caldav.xml import href_key


class Holdings:
    def __init__(self) -> None:
        self.events: dict[str, ObservedEvent] = {}  # by href key
        self._keys_by_uid: dict[str, set[str]] = {}
        self.seen: set[str] = set()  # href keys whose content we read or wrote in this run
        self._lock = threading.RLock()

    def put(self, key: str, event: ObservedEvent, *, seen: bool = True) -> None:
        with self._lock:
            self.drop(key)
            self.events[key] = event
            self._keys_by_uid.setdefault(event.uid, set()).add(key)
            if seen:
                self.seen.add(key)

    def drop(self, key: str) -> None:
        with self._lock:
            event = self.events.pop(key, None)
            if event is not None:
                keys = self._keys_by_uid.get(event.uid)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._keys_by_uid[event.uid]

    def remember(self, event: ObservedEvent) -> None:
        """`event` is where the server holds its UID now (and nowhere else)."""
        with self._lock:
            self.forget_uid(event.uid)
            self.put(href_key(event.remote_id), event)

    def forget_uid(self, uid: str) -> None:
        with self._lock:
            for key in list(self._keys_by_uid.get(uid, ())):
                self.drop(key)

    def href_of(self, uid: str) -> str | None:
        with self._lock:
            keys = self._keys_by_uid.get(uid)
            return self.events[min(keys)].remote_id if keys else None

    def etag(self, href: str) -> str | None:
        known = self.events.get(href_key(href))
        return known.etag if known else None

    def by_uid(self, notes: list[str]) -> dict[str, ObservedEvent]:
        """Owned events by UID; a UID held twice is noted and the first href wins."""
        result: dict[str, ObservedEvent] = {}
        with self._lock:
            held = sorted(self.events.values(), key=lambda e: e.remote_id)
        for event in held:
            if event.uid in result:
                notes.append(f"UID {event.uid} found twice; using {result[event.uid].remote_id}")
                continue
            result[event.uid] = event
        return result
