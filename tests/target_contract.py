"""The contract every Target keeps, as one test class that each target's tests subclass.

A subclass provides a `harness` fixture: a fresh, empty calendar with a target on it and a
back door (a person's calendar client) to write foreign events and edit ours behind its back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest

from syncsvc.domain.errors import ConflictError
from syncsvc.domain.events import DesiredEvent, EventContent, EventStatus
from syncsvc.targets.base import Target

OSLO = ZoneInfo("Europe/Oslo")

FOREIGN = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Person//Own client//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:own-event-1@example.org\r\nDTSTAMP:20240101T090000Z\r\n"
    b"DTSTART;VALUE=DATE:20240304\r\nDTEND;VALUE=DATE:20240305\r\n"
    b"SUMMARY:Tannlege (privat)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class Harness(Protocol):
    target: Target

    def put_foreign(self, name: str, data: bytes) -> str:
        """Store an object the way a person's client would; returns its remote id."""
        ...

    def read(self, remote_id: str) -> bytes | None: ...

    def write(self, remote_id: str, data: bytes) -> None:
        """Overwrite an existing object (a person's edit)."""
        ...

    def remove(self, remote_id: str) -> None: ...


MARKER = "v2.contract"  # targets keep any marker; the engine checks it (pipeline.adopt)


def event(uid: str, summary: str = "Styremøte", day: int = 4, **kw: object) -> DesiredEvent:
    content = EventContent(
        summary=summary,
        start=date(2024, 3, day),
        end=date(2024, 3, day + 1),
        **kw,  # type: ignore[arg-type]
    )
    return DesiredEvent(uid=uid, content=content, item_key="k", marker=MARKER)


def timed_event(uid: str) -> DesiredEvent:
    content = EventContent(
        summary="Personalmøte",
        start=datetime(2024, 10, 28, 14, 0, tzinfo=OSLO),
        end=datetime(2024, 10, 28, 15, 30, tzinfo=OSLO),
        status=EventStatus.TENTATIVE,
        description="Sted: møterom 2\nTa med årsplanen",
        location="Møterom 2",
        categories=("Ledelse", "Personal"),
    )
    return DesiredEvent(uid=uid, content=content, marker=MARKER)


class TargetContract:
    """Subclasses define the `harness` fixture."""

    def test_starts_empty(self, harness: Harness) -> None:
        assert dict(harness.target.observe()) == {}

    def test_create_then_observe(self, harness: Harness) -> None:
        t = harness.target
        created = t.create(event("e1@test"))
        assert created.uid == "e1@test"
        assert created.stored_hash == created.actual_hash == event("e1@test").content_hash
        seen = t.observe()
        assert set(seen) == {"e1@test"}
        assert seen["e1@test"].remote_id == created.remote_id
        assert seen["e1@test"].etag == created.etag
        assert not seen["e1@test"].drifted

    def test_timed_event_round_trips(self, harness: Harness) -> None:
        desired = timed_event("t1@test")
        harness.target.create(desired)
        seen = harness.target.observe()["t1@test"]
        assert seen.actual_hash == desired.content_hash
        assert seen.start == desired.content.start

    def test_create_existing_uid_conflicts(self, harness: Harness) -> None:
        harness.target.create(event("dup@test"))
        with pytest.raises(ConflictError):
            harness.target.create(event("dup@test", summary="Annet"))

    def test_update_with_etag(self, harness: Harness) -> None:
        t = harness.target
        first = t.create(event("u1@test"))
        moved = event("u1@test", day=11)
        second = t.update(first, moved, sequence=1)
        assert second.etag != first.etag
        seen = t.observe()["u1@test"]
        assert seen.actual_hash == moved.content_hash
        assert seen.sequence == 1
        assert seen.start == date(2024, 3, 11)

    def test_stale_etag_update_conflicts(self, harness: Harness) -> None:
        t = harness.target
        first = t.create(event("s1@test"))
        t.update(first, event("s1@test", summary="Ny"), sequence=1)
        with pytest.raises(ConflictError):
            t.update(first, event("s1@test", summary="Gammel"), sequence=1)
        assert t.observe()["s1@test"].actual_hash == event("s1@test", summary="Ny").content_hash

    def test_stale_etag_delete_conflicts(self, harness: Harness) -> None:
        t = harness.target
        first = t.create(event("s2@test"))
        t.update(first, event("s2@test", summary="Ny"), sequence=1)
        with pytest.raises(ConflictError):
            t.delete(first)
        assert "s2@test" in t.observe()

    def test_delete_is_idempotent(self, harness: Harness) -> None:
        t = harness.target
        created = t.create(event("d1@test"))
        t.delete(created)
        t.delete(created)  # already gone: counts as deleted
        assert "d1@test" not in t.observe()
        assert harness.read(created.remote_id) is None

    def test_observe_one(self, harness: Harness) -> None:
        t = harness.target
        created = t.create(event("o1@test"))
        again = t.observe_one("o1@test")
        assert again is not None
        assert (again.uid, again.etag, again.actual_hash) == (
            "o1@test",
            created.etag,
            created.actual_hash,
        )
        assert t.observe_one("nobody@test") is None
        t.delete(created)
        assert t.observe_one("o1@test") is None

    def test_foreign_event_invisible_and_untouched(self, harness: Harness) -> None:
        t = harness.target
        foreign_id = harness.put_foreign("own-event-1.ics", FOREIGN)
        before = harness.read(foreign_id)
        assert before is not None
        assert dict(t.observe()) == {}
        created = t.create(event("f1@test"))
        updated = t.update(created, event("f1@test", summary="Endret"), sequence=1)
        t.delete(updated)
        assert dict(t.observe()) == {}
        assert t.observe_one("own-event-1@example.org") is None
        assert harness.read(foreign_id) == before

    def test_edit_in_calendar_is_drift(self, harness: Harness) -> None:
        t = harness.target
        created = t.create(event("x1@test"))
        data = harness.read(created.remote_id)
        assert data is not None
        harness.write(created.remote_id, data.replace(b"Styrem", b"Flyttet styrem"))
        seen = t.observe()["x1@test"]
        assert seen.drifted
        assert seen.stored_hash == created.stored_hash
        assert seen.actual_hash != created.actual_hash
        assert seen.etag != created.etag

    def test_owned_event_deleted_by_person_disappears(self, harness: Harness) -> None:
        t = harness.target
        keep = t.create(event("k1@test"))
        gone = t.create(event("k2@test", day=5))
        t.observe()
        harness.remove(gone.remote_id)
        assert set(t.observe()) == {keep.uid}
