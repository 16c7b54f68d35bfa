"""One `.ics` file holding every owned event (a single-file export, a public feed file).

Changes are made to the parsed calendar in memory and written once, atomically, on `close()`
(rewriting the whole file per event would be quadratic). If the file changed on disk since it
was read, the write is refused with ConflictError rather than losing that change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from icalendar import Calendar, Component

from syncsvc.atomic import write_atomic
from syncsvc.domain.errors import ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.pipeline.ical import (
    calendar_to_ical,
    event_to_ical,
    marker_of,
    observed_from_component,
    vtimezones,
)
from syncsvc.targets.base import TargetStats

if TYPE_CHECKING:
    from syncsvc.settings import Settings
    from syncsvc.state.base import TargetState


def _etag(vevent: Component) -> str:
    return hashlib.sha256(vevent.to_ical()).hexdigest()


class IcsFileTarget:
    def __init__(self, name: str, path: Path, *, displayname: str | None = None) -> None:
        self.name = name
        self.path = path
        self.displayname = displayname or name
        self.stats = TargetStats()
        self._cal: Calendar | None = None
        self._disk_hash: str | None = None  # hash of the file as read; None: no file
        self._dirty = False

    def _load(self) -> Calendar:
        if self._cal is not None:
            return self._cal
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        except OSError as err:
            raise TargetError(
                f"cannot read {self.path}: {err.strerror}", calendar=self.name
            ) from None
        self._disk_hash = hashlib.sha256(data).hexdigest() if data else None
        if data:
            try:
                parsed = Calendar.from_ical(data)
            except Exception:  # malformed file: refuse rather than overwrite someone's data
                raise TargetError(
                    f"{self.path} is not a readable calendar", calendar=self.name
                ) from None
            if not isinstance(parsed, Calendar):
                raise TargetError(f"{self.path} is not a readable calendar", calendar=self.name)
            self._cal = parsed
        else:
            self._cal = Calendar.from_ical(
                calendar_to_ical([], name=self.displayname, stamp=datetime.now(UTC))
            )
        return self._cal

    def _owned(self) -> dict[str, Component]:
        cal = self._load()
        return {
            str(v.get("UID", "")): v
            for v in cal.subcomponents
            if v.name == "VEVENT" and marker_of(v)
        }

    def observe(self) -> Mapping[str, ObservedEvent]:
        self._cal = None
        found: dict[str, ObservedEvent] = {}
        for uid, vevent in self._owned().items():
            event = observed_from_component(vevent, remote_id=uid, etag=_etag(vevent))
            if event is not None:
                found[uid] = event
        return found

    def observe_one(self, uid: str) -> ObservedEvent | None:
        vevent = self._owned().get(uid)
        if vevent is None:
            return None
        return observed_from_component(vevent, remote_id=uid, etag=_etag(vevent))

    def create(self, event: DesiredEvent) -> ObservedEvent:
        taken = {str(v.get("UID", "")) for v in self._load().subcomponents if v.name == "VEVENT"}
        if event.uid in taken:  # ours, or someone's event with that UID: never a second one
            raise ConflictError(f"{event.uid} exists already", calendar=self.name)
        return self._put(event, 0)

    def update(self, old: ObservedEvent, event: DesiredEvent, sequence: int) -> ObservedEvent:
        current = self._owned().get(old.uid)
        if current is None or _etag(current) != old.etag:
            raise ConflictError(f"{old.uid} changed since it was read", calendar=self.name)
        self._remove(current)
        return self._put(event, sequence)

    def delete(self, old: ObservedEvent) -> None:
        current = self._owned().get(old.uid)
        if current is None:
            return
        if _etag(current) != old.etag:
            raise ConflictError(f"{old.uid} changed since it was read", calendar=self.name)
        self._remove(current)

    def commit(self) -> None:
        """Write the file with every change made so far (CommitTarget)."""
        if not self._dirty or self._cal is None:
            return
        try:
            data = self.path.read_bytes()
            on_disk: str | None = hashlib.sha256(data).hexdigest() if data else None
        except FileNotFoundError:
            on_disk = None
        if on_disk != self._disk_hash:
            raise ConflictError(f"{self.path} changed while syncing", calendar=self.name)
        self._refresh_timezones(self._cal)
        try:
            write_atomic(self.path, bytes(self._cal.to_ical()))
        except OSError as err:
            raise TargetError(
                f"cannot write {self.path}: {err.strerror}", calendar=self.name
            ) from None
        self._dirty = False

    def ensure_calendar(self) -> None:
        """The file exists, empty when no event belongs in it."""
        if not self.path.exists():
            self._load()
            self._dirty = True

    def close(self) -> None:
        # The engine commits first; callers that only close still get their writes stored.
        self.commit()

    def _put(self, event: DesiredEvent, sequence: int) -> ObservedEvent:
        cal = self._load()
        vevent = Calendar.from_ical(
            event_to_ical(event, sequence=sequence, stamp=datetime.now(UTC))
        ).walk("VEVENT")[0]
        cal.add_component(vevent)
        self._dirty = True
        observed = observed_from_component(vevent, remote_id=event.uid, etag=_etag(vevent))
        assert observed is not None  # we just rendered it
        return observed

    @staticmethod
    def _refresh_timezones(cal: Calendar) -> None:
        # VTIMEZONEs cover only the years in use, so recompute them for the events now held.
        values = [
            v.decoded(prop)
            for v in cal.walk("VEVENT")
            for prop in ("DTSTART", "DTEND")
            if prop in v
        ]
        fresh = vtimezones(values)
        ours = {str(t["TZID"]) for t in fresh}
        rest = [
            c
            for c in cal.subcomponents
            if not (c.name == "VTIMEZONE" and str(c.get("TZID")) in ours)
        ]
        cal.subcomponents = [*fresh, *rest]

    def _remove(self, vevent: Component) -> None:
        cal = self._load()
        cal.subcomponents = [c for c in cal.subcomponents if c is not vevent]
        self._dirty = True


def open_target(calendar: object, settings: Settings, state: TargetState) -> IcsFileTarget:
    from syncsvc.targets.icsfile.config import IcsFileCalendar

    assert isinstance(calendar, IcsFileCalendar)
    return IcsFileTarget(
        calendar.name, settings.data_path(calendar.path), displayname=calendar.display_name
    )
