"""Whole runs (engine + Graph target) against the fake Graph server: what staff would see
after each run when reminders, deletes in Outlook, partial batches and delete modes meet the
engine's diff. A fake that follows the documented API, not a real tenant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncsvc.domain.changes import CalendarReport, ChangeKind, Outcome
from syncsvc.domain.plan import Occurrence, Plan, PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.settings import Settings
from syncsvc.state.memory import MemoryState
from syncsvc.targets.graph.config import GraphCalendar
from tests import builders
from tests.fake_graph import FakeGraph
from tests.graph_harness import graph_settings

MAILBOX = "ola.nordmann@tromsfylke.example"
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.add_mailbox(MAILBOX)
        yield server


def settings(fake: FakeGraph, tmp_path: Path, **calendar: Any) -> Settings:
    graph = {k: calendar.pop(k) for k in ("deletes",) if k in calendar}
    return builders.settings(
        tmp_path,
        GraphCalendar(target="graph", name="ola", mailbox=MAILBOX, selector="org", **calendar),
        graph=graph_settings(fake, **graph),
    )


def plan(days: int) -> Plan:
    first = date(2024, 3, 4)
    items = tuple(
        PlanItem(
            key=f"var-2024/dag-{n}",
            title=f"Fagdag {n}",
            occurrences=(Occurrence(first + timedelta(n), first + timedelta(n + 1)),),
        )
        for n in range(days)
    )
    return Plan(title="Årsplan 2024", year=2024, items=items)


def run(config: Settings, state: MemoryState, days: int) -> CalendarReport:
    (cal,) = run_sync(config, plan=plan(days), state=state, now=NOW).calendars
    assert cal.outcome is Outcome.OK, cal.error
    return cal


def test_reminders_from_outlooks_default_are_turned_off_once(
    fake: FakeGraph, tmp_path: Path
) -> None:
    state, config = MemoryState(), settings(fake, tmp_path)
    run(config, state, 6)
    assert {e["isReminderOn"] for e in fake.events(MAILBOX)} == {False}
    # Events written before this setting existed: Outlook's 15-minute reminder on each.
    for e in fake.events(MAILBOX):
        fake.edit_event(MAILBOX, e["id"], isReminderOn=True, reminderMinutesBeforeStart=15)
    second = run(config, state, 6)
    assert second.count(ChangeKind.UPDATE) == 6
    assert {e["isReminderOn"] for e in fake.events(MAILBOX)} == {False}
    third = run(config, state, 6)
    assert third.count(ChangeKind.UPDATE) == 0
    assert third.count(ChangeKind.UNCHANGED) == 6


def test_a_reminder_setting_reaches_existing_events(fake: FakeGraph, tmp_path: Path) -> None:
    state = MemoryState()
    run(settings(fake, tmp_path), state, 3)
    later = settings(fake, tmp_path, reminder=1440)  # a day before
    assert run(later, state, 3).count(ChangeKind.UPDATE) == 3
    assert {(e["isReminderOn"], e["reminderMinutesBeforeStart"]) for e in fake.events(MAILBOX)} == {
        (True, 1440)
    }


def test_an_event_deleted_in_outlook_comes_back_once(fake: FakeGraph, tmp_path: Path) -> None:
    state, config = MemoryState(), settings(fake, tmp_path)
    run(config, state, 4)
    victim = next(e for e in fake.events(MAILBOX) if e["subject"] == "Fagdag 2")
    fake.delete_in_outlook(MAILBOX, victim["id"])
    again = run(config, state, 4)
    assert again.count(ChangeKind.CREATE) == 1
    subjects = sorted(e["subject"] for e in fake.events(MAILBOX))
    assert subjects == [f"Fagdag {n}" for n in range(4)]
    assert run(config, state, 4).count(ChangeKind.CREATE) == 0  # and stays back


def test_a_partly_throttled_batch_still_writes_everything_once(
    fake: FakeGraph, tmp_path: Path
) -> None:
    state, config = MemoryState(), settings(fake, tmp_path)
    fake.fail_next_batch_subrequests(3, status=429, retry_after="0.5", outer=424)
    first = run(config, state, 8)
    assert first.count(ChangeKind.CREATE) == 8
    assert all(c.applied for c in first.changes)
    assert sorted(e["subject"] for e in fake.events(MAILBOX)) == [f"Fagdag {n}" for n in range(8)]


@pytest.mark.parametrize(("mode", "kept"), [("deleted-items", 2), ("permanent", 0)])
def test_what_a_delete_leaves_behind(fake: FakeGraph, tmp_path: Path, mode: str, kept: int) -> None:
    state, config = MemoryState(), settings(fake, tmp_path, deletes=mode)
    run(config, state, 10)
    removed = run(config, state, 8)
    assert removed.count(ChangeKind.DELETE) == 2
    assert len(fake.events(MAILBOX)) == 8
    assert len(fake.deleted_items(MAILBOX)) == kept
