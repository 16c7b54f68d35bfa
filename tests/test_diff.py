from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

from syncsvc.domain.changes import ChangeKind
from syncsvc.domain.events import DesiredEvent, EventContent, ObservedEvent
from syncsvc.pipeline import diff as d
from syncsvc.pipeline.diff import diff
from tests.builders import TZ

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo(TZ))


def desired(uid: str, day: date, summary: str = "Møte") -> DesiredEvent:
    return DesiredEvent(
        uid=uid, content=EventContent(summary, day, date.fromordinal(day.toordinal() + 1))
    )


def observed(event: DesiredEvent, *, actual: str | None = None, seq: int = 0) -> ObservedEvent:
    return ObservedEvent(
        uid=event.uid,
        remote_id=f"{event.uid}.ics",
        etag="e",
        stored_hash=event.content_hash,
        actual_hash=actual or event.content_hash,
        sequence=seq,
        start=event.content.start,
        end=event.content.end,
        summary=event.content.summary,
    )


def test_moved_date_is_exactly_one_update_with_the_same_uid() -> None:
    before = desired("a", date(2024, 9, 17))
    after = desired("a", date(2024, 9, 24))
    result = diff([after], {"a": observed(before)}, now=NOW)
    assert [c.uid for c in result.updates] == ["a"]
    assert result.updates[0].reason == d.MOVED
    assert not result.creates
    assert not result.deletes


def test_unchanged_content_is_not_rewritten() -> None:
    event = desired("a", date(2024, 9, 17))
    result = diff([event], {"a": observed(event)}, now=NOW)
    assert result.empty
    assert [c.kind for c in result.unchanged] == [ChangeKind.UNCHANGED]


def test_content_change_new_and_removed() -> None:
    old = desired("a", date(2024, 9, 17))
    new = desired("a", date(2024, 9, 17), summary="Møte – Tema")
    gone = desired("b", date(2024, 10, 1))
    result = diff(
        [new, desired("c", date(2024, 11, 1))], {"a": observed(old), "b": observed(gone)}, now=NOW
    )
    assert [(c.uid, c.reason) for c in result.updates] == [("a", d.CHANGED)]
    assert [(c.uid, c.reason) for c in result.creates] == [("c", d.NEW)]
    assert [(c.uid, c.reason, c.summary) for c in result.deletes] == [("b", d.REMOVED, "Møte")]
    assert [c.kind for c in result.changes] == [
        ChangeKind.CREATE,
        ChangeKind.UPDATE,
        ChangeKind.DELETE,
    ]


def test_edited_in_calendar_is_restored() -> None:
    event = desired("a", date(2024, 9, 17))
    result = diff([event], {"a": observed(event, actual="somethingelse")}, now=NOW)
    assert [(c.uid, c.reason) for c in result.updates] == [("a", d.EDITED)]


def test_hand_edit_that_matches_the_plan_needs_no_write() -> None:
    old = desired("a", date(2024, 9, 17))
    new = desired("a", date(2024, 9, 24))
    result = diff([new], {"a": observed(old, actual=new.content_hash)}, now=NOW)
    assert result.empty


def test_deleted_in_calendar_is_restored_when_state_remembers_it() -> None:
    event = desired("a", date(2024, 9, 17))
    assert diff([event], {}, now=NOW, known_uids={"a"}).creates[0].reason == d.DELETED
    assert diff([event], {}, now=NOW).creates[0].reason == d.NEW


def test_past_events_dropped_by_the_plan_are_kept_unless_delete_past() -> None:
    past = observed(desired("old", date(2024, 1, 16)))
    future = observed(desired("new", date(2024, 12, 17)))
    result = diff([], {"old": past, "new": future}, now=NOW)
    assert [c.uid for c in result.deletes] == ["new"]
    assert [(c.uid, c.reason) for c in result.unchanged] == [("old", d.PAST_KEPT)]
    forced = diff([], {"old": past, "new": future}, now=NOW, delete_past=True)
    assert sorted(c.uid for c in forced.deletes) == ["new", "old"]


def test_event_ending_today_at_midnight_counts_as_past_in_oslo() -> None:
    # 1 June ends at 2 June 00:00 Oslo: not yet past at 12:00 on 1 June.
    today = observed(desired("t", date(2024, 6, 1)))
    assert diff([], {"t": today}, now=NOW).deletes
    yesterday = dataclasses.replace(today, uid="y", start=date(2024, 5, 31), end=date(2024, 6, 1))
    assert not diff([], {"y": yesterday}, now=NOW).deletes


def test_past_is_decided_in_the_zone_of_now_not_in_oslo() -> None:
    # 31 May ends at 1 June 00:00 New York (04:00 UTC). At 23:30 on 31 May in New York
    # (03:30 UTC, already 1 June in Oslo) the event is not over yet.
    may31 = observed(desired("m", date(2024, 5, 31)))
    late_evening = datetime(2024, 5, 31, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert [c.uid for c in diff([], {"m": may31}, now=late_evening).deletes] == ["m"]
    an_hour_later = datetime(2024, 6, 1, 0, 30, tzinfo=ZoneInfo("America/New_York"))
    assert not diff([], {"m": may31}, now=an_hour_later).deletes


def test_updates_carry_old_and_new_of_each_changed_field() -> None:
    before = desired("a", date(2024, 9, 17))
    after = desired("a", date(2024, 9, 24), summary="Møte – Tema")
    (moved,) = diff([after], {"a": observed(before)}, now=NOW).updates
    assert moved.fields == (
        ("title", "Møte", "Møte – Tema"),
        ("start", "2024-09-17", "2024-09-24"),
        ("end", "2024-09-18", "2024-09-25"),
    )
    # With the whole old event read, every field that differs is named, and only those.
    placed = dataclasses.replace(
        before, content=dataclasses.replace(before.content, location="Teams"), content_hash=""
    )
    seen = dataclasses.replace(observed(before), content=before.content)
    (relocated,) = diff([placed], {"a": seen}, now=NOW).updates
    assert relocated.fields == (("location", "", "Teams"),)
    # Without it (state store, incremental sync), a change outside title and times says so.
    (unknown,) = diff([placed], {"a": observed(before)}, now=NOW).updates
    assert unknown.fields == (("details", "?", "(from the plan)"),)
    timed = DesiredEvent(
        uid="t",
        content=EventContent(
            "x",
            datetime(2024, 9, 17, 10, 0, tzinfo=ZoneInfo(TZ)),
            datetime(2024, 9, 17, 11, 30, tzinfo=ZoneInfo(TZ)),
        ),
    )
    later = dataclasses.replace(
        timed,
        content=dataclasses.replace(
            timed.content,
            start=datetime(2024, 9, 17, 12, 0, tzinfo=ZoneInfo(TZ)),
            end=datetime(2024, 9, 17, 13, 30, tzinfo=ZoneInfo(TZ)),
        ),
        content_hash="",
    )
    (retimed,) = diff([later], {"t": observed(timed)}, now=NOW).updates
    assert retimed.fields == (
        ("start", "2024-09-17 10:00", "2024-09-17 12:00"),
        ("end", "2024-09-17 11:30", "2024-09-17 13:30"),
    )
