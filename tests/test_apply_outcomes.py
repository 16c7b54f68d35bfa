"""The apply step's report: each change applied, failed (with its reason) or not attempted,
from what the target confirmed; the calendar's outcome from its data.

Real folder and single-file targets, with one behaviour changed per test (a write that fails,
a reply lost after the write happened, a failing bookkeeping step at close, a file that cannot
be written at commit). What the folder holds afterwards is read back from disk.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syncsvc.domain.changes import ChangeKind, ChangeStatus, Outcome, RunReport
from syncsvc.domain.errors import AuthError, ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.engine.run import run_sync
from syncsvc.present.report import format_report
from syncsvc.settings import FolderCalendar, IcsFileCalendar, Settings
from syncsvc.state.memory import MemoryState
from syncsvc.targets import registry
from syncsvc.targets.folder.target import FolderTarget
from tests import builders
from tests.reliability import folder_objects, uids_in
from tests.test_sync_engine import NOW, seed_plan


def folder_settings(tmp_path: Path) -> Settings:
    return builders.settings(
        tmp_path, FolderCalendar(name="org", target="folder", path="calendars/org")
    )


@pytest.fixture
def swap(monkeypatch: pytest.MonkeyPatch) -> Callable[[type[Any]], None]:
    """Open the calendar "org" with another target class."""
    original = registry.open_target

    def use(cls: type[Any]) -> None:
        def opener(calendar: Any, s: Settings, state: Any) -> Any:
            if calendar.name != "org":
                return original(calendar, s, state)
            return cls(calendar.name, s.data_path(calendar.path))

        monkeypatch.setattr(registry, "open_target", opener)

    return use


def run(settings: Settings, **kw: Any) -> RunReport:
    kw.setdefault("now", NOW)
    kw.setdefault("plan", seed_plan())
    return run_sync(settings, **kw)


def on_disk(tmp_path: Path) -> set[str]:
    objects = folder_objects(tmp_path / "calendars" / "org")
    return {uid for data in objects.values() for uid in uids_in(data)}


class _FailsFifthCreate(FolderTarget):
    """The server refuses the fifth event (and would refuse no other)."""

    creates = 0

    def create(self, event: DesiredEvent) -> ObservedEvent:
        type(self).creates += 1
        if type(self).creates == 5:
            raise TargetError("rejected PUT for this event: HTTP 415", calendar=self.name)
        return super().create(event)


def test_a_write_failing_part_way_keeps_what_landed_and_names_the_rest(
    tmp_path: Path, swap: Callable[[type[Any]], None]
) -> None:
    _FailsFifthCreate.creates = 0
    swap(_FailsFifthCreate)
    settings = folder_settings(tmp_path)
    report = run(settings)
    org = report.calendars[0]
    creates = [c for c in org.changes if c.kind is ChangeKind.CREATE]
    assert org.outcome is Outcome.FAILED
    applied = {c.uid for c in creates if c.status is ChangeStatus.APPLIED}
    assert applied == on_disk(tmp_path)
    assert len(applied) == 4
    failed = [c for c in creates if c.status is ChangeStatus.FAILED]
    assert len(failed) == 1
    assert failed[0].error
    assert "HTTP 415" in failed[0].error
    assert not failed[0].maybe_applied  # re-read: it is not there
    rest = [c for c in creates if c.status is ChangeStatus.NOT_ATTEMPTED]
    assert len(rest) == len(creates) - 5
    tally = org.tally
    assert (tally.applied.create, tally.failed.create, tally.not_attempted.create) == (
        4,
        1,
        len(creates) - 5,
    )
    assert org.error
    assert "HTTP 415" in org.error
    table = format_report(report, show_changes=False)
    assert f"4/{len(creates)}" in table  # applied of planned, not the plan's count alone
    listing = format_report(report, show_changes=True)
    assert listing.count("(not attempted)") == len(creates) - 5
    assert listing.count("(failed: ") == 1
    # The next run (the server takes every event again) writes exactly what is missing.
    _FailsFifthCreate.creates = -10_000
    again = run(settings, state=MemoryState())
    assert again.calendars[0].outcome is Outcome.OK
    assert again.calendars[0].tally.applied.create == len(creates) - 4


class _LosesFirstReply(FolderTarget):
    """The first create is written, but the caller never hears back (a lost reply)."""

    lost = False

    def create(self, event: DesiredEvent) -> ObservedEvent:
        written = super().create(event)
        if not type(self).lost:
            type(self).lost = True
            raise TargetError("cannot reach the server: timed out", calendar=self.name)
        return written


def test_a_write_whose_reply_was_lost_is_applied_when_a_re_read_finds_it(
    tmp_path: Path, swap: Callable[[type[Any]], None]
) -> None:
    _LosesFirstReply.lost = False
    swap(_LosesFirstReply)
    report = run(folder_settings(tmp_path))
    org = report.calendars[0]
    first = next(c for c in org.changes if c.kind is ChangeKind.CREATE)
    assert first.status is ChangeStatus.APPLIED
    assert first.uid in on_disk(tmp_path)
    # The calendar still stopped at the failure: what came after was not attempted.
    assert org.outcome is Outcome.FAILED
    applied = {c.uid for c in org.changes if c.status is ChangeStatus.APPLIED}
    assert applied == on_disk(tmp_path) == {first.uid}


class _NoAnswerNoReread(FolderTarget):
    """The third create is written, then the server vanishes (the re-read fails too)."""

    creates = 0

    def create(self, event: DesiredEvent) -> ObservedEvent:
        type(self).creates += 1
        written = super().create(event)
        if type(self).creates == 3:
            raise TargetError("cannot reach the server: connection failed", calendar=self.name)
        return written

    def observe_one(self, uid: str) -> ObservedEvent | None:
        raise TargetError("cannot reach the server: connection failed", calendar=self.name)


def test_an_unconfirmed_write_is_failed_and_marked_maybe_applied(
    tmp_path: Path, swap: Callable[[type[Any]], None]
) -> None:
    _NoAnswerNoReread.creates = 0
    swap(_NoAnswerNoReread)
    org = run(folder_settings(tmp_path)).calendars[0]
    third = [c for c in org.changes if c.kind is ChangeKind.CREATE][2]
    assert third.status is ChangeStatus.FAILED
    assert third.maybe_applied
    assert third.error
    assert "connection failed" in third.error
    assert org.tally.applied.create == 2
    assert third.uid in on_disk(tmp_path)  # it did land: "maybe" was the honest word


class _AuthFails(FolderTarget):
    def create(self, event: DesiredEvent) -> ObservedEvent:
        raise AuthError("refused access (HTTP 401)", calendar=self.name)

    def observe_one(self, uid: str) -> ObservedEvent | None:
        raise AssertionError("no re-read after a refusal of our credentials")


def test_a_refused_login_fails_the_first_write_without_a_re_read(
    tmp_path: Path, swap: Callable[[type[Any]], None]
) -> None:
    swap(_AuthFails)
    org = run(folder_settings(tmp_path)).calendars[0]
    statuses = [c.status for c in org.changes if c.kind is ChangeKind.CREATE]
    assert statuses[0] is ChangeStatus.FAILED
    assert set(statuses[1:]) == {ChangeStatus.NOT_ATTEMPTED}
    assert org.tally.applied.total == 0


class _BookkeepingFails(FolderTarget):
    """Every write lands; the closing request (a sync token, a session) fails."""

    def close(self) -> None:
        super().close()
        raise TargetError("closing sync-collection: HTTP 500 (gave up after 4 tries)")


def test_all_changes_applied_and_bookkeeping_failed_is_ok_with_a_note(
    tmp_path: Path, swap: Callable[[type[Any]], None]
) -> None:
    swap(_BookkeepingFails)
    report = run(folder_settings(tmp_path))
    org = report.calendars[0]
    assert org.outcome is Outcome.OK
    assert org.error is None
    assert report.outcome == "ok"
    assert int(report.exit_code) == 0
    assert any("closing sync-collection" in n for n in org.notes), org.notes
    assert {c.uid for c in org.changes if c.status is ChangeStatus.APPLIED} == on_disk(tmp_path)
    assert "closing sync-collection" in format_report(report, show_changes=False)


def test_a_single_file_that_cannot_be_written_fails_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncsvc.targets.icsfile import target as icsfile

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(icsfile, "write_atomic", disk_full)
    settings = builders.settings(
        tmp_path, IcsFileCalendar(name="org", target="ics-file", path="export/org.ics")
    )
    org = run(settings).calendars[0]
    assert not (tmp_path / "export" / "org.ics").exists()
    changes = [c for c in org.changes if c.kind is not ChangeKind.UNCHANGED]
    assert changes
    assert {c.status for c in changes} == {ChangeStatus.FAILED}
    assert all(c.error and "No space left" in c.error for c in changes)
    assert org.outcome is Outcome.FAILED
    assert org.tally.applied.total == 0


class _AlwaysRacing(FolderTarget):
    """Someone edits the event just before each of our updates: the conflict never resolves."""

    def update(self, old: ObservedEvent, event: DesiredEvent, sequence: int) -> ObservedEvent:
        path = self.path / old.remote_id
        path.write_bytes(path.read_bytes().replace(b"SUMMARY:", b"SUMMARY:x"))
        return super().update(old, event, sequence)


def test_a_conflict_that_does_not_resolve_fails_the_change_and_names_the_event(
    tmp_path: Path, swap: Callable[[type[Any]], None]
) -> None:
    import dataclasses

    settings = folder_settings(tmp_path)
    state = MemoryState()
    assert run(settings, state=state).outcome == "ok"
    swap(_AlwaysRacing)
    plan = seed_plan()
    items = tuple(
        dataclasses.replace(i, notes="Ny merknad") if i.key == "varen-2024/sommerles" else i
        for i in plan.items
    )
    org = run(settings, state=state, plan=dataclasses.replace(plan, items=items)).calendars[0]
    update = next(c for c in org.changes if c.kind is ChangeKind.UPDATE)
    assert update.status is ChangeStatus.FAILED
    assert update.error
    assert "changed" in update.error
    assert org.outcome is Outcome.FAILED
    assert org.error
    assert update.summary in org.error
    assert org.conflicts == 1
    _ = ConflictError  # the error type the target raised each time
