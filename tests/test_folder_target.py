from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest

from syncsvc.domain.errors import ConflictError
from syncsvc.domain.events import DesiredEvent, EventContent
from syncsvc.pipeline.ical import event_to_ical
from syncsvc.targets.folder.target import STALE_TEMP_SECONDS, FolderTarget, file_name
from syncsvc.targets.icsfile.target import IcsFileTarget
from tests.builders import STAMP

FOREIGN = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//someone//EN\r\nBEGIN:VEVENT\r\nUID:foreign-1\r\n"
    b"DTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240319\r\nSUMMARY:Privat\r\nEND:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)


def event(
    uid: str = "varen-2024-1-abc@test", day: int = 19, summary: str = "Tirsdagsmøte"
) -> DesiredEvent:
    return DesiredEvent(
        uid=uid,
        content=EventContent(summary, date(2024, 3, day), date(2024, 3, day + 1)),
        marker="v2.test",
    )


def test_file_names_follow_the_uid_when_safe() -> None:
    assert file_name("varen-2024-1-abc@test") == "varen-2024-1-abc@test.ics"
    unsafe = file_name("../../etc/passwd")
    assert "/" not in unsafe
    assert unsafe.endswith(".ics")
    assert file_name(".hidden") != ".hidden.ics"


def test_create_update_delete_leave_foreign_files_alone(tmp_path: Path) -> None:
    (tmp_path / "privat.ics").parent.mkdir(exist_ok=True)
    (tmp_path / "privat.ics").write_bytes(FOREIGN)
    target = FolderTarget("org", tmp_path)
    assert target.observe() == {}
    made = target.create(event())
    assert (tmp_path / "displayname").read_text() == "org"
    assert set(target.observe()) == {made.uid}
    updated = target.update(target.observe()[made.uid], event(day=20), 1)
    assert updated.sequence == 1
    assert b"SEQUENCE:1" in (tmp_path / made.remote_id).read_bytes()
    target.delete(target.observe()[made.uid])
    assert not (tmp_path / made.remote_id).exists()
    assert (tmp_path / "privat.ics").read_bytes() == FOREIGN
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_create_never_overwrites_and_stale_etags_conflict(tmp_path: Path) -> None:
    target = FolderTarget("org", tmp_path)
    first = target.create(event())
    with pytest.raises(ConflictError):
        target.create(event(summary="Annet"))
    (tmp_path / first.remote_id).write_bytes(
        event_to_ical(event(summary="Endret for hånd"), stamp=STAMP)
    )
    with pytest.raises(ConflictError):
        target.update(first, event(day=21), 1)
    with pytest.raises(ConflictError):
        target.delete(first)
    fresh = target.observe_one(first.uid)
    assert fresh is not None
    assert fresh.drifted is False  # hand-rendered with our hash of its own content
    target.delete(fresh)
    target.delete(fresh)  # already gone counts as deleted
    assert target.observe_one(first.uid) is None


def test_ics_file_target_keeps_every_owned_event_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "public" / "all.ics"
    target = IcsFileTarget("all", path)
    assert target.observe() == {}
    target.create(event("a@t"))
    target.create(event("b@t", day=20))
    target.close()
    again = IcsFileTarget("all", path)
    seen = again.observe()
    assert set(seen) == {"a@t", "b@t"}
    again.update(seen["a@t"], event("a@t", day=25), 1)
    again.delete(seen["b@t"])
    again.close()
    final = IcsFileTarget("all", path).observe()
    assert set(final) == {"a@t"}
    assert final["a@t"].start == date(2024, 3, 25)


def test_ics_file_target_refuses_to_clobber_a_concurrent_change(tmp_path: Path) -> None:
    path = tmp_path / "all.ics"
    target = IcsFileTarget("all", path)
    target.observe()
    target.create(event("a@t"))
    path.write_bytes(FOREIGN)
    with pytest.raises(ConflictError):
        target.close()
    assert path.read_bytes() == FOREIGN


def test_stale_temporary_files_of_crashed_writes_are_cleared(tmp_path: Path) -> None:
    (tmp_path / "cal").mkdir()
    stale = tmp_path / "cal" / ".syncsvc-abc.tmp"
    fresh = tmp_path / "cal" / ".syncsvc-def.tmp"
    foreign = tmp_path / "cal" / ".other.tmp"
    for path in (stale, fresh, foreign):
        path.write_bytes(b"partial")
    old = time.time() - STALE_TEMP_SECONDS - 10
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    FolderTarget("cal", tmp_path / "cal").observe()
    assert not stale.exists()
    assert fresh.exists()  # might belong to a write in progress
    assert foreign.exists()  # not ours
