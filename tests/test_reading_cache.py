"""The reading cache: an unchanged plan's reading is reused, and only then."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import syncsvc.plan.load as load_module
from syncsvc.domain.errors import PlanError
from syncsvc.domain.plan import Occurrence, Plan, PlanItem
from syncsvc.plan.load import PlanSourceSpec, load_plan, read_plan_bytes
from syncsvc.plan.reading_cache import plan_from_json, plan_to_json
from tests.test_corpus import _documents, _source

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "config" / "arsplan-2024.txt").read_bytes()
OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize("expected", _documents(), ids=lambda p: p.name.split(".")[0])
def test_every_corpus_reading_survives_the_cache_form(expected: Path) -> None:
    name, data = _source(expected)
    plan = read_plan_bytes(data, name=name, today=date(2024, 1, 1))  # every corpus document reads
    # repr, not ==: aware times compare by instant, and the zone must come back too
    assert repr(plan_from_json(plan_to_json(plan))) == repr(plan)


def test_times_keep_their_zone_fold_and_offset() -> None:
    times = [
        date(2024, 3, 7),
        datetime(2024, 3, 7, 10, 0),  # floating
        datetime(2024, 10, 27, 2, 30, tzinfo=OSLO),  # the first 02:30 of the night
        datetime(2024, 10, 27, 2, 30, tzinfo=OSLO, fold=1),  # the second
        datetime(2024, 3, 7, 10, 0, tzinfo=timezone(timedelta(hours=-5))),
    ]
    items = tuple(
        PlanItem(key=f"k{n}", title="Møte", occurrences=(Occurrence(t, t),))
        for n, t in enumerate(times)
    )
    plan = Plan("Årsplan", 2024, items)
    back = plan_from_json(plan_to_json(plan))
    assert repr(back) == repr(plan)
    assert [i.occurrences[0].start.utcoffset() for i in back.items[2:4]] == [  # type: ignore[union-attr]
        timedelta(hours=2),
        timedelta(hours=1),
    ]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the documents actually read (not taken from the cache)."""
    seen: list[str] = []
    real = load_module.read_plan_bytes

    def counting(data: bytes, **kwargs: object) -> Plan:
        seen.append(str(kwargs["name"]))
        return real(data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(load_module, "read_plan_bytes", counting)
    return seen


def spec(path: Path, cache: Path, **kw: object) -> PlanSourceSpec:
    return PlanSourceSpec(location=str(path), cache_dir=cache, **kw)  # type: ignore[arg-type]


def test_an_unchanged_plan_is_read_once(tmp_path: Path, reads: list[str]) -> None:
    plan_file = tmp_path / "arsplan.txt"
    plan_file.write_bytes(SEED)
    first = load_plan(spec(plan_file, tmp_path / "cache"), today=date(2024, 5, 1))
    second = load_plan(spec(plan_file, tmp_path / "cache"), today=date(2024, 5, 1))
    assert len(reads) == 1
    assert repr(second) == repr(first)
    assert len(first.items) > 20


def test_a_changed_plan_option_or_day_is_read_again(tmp_path: Path, reads: list[str]) -> None:
    plan_file = tmp_path / "arsplan.txt"
    plan_file.write_bytes(SEED)
    cache = tmp_path / "cache"
    load_plan(spec(plan_file, cache), today=date(2024, 5, 1))
    plan_file.write_bytes(SEED.replace("Tirsdagsmøte".encode(), "Onsdagsmøte".encode()))
    edited = load_plan(spec(plan_file, cache), today=date(2024, 5, 1))
    assert any("Onsdagsmøte" in i.title for i in edited.items)
    moved = load_plan(spec(plan_file, cache, year=2025), today=date(2024, 5, 1))
    assert moved.year == 2025
    load_plan(spec(plan_file, cache, year=2025), today=date(2024, 5, 2))
    assert len(reads) == 4


def test_a_broken_cache_file_is_only_a_miss(tmp_path: Path, reads: list[str]) -> None:
    plan_file = tmp_path / "arsplan.txt"
    plan_file.write_bytes(SEED)
    cache = tmp_path / "cache"
    first = load_plan(spec(plan_file, cache), today=date(2024, 5, 1))
    for kept in cache.glob("reading-*.json"):
        kept.write_text('{"key": "x", "plan": ', encoding="utf-8")  # torn
    again = load_plan(spec(plan_file, cache), today=date(2024, 5, 1))
    assert repr(again) == repr(first)
    assert len(reads) == 2


def test_a_reading_that_fails_is_never_kept(tmp_path: Path, reads: list[str]) -> None:
    plan_file = tmp_path / "arsplan.txt"
    plan_file.write_text("Årsplan\n\nTirsdagsmøte\t31. februar\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(PlanError):
            load_plan(spec(plan_file, tmp_path / "cache", year=2024), today=date(2024, 5, 1))
    assert len(reads) == 2
    assert not list((tmp_path / "cache").glob("reading-*"))
