"""The engine writes creates and deletes in batches on targets that can (Graph's `$batch`),
and falls back to one-by-one writes for conflicts. Runs against the fake Graph server (a fake
that follows the documented API, not a real tenant)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncsvc.domain.changes import ChangeKind, Outcome
from syncsvc.domain.errors import ConflictError
from syncsvc.domain.events import ObservedEvent
from syncsvc.domain.plan import Occurrence, Plan, PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.settings import GraphCalendar, Settings
from syncsvc.state.memory import MemoryState
from syncsvc.targets.graph.target import GraphTarget
from tests import builders
from tests.fake_graph import FakeGraph
from tests.graph_harness import graph_settings

MAILBOX = "trine.mellem@tromsfylke.example"
BATCH = ("POST", "/v1.0/$batch")
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.add_mailbox(MAILBOX)
        yield server


def settings(fake: FakeGraph, tmp_path: Path) -> Settings:
    return builders.settings(
        tmp_path,
        GraphCalendar(target="graph", name="trine", mailbox=MAILBOX, selector="org"),
        graph=graph_settings(fake),
    )


def plan(days: int) -> Plan:
    first = date(2024, 2, 1)
    items = tuple(
        PlanItem(
            key=f"varen-2024/mote-{n}",
            title=f"Møte {n}",
            occurrences=(Occurrence(first + timedelta(n), first + timedelta(n + 1)),),
        )
        for n in range(days)
    )
    return Plan(title="Årsplan 2024", year=2024, items=items)


def test_creates_and_deletes_go_in_batches(fake: FakeGraph, tmp_path: Path) -> None:
    state = MemoryState()
    config = settings(fake, tmp_path)
    report = run_sync(config, plan=plan(45), state=state, now=NOW)
    (cal,) = report.calendars
    assert cal.outcome is Outcome.OK, cal.error
    assert cal.count(ChangeKind.CREATE) == 45
    assert all(c.applied for c in cal.changes)
    assert len(fake.events(MAILBOX)) == 45
    assert fake.requests.count(BATCH) == 3  # 20 + 20 + 5
    assert len([w for w in fake.writes if w[0] == "POST"]) == 45

    fake.requests.clear()
    report = run_sync(config, plan=plan(40), state=state, now=NOW)
    (cal,) = report.calendars
    assert cal.count(ChangeKind.DELETE) == 5
    assert all(c.applied for c in cal.changes if c.kind is ChangeKind.DELETE)
    assert len(fake.events(MAILBOX)) == 40
    assert fake.requests.count(BATCH) == 1


def test_a_conflict_inside_a_batch_is_retried_alone(
    fake: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = MemoryState()
    config = settings(fake, tmp_path)
    run_sync(config, plan=plan(12), state=state, now=NOW)
    # Someone edits two of the events the next run deletes, after syncsvc observed them and
    # before its batch: the batched deletes meet 412 and are re-read and deleted one by one.
    batches: list[int] = []
    original = GraphTarget.delete_many

    def edit_then_delete(self: GraphTarget, olds: Sequence[ObservedEvent]) -> Any:
        for event in fake.events(MAILBOX):
            if event["subject"] in {"Møte 10", "Møte 11"}:
                fake.edit_event(MAILBOX, event["id"], subject=event["subject"] + " (endret)")
        results = original(self, olds)
        batches.append(sum(isinstance(r, ConflictError) for r in results.values()))
        return results

    monkeypatch.setattr(GraphTarget, "delete_many", edit_then_delete)
    report = run_sync(config, plan=plan(10), state=state, now=NOW)
    (cal,) = report.calendars
    assert batches == [2]  # both deletes in the batch met a conflict
    assert cal.outcome is Outcome.OK, cal.error
    assert cal.count(ChangeKind.DELETE) == 2
    assert all(c.applied for c in cal.changes if c.kind is ChangeKind.DELETE)
    assert sorted(e["subject"] for e in fake.events(MAILBOX)) == sorted(
        f"Møte {n}" for n in range(10)
    )
