"""What the Graph target writes, against the fake Graph server: reminders, deletes, conflicts,
transactionIds, and batches whose replies are partly done. (Every body sent and every reply
the fake gives is also checked against Microsoft's CSDL: see tests/fake_graph.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import cast

import pytest

from syncsvc.domain.errors import ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, EventContent
from syncsvc.targets.base import BulkTarget
from tests.builders import Sleeps
from tests.fake_graph import FakeGraph
from tests.graph_harness import MAILBOX, open_graph, owned
from tests.target_contract import event, timed_event


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.add_mailbox(MAILBOX, calendars=("Årsplan",))
        yield server


def posts(fake: FakeGraph) -> list[dict[str, object]]:
    return [body for method, path, body in fake.writes if method == "POST" and "$" not in path]


# --- reminders --------------------------------------------------------------------------------
def test_reminders_are_off_by_default_for_every_kind_of_event(fake: FakeGraph) -> None:
    t = open_graph(fake)
    t.create(event("r1@test"))  # all-day
    t.create(timed_event("r2@test"))
    cast(BulkTarget, t).create_many([event("r3@test", day=9)])
    for uid in ("r1@test", "r2@test", "r3@test"):
        (stored,) = owned(fake, uid)
        assert stored["isReminderOn"] is False, uid  # the fake's default would be True
    assert not any(t.observe()[uid].drifted for uid in ("r1@test", "r2@test", "r3@test"))


def test_a_calendar_can_ask_for_a_reminder(fake: FakeGraph) -> None:
    t = open_graph(fake, reminder=30)
    t.create(timed_event("rm@test"))
    (stored,) = owned(fake, "rm@test")
    assert (stored["isReminderOn"], stored["reminderMinutesBeforeStart"]) == (True, 30)
    assert not t.observe()["rm@test"].drifted


def test_a_reminder_that_differs_reads_as_edited_and_is_put_back(fake: FakeGraph) -> None:
    t = open_graph(fake)
    made = t.create(event("rb@test"))
    # An event from before this setting (Outlook's default reminder), or changed by hand.
    fake.edit_event(MAILBOX, made.remote_id, isReminderOn=True, reminderMinutesBeforeStart=15)
    seen = t.observe()["rb@test"]
    assert seen.drifted
    assert "events whose reminder is not the calendar's (off): 1; they are rewritten" in (
        t.stats.notes
    )
    t.update(seen, event("rb@test"), sequence=1)
    assert fake.writes[-1][2]["isReminderOn"] is False
    (stored,) = owned(fake, "rb@test")
    assert stored["isReminderOn"] is False
    assert not t.observe()["rb@test"].drifted
    # Changing the setting changes existing events too.
    later = open_graph(fake, reminder=60)
    assert later.observe()["rb@test"].drifted


# --- transactionId ----------------------------------------------------------------------------
def test_each_create_has_its_own_transaction_id(fake: FakeGraph) -> None:
    t = open_graph(fake)
    t.create(event("x1@test"))
    cast(BulkTarget, t).create_many([event("x2@test"), event("x3@test", day=4)])
    ids = [body["transactionId"] for body in posts(fake)]
    batched = [sub["body"]["transactionId"] for subs in fake.batches for sub in subs]
    assert len(set(ids + batched)) == 3


def test_an_event_a_person_deleted_is_created_again_not_handed_back(fake: FakeGraph) -> None:
    # The fake matches a deleted event's transactionId (the undocumented worst case): a
    # transactionId derived from the UID would get the deleted copy back on every run.
    assert fake.transaction_ids_match_deleted
    t = open_graph(fake)
    made = t.create(event("del@test"))
    fake.delete_in_outlook(MAILBOX, made.remote_id)
    assert t.observe() == {}
    again = t.create(event("del@test"))
    assert again.remote_id != made.remote_id
    (stored,) = owned(fake, "del@test")
    assert stored["id"] == again.remote_id
    assert set(open_graph(fake).observe()) == {"del@test"}


def test_a_retried_batch_create_keeps_its_transaction_id(fake: FakeGraph) -> None:
    t = open_graph(fake)
    t.observe()
    fake.fail_next_batch_subrequests(1, status=503)
    cast(BulkTarget, t).create_many([event("k@test")])
    first, second = (subs[0]["body"] for subs in fake.batches)
    assert first["transactionId"] == second["transactionId"]
    assert len(owned(fake, "k@test")) == 1


# --- conflicts --------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [409, 412])
def test_irresolvable_conflicts_are_conflicts(fake: FakeGraph, status: int) -> None:
    t = open_graph(fake)
    made = t.create(event("c@test"))
    fake.conflict_next(1, status=status)
    with pytest.raises(ConflictError, match="ErrorIrresolvableConflict"):
        t.update(made, event("c@test", summary="Ny"), sequence=1)
    fake.conflict_next(1, status=status)
    with pytest.raises(ConflictError):
        t.delete(t.observe()["c@test"])
    fake.conflict_next(1, status=status)
    result = cast(BulkTarget, t).delete_many([t.observe()["c@test"]])
    assert isinstance(result["c@test"], ConflictError)
    assert len(owned(fake, "c@test")) == 1  # nothing was deleted


# --- deletes ----------------------------------------------------------------------------------
def test_deletes_go_to_deleted_items_by_default(fake: FakeGraph) -> None:
    t = open_graph(fake)
    cast(BulkTarget, t).create_many([event(f"d{n}@test", day=n + 1) for n in range(3)])
    seen = t.observe()
    t.delete(seen["d0@test"])
    cast(BulkTarget, t).delete_many([seen["d1@test"], seen["d2@test"]])
    assert fake.events(MAILBOX) == []
    assert len(fake.deleted_items(MAILBOX)) == 3  # where the person can still find them


def test_permanent_deletes_purge(fake: FakeGraph) -> None:
    t = open_graph(fake, deletes="permanent")
    cast(BulkTarget, t).create_many([event(f"p{n}@test", day=n + 1) for n in range(3)])
    seen = t.observe()
    t.delete(seen["p0@test"])
    result = cast(BulkTarget, t).delete_many([seen["p1@test"], seen["p2@test"]])
    assert result == {"p1@test": None, "p2@test": None}
    assert fake.events(MAILBOX) == []
    assert fake.deleted_items(MAILBOX) == []
    purges = [p for m, p, _ in fake.writes if m == "POST" and p.endswith("/permanentDelete")]
    assert len(purges) == 3
    t.delete(seen["p0@test"])  # already gone: counts as deleted


# --- batches whose reply is partly done -------------------------------------------------------
@pytest.mark.parametrize("outer", [200, 424, 429])
def test_batch_responses_are_read_whatever_the_outer_status(fake: FakeGraph, outer: int) -> None:
    sleeps = Sleeps()
    t = open_graph(fake, sleeps=sleeps)
    t.observe()
    fake.fail_next_batch_subrequests(2, status=429, retry_after="0.249", outer=outer)
    events = [event(f"o{n}@test", day=n + 1) for n in range(5)]
    results = cast(BulkTarget, t).create_many(events)
    assert all(not isinstance(r, TargetError) for r in results.values()), results
    assert [len(ids) for ids in fake.batches] == [5, 2]  # only the throttled ones again
    for e in events:
        assert len(owned(fake, e.uid)) == 1, e.uid  # nothing created twice
    assert sleeps == [0.249]


def test_424_sub_requests_are_retried_too(fake: FakeGraph) -> None:
    t = open_graph(fake)
    t.observe()
    fake.fail_next_batch_subrequests(1, status=424)
    results = cast(BulkTarget, t).create_many([event("f1@test"), event("f2@test", day=3)])
    assert all(not isinstance(r, TargetError) for r in results.values())
    assert [len(ids) for ids in fake.batches] == [2, 1]


def test_a_throttled_batch_without_responses_is_sent_again_whole(fake: FakeGraph) -> None:
    sleeps = Sleeps()
    t = open_graph(fake, sleeps=sleeps)
    t.observe()
    fake.throttle_next(1, retry_after="2.128")  # the $batch POST itself: no responses
    results = cast(BulkTarget, t).create_many([event("w1@test"), event("w2@test", day=3)])
    assert all(not isinstance(r, TargetError) for r in results.values())
    assert sleeps == [2.128]
    assert [len(ids) for ids in fake.batches] == [2]


def test_a_sub_request_that_keeps_failing_fails_alone(fake: FakeGraph) -> None:
    t = open_graph(fake)
    t.observe()
    fake.fail_next_batch_subrequests(1, status=400)
    results = cast(BulkTarget, t).create_many([event("e1@test"), event("e2@test", day=3)])
    assert isinstance(results["e1@test"], TargetError)
    assert "HTTP 400" in str(results["e1@test"])
    assert not isinstance(results["e2@test"], TargetError)


def test_decimal_retry_after_is_waited_as_given(fake: FakeGraph) -> None:
    sleeps = Sleeps()
    t = open_graph(fake, sleeps=sleeps)
    fake.throttle_next(2, retry_after="2.128")
    assert t.observe() == {}
    assert sleeps == [2.128, 2.128]


def test_the_one_event_create_stays_one_after_a_create_in_a_named_calendar(
    fake: FakeGraph,
) -> None:
    t = open_graph(fake, calendar="Årsplan", reminder=0)
    made = t.create(
        DesiredEvent("nc@test", EventContent("Skolestart", date(2024, 8, 19), date(2024, 8, 20)))
    )
    (stored,) = owned(fake, "nc@test", "Årsplan")
    assert stored["id"] == made.remote_id
    assert (stored["isReminderOn"], stored["reminderMinutesBeforeStart"]) == (True, 0)


# --- the setting ------------------------------------------------------------------------------
def test_person_calendars_carry_the_reminder_setting() -> None:
    from syncsvc.domain.plan import Person, Plan
    from syncsvc.engine.calendars import expand_calendars
    from syncsvc.settings import GraphCalendar, PersonCalendars, Settings

    settings = Settings(person_calendars=PersonCalendars(enabled=True, target="graph", reminder=45))
    plan = Plan("Årsplan", 2024, (), people=(Person("Kari Nordmann", "kari@skole.example"),))
    (calendar,) = expand_calendars(settings, plan)
    assert isinstance(calendar, GraphCalendar)
    assert (calendar.mailbox, calendar.reminder) == ("kari@skole.example", 45)


@pytest.mark.parametrize("value", ['"soon"', "-1", "20161", "true", '"15"'])
def test_a_bad_reminder_is_one_clear_config_error(tmp_path: Path, value: str) -> None:
    from syncsvc.domain.errors import ConfigError
    from syncsvc.settings import load_settings

    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f'[[calendars]]\nname = "k"\ntarget = "graph"\nmailbox = "k@x.no"\nreminder = {value}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r'reminder must be "off" or minutes') as bad:
        load_settings(config)
    assert str(bad.value.where) == f"{config}:5"  # the file and line of the setting
