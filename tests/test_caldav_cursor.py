"""The CalDAV target's memory between runs and its decision how to read (pure)."""

from __future__ import annotations

from syncsvc.targets.caldav.cursor import (
    VERIFY_EVERY,
    Cursor,
    decode,
    etags_unreliable,
    plan_read,
)


def test_round_trip_and_what_older_versions_stored() -> None:
    cursor = Cursor(token="t1", identity="resource-id urn:x", runs_since_full=3, weak_etags=True)
    assert decode(cursor.encode()) == cursor
    assert decode("http://radicale.org/ns/sync/abc") == Cursor(
        token="http://radicale.org/ns/sync/abc"
    )
    assert decode(None) == Cursor()
    assert Cursor().encode() is None  # nothing to remember: the state keeps no token
    assert decode("caldav-cursor:{not json") == Cursor()  # unreadable: start over


def test_token_still_current_means_nothing_to_read() -> None:
    plan = plan_read(Cursor(token="t1", identity="rid 1"), "rid 1", "t1")
    assert plan.unchanged
    assert plan.cursor.runs_since_full == 1


def test_a_new_identity_means_a_full_listing_with_a_note() -> None:
    plan = plan_read(Cursor(token="t1", identity="rid 1"), "rid 2", "t9")
    assert (plan.start, plan.unchanged) == (None, False)
    assert plan.note is not None
    assert "created again" in plan.note
    assert plan.cursor.identity == "rid 2"


def test_the_token_path_is_checked_by_a_full_listing_every_so_often() -> None:
    due = Cursor(token="t1", runs_since_full=VERIFY_EVERY)
    plan = plan_read(due, None, "t1")  # the token says "unchanged"; it is checked anyway
    assert (plan.start, plan.unchanged) == (None, False)
    assert plan.cursor.after_full_listing("t2").runs_since_full == 0


def test_a_moved_token_reads_from_ours() -> None:
    plan = plan_read(Cursor(token="t1"), None, "t2")
    assert (plan.start, plan.unchanged, plan.note) == ("t1", False, None)
    first = plan_read(Cursor(), "rid 1", "t0")  # first run: identity learnt, full listing
    assert (first.start, first.cursor.identity, first.note) == (None, "rid 1", None)


def test_etags_that_cannot_tell_objects_apart() -> None:
    assert not etags_unreliable([("/a", '"1"'), ("/b", '"2"'), ("/a", '"1"')])
    assert etags_unreliable([("/a", '"0"'), ("/b", '"0"')])
    assert etags_unreliable([("/a", 'W/"1"')])
    assert not etags_unreliable([("/a", None), ("/b", None)])
