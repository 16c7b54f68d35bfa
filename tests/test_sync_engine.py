from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest

from syncsvc.domain.changes import ChangeKind, Outcome
from syncsvc.domain.errors import ExitCode
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.domain.plan import Plan
from syncsvc.engine import run as sync
from syncsvc.settings import Settings
from syncsvc.state.memory import MemoryState
from syncsvc.targets import registry
from syncsvc.targets.folder.target import FolderTarget
from tests.test_route import ROOT, seed_plan, with_first_tuesday_moved

NOW = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)  # before every seed event
FOREIGN = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//someone//EN\r\nBEGIN:VEVENT\r\nUID:foreign-1\r\n"
    b"DTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240319\r\nSUMMARY:Privat\r\nEND:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)


def make_settings(tmp_path: Path, **extra: Any) -> Settings:
    data: dict[str, Any] = {
        "plan": {"overrides": str(ROOT / "config" / "overrides.toml")},
        "sync": {"data_dir": str(tmp_path)},
        "calendars": [
            {"name": "org", "target": "folder", "path": "calendars/org"},
            {
                "name": "hva-skjer",
                "target": "folder",
                "selector": "public",
                "audience": "public",
                "path": "calendars/hva-skjer",
            },
        ],
        "person_calendars": {"enabled": True},
        "feed": {"calendar": "hva-skjer", "path": "public/hva-skjer.ics", "title": "Hva skjer"},
    }
    data.update(extra)
    return Settings(**data)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run(settings: Settings, plan: Plan | None = None, **kw: Any) -> Any:
    kw.setdefault("now", NOW)
    return sync.run_sync(settings, plan=plan or seed_plan(), **kw)


def without_items(plan: Plan, keep: float) -> Plan:
    dated = [i for i in plan.items if i.occurrences]
    occurrences = sum(len(i.occurrences) for i in dated)
    kept, count = [], 0
    for item in dated:
        if count + len(item.occurrences) <= occurrences * keep:
            kept.append(item)
            count += len(item.occurrences)
    return dataclasses.replace(plan, items=tuple(kept))


def test_first_run_creates_and_an_unchanged_second_run_writes_nothing(tmp_path: Path) -> None:
    settings, state = make_settings(tmp_path), MemoryState()
    first = run(settings, state=state)
    assert first.outcome == "ok"
    org = next(c for c in first.calendars if c.name == "org")
    assert org.count(ChangeKind.CREATE) == sum(len(i.occurrences) for i in seed_plan().items)
    assert all(c.applied for c in org.changes if c.kind is ChangeKind.CREATE)
    assert (tmp_path / "public" / "hva-skjer.ics").exists()
    assert {c.name for c in first.calendars} >= {"person-trine-mellem", "person-ellen-larsen"}
    before = snapshot(tmp_path)
    second = run(settings, state=state, now=datetime(2024, 1, 2, tzinfo=UTC))
    assert all(c.count(ChangeKind.UNCHANGED) == len(c.changes) for c in second.calendars)
    assert snapshot(tmp_path) == before


def test_moved_date_is_one_update_with_the_same_uid_and_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    run(settings)
    plan = seed_plan()
    files_before = set((tmp_path / "calendars" / "org").iterdir())
    report = run(settings, with_first_tuesday_moved(plan))
    org = next(c for c in report.calendars if c.name == "org")
    updates = [c for c in org.changes if c.kind is ChangeKind.UPDATE]
    assert len(updates) == 1
    assert updates[0].reason == "date moved"
    assert org.count(ChangeKind.CREATE) == org.count(ChangeKind.DELETE) == 0
    assert set((tmp_path / "calendars" / "org").iterdir()) == files_before
    data = next(p for p in files_before if updates[0].uid in p.name).read_bytes()
    assert b"DTSTART;TZID=Europe/Oslo:20240827T100000" in data
    assert b"SEQUENCE:1" in data


def test_foreign_file_survives_create_update_delete_runs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    org_dir = tmp_path / "calendars" / "org"
    org_dir.mkdir(parents=True)
    (org_dir / "privat.ics").write_bytes(FOREIGN)
    run(settings)  # creates
    plan = seed_plan()
    renamed = tuple(dataclasses.replace(i, notes=i.notes + " (endret)") for i in plan.items)
    run(settings, dataclasses.replace(plan, items=renamed))  # updates
    run(settings, without_items(plan, 0.8))  # deletes (below the guard threshold)
    assert (org_dir / "privat.ics").read_bytes() == FOREIGN


def test_guard_refuses_a_half_plan_and_an_empty_plan_unless_forced(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    run(settings)
    before = snapshot(tmp_path)
    half = run(settings, without_items(seed_plan(), 0.5))
    assert half.outcome == "refused"
    assert half.exit_code is ExitCode.GUARD
    org = next(c for c in half.calendars if c.name == "org")
    assert org.outcome is Outcome.REFUSED
    assert org.error is not None
    assert "of 18 owned events" in org.error
    others = [c for c in half.calendars if c.error is None]
    assert others
    assert all(c.outcome is Outcome.REFUSED for c in others)
    assert all(any("run refused by guard on" in n for n in c.notes) for c in others)
    empty = run(settings, dataclasses.replace(seed_plan(), items=()))
    assert empty.outcome == "refused"
    assert snapshot(tmp_path) == before  # nothing written anywhere, feed included

    forced = run(settings, without_items(seed_plan(), 0.5), force=True)
    assert forced.outcome == "ok"
    assert next(c for c in forced.calendars if c.name == "org").count(ChangeKind.DELETE) > 0
    run(settings, dataclasses.replace(seed_plan(), items=()), force=True)
    assert not list((tmp_path / "calendars" / "org").glob("*.ics"))


def test_public_output_has_no_emails_names_or_notes(tmp_path: Path) -> None:
    run(make_settings(tmp_path))
    plan = seed_plan()
    secrets = [p.email for p in plan.people] + [p.name for p in plan.people]
    secrets += [line for i in plan.items for line in i.notes.splitlines() if len(line) > 3]
    public = [
        *(tmp_path / "calendars" / "hva-skjer").glob("*.ics"),
        tmp_path / "public" / "hva-skjer.ics",
    ]
    assert len(public) > 2
    for path in public:
        data = path.read_bytes()
        assert b"@tromsfylke" not in data
        assert not [s for s in secrets if s.encode() in data], path
    feed = (tmp_path / "public" / "hva-skjer.ics").read_bytes()
    assert b"X-WR-CALNAME:Hva skjer" in feed
    assert b"Samisk spr" in feed


def test_feed_carries_refresh_hint_time_zone_and_its_public_address(tmp_path: Path) -> None:
    feed_cfg = {"calendar": "hva-skjer", "title": "Hva skjer", "refresh_minutes": 30}
    settings = make_settings(
        tmp_path, feed=feed_cfg, http={"public_base_url": "https://bib.example.no/kalender/"}
    )
    run(settings)
    feed = icalendar.Calendar.from_ical((tmp_path / "public" / "hva-skjer.ics").read_bytes())
    assert feed.decoded("REFRESH-INTERVAL") == timedelta(minutes=30)
    assert str(feed["X-PUBLISHED-TTL"]) == "PT30M"
    assert str(feed["URL"]) == "https://bib.example.no/kalender/hva-skjer.ics"
    assert str(feed["X-WR-TIMEZONE"]) == settings.plan.timezone
    assert all("COMMENT" not in tz for tz in feed.walk("VTIMEZONE"))


def test_a_person_calendar_is_never_published_as_the_feed(tmp_path: Path) -> None:
    # Person calendars are generated, so the settings cannot reject this name up front.
    person = next(p for p in seed_plan().people if p.email.startswith("trine"))
    name = f"person-{person.email.split('@')[0].replace('.', '-')}"
    settings = make_settings(tmp_path, feed={"calendar": name, "path": "public/feed.ics"})
    report = run(settings)
    assert report.outcome == "ok"
    assert any(c.name == name for c in report.calendars)
    assert not (tmp_path / "public" / "feed.ics").exists()


def test_drifted_and_deleted_owned_files_are_restored(tmp_path: Path) -> None:
    settings, state = make_settings(tmp_path), MemoryState()
    run(settings, state=state)
    org_dir = tmp_path / "calendars" / "org"
    files = sorted(org_dir.glob("*.ics"))
    edited, removed = files[0], files[1]
    original = edited.read_bytes()
    edited.write_bytes(original.replace(b"SUMMARY:", b"SUMMARY:Flyttet av noen - "))
    removed.unlink()
    report = run(settings, state=state)
    org = next(c for c in report.calendars if c.name == "org")
    reasons = sorted(c.reason for c in org.changes if c.kind is not ChangeKind.UNCHANGED)
    assert reasons == ["deleted in calendar: restored", "edited in calendar: restored"]
    assert org.restored == 2
    assert removed.exists()
    assert b"Flyttet av noen" not in edited.read_bytes()


def test_dry_run_writes_nothing_and_plans_changes(tmp_path: Path) -> None:
    report = run(make_settings(tmp_path), dry_run=True)
    assert {c.outcome for c in report.calendars} == {Outcome.PLANNED}
    assert next(c for c in report.calendars if c.name == "org").count(ChangeKind.CREATE) > 0
    assert snapshot(tmp_path) == {}


def test_one_failing_calendar_does_not_stop_the_others(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    (tmp_path / "calendars").mkdir()
    (tmp_path / "calendars" / "org").write_text("a file where a folder should be")
    report = run(settings)
    org = next(c for c in report.calendars if c.name == "org")
    assert org.outcome is Outcome.FAILED
    assert org.error
    assert report.outcome == "partial"
    public = next(c for c in report.calendars if c.name == "hva-skjer")
    assert public.outcome is Outcome.OK
    assert list((tmp_path / "calendars" / "hva-skjer").glob("*.ics"))


class _Racing(FolderTarget):
    """A folder where someone edits an event just before each of our updates."""

    races = 1

    def update(self, old: ObservedEvent, event: DesiredEvent, sequence: int) -> ObservedEvent:
        if self.races:
            self.races -= 1
            path = self.path / old.remote_id
            path.write_bytes(path.read_bytes().replace(b"SUMMARY:", b"SUMMARY:x"))
        return super().update(old, event, sequence)


@pytest.mark.parametrize(("races", "conflicts"), [(1, 0), (2, 1)])
def test_conflicts_are_re_read_and_retried_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, races: int, conflicts: int
) -> None:
    settings = make_settings(tmp_path, person_calendars={"enabled": False})
    run(settings)
    original = registry.open_target

    def opener(calendar: Any, s: Settings, state: Any) -> Any:
        if calendar.name != "org":
            return original(calendar, s, state)
        target = _Racing(calendar.name, s.data_path(calendar.path))
        target.races = races
        return target

    monkeypatch.setattr(registry, "open_target", opener)
    plan = seed_plan()
    changed = tuple(
        dataclasses.replace(i, notes="Ny merknad") if i.key == "varen-2024/sommerles" else i
        for i in plan.items
    )
    report = run(settings, dataclasses.replace(plan, items=changed))
    org = next(c for c in report.calendars if c.name == "org")
    assert org.conflicts == conflicts
    update = next(c for c in org.changes if c.kind is ChangeKind.UPDATE)
    assert update.applied is (conflicts == 0)


def test_past_events_survive_a_new_plan(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, person_calendars={"enabled": False})
    run(settings)
    later = datetime(2024, 7, 1, tzinfo=UTC)
    spring_only_removed = dataclasses.replace(
        seed_plan(), items=tuple(i for i in seed_plan().items if not i.key.startswith("varen"))
    )
    report = run(settings, spring_only_removed, now=later)
    org = next(c for c in report.calendars if c.name == "org")
    assert org.count(ChangeKind.DELETE) == 0
    assert any(c.reason == "in the past: kept" for c in org.changes)


def test_summary_lists_changes_for_a_dry_run_and_a_table_after(tmp_path: Path) -> None:
    from syncsvc.present.report import format_report

    dry = format_report(run(make_settings(tmp_path), dry_run=True), show_changes=True)
    assert "+ 2024-03-07" in dry
    assert "Oppstartsmøte «Livslang lesing»" in dry
    assert "new in plan" in dry
    table = format_report(run(make_settings(tmp_path)), show_changes=False)
    header, org = table.splitlines()[1], table.splitlines()[2]
    assert header.split()[:4] == ["calendar", "target", "outcome", "create"]
    assert org.split()[:4] == ["org", "folder", "ok", "18"]


def test_default_config_end_to_end_reads_the_real_plan(tmp_path: Path) -> None:
    from syncsvc.settings import load_settings

    config = tmp_path / "config"
    config.mkdir()
    for name in ("syncsvc.toml", "overrides.toml", "arsplan-2024.txt"):
        (config / name).write_bytes((ROOT / "config" / name).read_bytes())
    settings = load_settings(config / "syncsvc.toml")
    report = sync.run_sync(settings, now=NOW)
    assert report.outcome == "ok"
    assert report.plan_items == len(seed_plan().items)
    org = next(c for c in report.calendars if c.name == "org")
    assert org.count(ChangeKind.CREATE) == sum(len(i.occurrences) for i in seed_plan().items)
    assert (tmp_path / "var" / "public" / "hva-skjer.ics").exists()


def test_an_unreadable_plan_stops_before_any_write(tmp_path: Path) -> None:
    from syncsvc.domain.errors import PlanError

    settings = make_settings(tmp_path)
    run(settings)
    before = snapshot(tmp_path)
    missing = settings.model_copy(
        update={"plan": settings.plan.model_copy(update={"source": str(tmp_path / "nope.txt")})}
    )
    with pytest.raises(PlanError):
        sync.run_sync(missing, now=NOW)
    assert snapshot(tmp_path) == before


def test_ics_file_calendar_is_written_once_and_then_left_alone(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        calendars=[{"name": "eksport", "target": "ics-file", "path": "export/org.ics"}],
        person_calendars={"enabled": False},
        feed={"calendar": None},
    )
    state = MemoryState()
    first = run(settings, state=state)
    assert first.calendars[0].outcome is Outcome.OK
    path = tmp_path / "export" / "org.ics"
    assert path.read_bytes().count(b"BEGIN:VEVENT") == sum(
        len(i.occurrences) for i in seed_plan().items
    )
    before = snapshot(tmp_path)
    second = run(settings, state=state)
    assert second.calendars[0].count(ChangeKind.UNCHANGED) == len(second.calendars[0].changes)
    assert snapshot(tmp_path) == before


def test_dry_run_text_shows_old_and_new_and_what_it_keeps(tmp_path: Path) -> None:
    from syncsvc.present.report import format_report

    settings = make_settings(tmp_path)
    run(settings)
    moved = run(settings, with_first_tuesday_moved(seed_plan()), dry_run=True)
    text = format_report(moved, show_changes=True)
    # The Tuesday meetings are 10:00-11:30 (config/overrides.toml).
    assert "      date moved\n      start: 2024-08-20 10:00 → 2024-08-27 10:00\n" in text
    assert "      end: 2024-08-20 11:30 → 2024-08-27 11:30\n" in text
    # Drop an item that is over by August: the dry run keeps its events and says why.
    plan = seed_plan()
    spring = next(i for i in plan.items if i.occurrences and i.occurrences[0].start.month == 3)
    fewer = dataclasses.replace(plan, items=tuple(i for i in plan.items if i is not spring))
    august = datetime(2024, 8, 1, 8, 0, tzinfo=UTC)
    kept = format_report(run(settings, fewer, dry_run=True, now=august), show_changes=True)
    assert f"  = {spring.occurrences[0].start.isoformat()}" in kept
    assert "      in the past: kept\n" in kept


def test_every_calendar_exists_named_and_coloured_even_without_events(tmp_path: Path) -> None:
    plan = seed_plan()
    idle = [
        p for p in plan.people if not any(p.email in i.people for i in plan.items if i.occurrences)
    ]
    assert idle, "the seed plan lists someone with no events"
    run(make_settings(tmp_path))
    people = tmp_path / "calendars" / "people"
    for person in idle:
        folder = people / person.email.split("@")[0].replace(".", "-")
        assert folder.is_dir()
        assert not list(folder.glob("*.ics"))
        assert (folder / "displayname").read_text(encoding="utf-8") == f"Årsplan — {person.name}"
        assert (folder / "color").read_text(encoding="utf-8") == "#6B4E9B"
    assert (tmp_path / "calendars" / "org" / "displayname").read_text(encoding="utf-8") == "Årsplan"
    feed = tmp_path / "calendars" / "hva-skjer" / "displayname"
    assert feed.read_text(encoding="utf-8") == "Hva skjer"
    # A dry run makes nothing.
    other = tmp_path / "dry"
    run(make_settings(other), dry_run=True)
    assert not (other / "calendars").exists()


def test_configured_display_name_and_colour_win(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    org = settings.calendars[0].model_copy(
        update={"display_name": "Fylkesbiblioteket – årsplan", "color": "#AA3300"}
    )
    run(settings.model_copy(update={"calendars": (org, *settings.calendars[1:])}))
    folder = tmp_path / "calendars" / "org"
    assert (folder / "displayname").read_text(encoding="utf-8") == "Fylkesbiblioteket – årsplan"
    assert (folder / "color").read_text(encoding="utf-8") == "#AA3300"
