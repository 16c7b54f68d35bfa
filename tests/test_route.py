from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syncsvc.domain.errors import ConfigError
from syncsvc.domain.ownership import OwnerKey
from syncsvc.domain.plan import Occurrence, Plan, PlanItem, Status
from syncsvc.engine.calendars import expand_calendars, person_slug
from syncsvc.engine.inputs import load_overrides
from syncsvc.pipeline.overrides import Overrides, parse_overrides
from syncsvc.pipeline.route import desired_events
from syncsvc.plan.readers.text import read_text_table
from syncsvc.plan.table import build_plan
from syncsvc.settings import FolderCalendar, Settings
from tests.builders import TZ

ROOT = Path(__file__).parent.parent
OSLO = ZoneInfo("Europe/Oslo")
TEST_KEY = OwnerKey(b"test" * 8)
TUESDAYS = "hosten-2024/temamoter-mellom-folkebibliotekene-og-fylkesbiblioteket-tirsdagsmoter"


@cache
def seed_plan() -> Plan:
    """The real seed plan, read with the text table reader."""
    text = (ROOT / "config" / "arsplan-2024.txt").read_text(encoding="utf-8")
    return build_plan(read_text_table(text, "arsplan-2024.txt"))


def with_first_tuesday_moved(plan: Plan) -> Plan:
    """The seed plan with the first autumn Tirsdagsmøte moved a week (20 -> 27 August)."""
    items = tuple(
        dataclasses.replace(
            i,
            occurrences=(
                dataclasses.replace(
                    i.occurrences[0], start=date(2024, 8, 27), end=date(2024, 8, 28)
                ),
                *i.occurrences[1:],
            ),
        )
        if i.key == TUESDAYS
        else i
        for i in plan.items
    )
    return dataclasses.replace(plan, items=items)


@cache
def seed_overrides() -> Overrides:
    return load_overrides(ROOT / "config" / "overrides.toml")


def calendars(*specs: tuple[str, str, str]) -> list[FolderCalendar]:
    return [
        FolderCalendar(target="folder", name=n, selector=s, audience=a, path=n)  # type: ignore[arg-type]
        for n, s, a in specs
    ]


ORG_AND_PUBLIC = calendars(("org", "org", "staff"), ("hva-skjer", "public", "public"))


def route(plan: Plan | None = None, overrides: Overrides | None = None) -> dict[str, list]:  # type: ignore[type-arg]
    return desired_events(
        plan or seed_plan(),
        ORG_AND_PUBLIC,
        overrides if overrides is not None else seed_overrides(),
        domain="test.local",
        owner_key=TEST_KEY,
        timezone=TZ,
    )


def test_every_dated_occurrence_becomes_one_org_event_and_undated_items_none() -> None:
    plan = seed_plan()
    org = route()["org"]
    assert len(org) == sum(len(i.occurrences) for i in plan.items)
    assert len({e.uid for e in org}) == len(org)
    undated = {i.key for i in plan.undated}
    assert undated  # the seed has undated items (IBBY, ...)
    assert not {e.item_key for e in org} & undated


def test_uids_are_stable_per_calendar_opaque_in_public_and_survive_a_date_move() -> None:
    first, second = route(), route()
    assert [e.uid for e in first["org"]] == [e.uid for e in second["org"]]
    public_uids = {e.uid for e in first["hva-skjer"]}
    assert public_uids
    assert [e.uid for e in first["hva-skjer"]] == [e.uid for e in second["hva-skjer"]]
    assert not public_uids & {e.uid for e in first["org"]}  # calendar-scoped
    for uid in public_uids:  # nothing of the plan: 32 hex digits and the domain
        assert re.fullmatch(r"[0-9a-f]{32}@test\.local", uid), uid

    plan = seed_plan()
    moved = route(with_first_tuesday_moved(plan))["org"]
    before = {e.uid: e for e in first["org"]}
    after = {e.uid: e for e in moved}
    assert before.keys() == after.keys()
    changed = [uid for uid in before if before[uid].content_hash != after[uid].content_hash]
    assert len(changed) == 1
    assert after[changed[0]].content.start == datetime(2024, 8, 27, 10, 0, tzinfo=OSLO)


def test_title_change_is_a_new_identity() -> None:
    item = PlanItem(
        key="v/a", title="A", occurrences=(Occurrence(date(2024, 1, 2), date(2024, 1, 3)),)
    )
    renamed = dataclasses.replace(item, key="v/b", title="B")
    one = route(Plan("p", 2024, (item,)), Overrides())["org"][0]
    two = route(Plan("p", 2024, (renamed,)), Overrides())["org"][0]
    assert one.uid != two.uid


def test_overrides_give_tuesday_meetings_time_and_place() -> None:
    tuesdays = [e for e in route()["org"] if e.item_key == TUESDAYS]
    assert len(tuesdays) == 5
    for event in tuesdays:
        start, end = event.content.start, event.content.end
        assert isinstance(start, datetime)
        assert isinstance(end, datetime)
        assert (start.hour, start.minute, end.hour, end.minute) == (10, 0, 11, 30)
        assert start.tzinfo == OSLO
        assert event.content.location == "Teams"


def test_multi_day_items_stay_all_day_with_exclusive_end() -> None:
    bsm = [e for e in route()["org"] if e.item_key == "varen-2024/biblioteksjefmote"]
    assert [(e.content.start, e.content.end) for e in bsm] == [
        (date(2024, 4, 10), date(2024, 4, 12))
    ]


def test_staff_content_has_people_measures_topic_and_notes() -> None:
    org = {e.item_key: e for e in route()["org"]}
    bsm = org["varen-2024/biblioteksjefmote"].content
    assert "Linda M. Tindholm" in bsm.description
    assert "Tiltak: 2, 7, 15, 16" in bsm.description
    assert "Team: Linda, Trine og Tone" in bsm.description
    assert "arsplan-2024.txt" in bsm.description
    assert bsm.categories == ("Våren 2024", "Tiltak 2", "Tiltak 7", "Tiltak 15", "Tiltak 16")
    leader = org["varen-2024/ledertema-pa-tirsdagsmote-en-gang-i-semesteret"].content
    assert leader.summary.endswith("– Kartleggingen")


def test_public_events_carry_only_public_content() -> None:
    plan = seed_plan()
    public = route()["hva-skjer"]
    assert {e.item_key for e in public} == {TUESDAYS, "hosten-2024/samisk-sprakuke"}
    secrets = [p.email for p in plan.people] + [p.name for p in plan.people]
    secrets += [i.notes for i in plan.items if i.notes] + [
        i.responsible_text for i in plan.items if i.responsible_text
    ]
    for event in public:
        text = repr(event.content)
        assert not [s for s in secrets if s in text]
        assert "@" not in text
        assert not event.content.categories
    sami = next(e for e in public if e.item_key == "hosten-2024/samisk-sprakuke").content
    assert sami.summary == "Samisk språkuke"
    assert "språkuke" in sami.description


def test_tentative_occurrences_and_hostile_text() -> None:
    occ = Occurrence(date(2024, 5, 2), date(2024, 5, 3), status=Status.TENTATIVE)
    item = PlanItem(
        key="v/x", title="Møte\r\nBEGIN:VEVENT", occurrences=(occ,), notes="a\r\nb\x00c"
    )
    event = route(Plan("p", 2024, (item,)), Overrides())["org"][0]
    assert event.content.status.value == "TENTATIVE"
    assert event.content.summary == "Møte BEGIN:VEVENT"
    assert "Notater: a\nbc" in event.content.description


def test_skip_drops_the_item_everywhere() -> None:
    skip = parse_overrides(f'[[override]]\nitem = "{TUESDAYS}"\nskip = true\n')
    result = route(overrides=skip)
    assert TUESDAYS not in {e.item_key for events in result.values() for e in events}


def test_person_calendars_expand_over_plan_people() -> None:
    settings = Settings(
        calendars=tuple(ORG_AND_PUBLIC),
        person_calendars={"enabled": True, "exclude": ["edel.olsen@tromsfylke.no"]},  # type: ignore[arg-type]
    )
    cals = expand_calendars(settings, seed_plan())
    names = [c.name for c in cals]
    assert names[:2] == ["org", "hva-skjer"]
    assert "person-linda-m-tindholm" in names
    assert "person-edel-olsen" not in names
    assert len(cals) == 2 + len(seed_plan().people) - 1
    linda = next(c for c in cals if c.name == "person-linda-m-tindholm")
    assert linda.selector == "person:linda.m.tindholm@tromsfylke.no"
    events = desired_events(
        seed_plan(), cals, seed_overrides(), domain="t", owner_key=TEST_KEY, timezone=TZ
    )
    assert {e.item_key for e in events["person-linda-m-tindholm"]} == {
        "varen-2024/biblioteksjefmote",
        "varen-2024/sommerles",
    }
    assert person_slug("Åse.Ø@x.no") == "ase-o"


def test_person_calendar_name_clash_and_bad_selector_are_config_errors() -> None:
    clash = Settings(
        calendars=tuple(calendars(("person-trine-mellem", "org", "staff"))),
        person_calendars={"enabled": True},  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigError, match="clashes"):
        expand_calendars(clash, seed_plan())
    with pytest.raises(ConfigError, match="'broken'"):
        desired_events(
            seed_plan(),
            calendars(("broken", "org and", "staff")),
            Overrides(),
            domain="t",
            owner_key=TEST_KEY,
            timezone=TZ,
        )
