"""Per-change statuses on a batching target: Graph's `$batch` answers each sub-request on its
own, so some creates of one batch land and others do not. The report must list exactly the
ones the fake Graph holds afterwards (a fake that follows the documented API)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncsvc.domain.changes import ChangeKind, ChangeStatus, Outcome
from syncsvc.engine.run import run_sync
from syncsvc.state.memory import MemoryState
from syncsvc.targets.graph.event import UID_PROPERTY
from tests.fake_graph import FakeGraph
from tests.test_sync_bulk import MAILBOX, NOW, plan, settings


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.add_mailbox(MAILBOX)
        yield server


def held(fake: FakeGraph) -> set[str]:
    return {
        p["value"]
        for e in fake.events(MAILBOX)
        for p in e.get("singleValueExtendedProperties", [])
        if p["id"] == UID_PROPERTY
    }


def test_batched_creates_that_fail_alone_are_failed_alone(fake: FakeGraph, tmp_path: Path) -> None:
    config = settings(fake, tmp_path)
    state = MemoryState()
    fake.fail_next_batch_subrequests(3, status=400)
    report = run_sync(config, plan=plan(30), state=state, now=NOW)
    (cal,) = report.calendars
    creates = [c for c in cal.changes if c.kind is ChangeKind.CREATE]
    applied = {c.uid for c in creates if c.status is ChangeStatus.APPLIED}
    failed = [c for c in creates if c.status is ChangeStatus.FAILED]
    assert applied == held(fake)
    assert len(failed) == 3
    assert all(c.error and "400" in c.error for c in failed)
    assert not any(c.maybe_applied for c in failed)  # the server answered: not there
    assert len(applied) == len(creates) - 3
    assert cal.outcome is Outcome.FAILED
    assert cal.tally.failed.create == 3
    # The next run writes exactly the three.
    again = run_sync(config, plan=plan(30), state=state, now=NOW).calendars[0]
    assert again.outcome is Outcome.OK, again.error
    assert again.tally.applied.create == 3
    assert len(held(fake)) == len(creates)
