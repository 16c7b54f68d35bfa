from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syncsvc.domain.errors import ConfigError
from syncsvc.engine.inputs import load_overrides
from syncsvc.pipeline.overrides import apply_time, parse_overrides

OSLO = ZoneInfo("Europe/Oslo")
CONFIG = Path(__file__).parent.parent / "config" / "overrides.toml"


def test_title_substring_is_case_insensitive_and_globs_match_whole_title() -> None:
    rules = parse_overrides(
        """
[[override]]
title = "TIRSDAGSMØTE"
location = "Teams"

[[override]]
title = "Bib*møte"
location = "UiT"
"""
    )
    assert rules.for_item("k", "«Ledertema» på tirsdagsmøte").location == "Teams"
    assert rules.for_item("k", "Biblioteksjefmøte").location == "UiT"
    assert rules.for_item("k", "Biblioteksjefmøte i Tromsø").location is None  # glob: whole title
    assert rules.for_item("k", "Sommerles").location is None


def test_later_rules_win_per_field_and_item_keys_match_exactly() -> None:
    rules = parse_overrides(
        """
[[override]]
title = "møte"
location = "Teams"
public = true

[[override]]
item = "varen-2024/biblioteksjefmote"
location = "UiT"
skip = true
"""
    )
    adj = rules.for_item("varen-2024/biblioteksjefmote", "Biblioteksjefmøte")
    assert adj.location == "UiT"
    assert adj.public is True
    assert adj.skip
    assert not rules.for_item("varen-2024/biblioteksjefmote-2", "Biblioteksjefmøte").skip


def test_unknown_key_is_an_error_with_its_line() -> None:
    text = '[[override]]\ntitle = "x"\n\n[[override]]\ntitle = "y"\nlocaton = "Teams"\n'
    with pytest.raises(ConfigError) as err:
        parse_overrides(text, source="o.toml")
    assert "unknown key 'locaton'" in str(err.value)
    assert err.value.where is not None
    assert err.value.where.line == 6


def test_a_toml_syntax_error_names_its_line_and_not_the_position_twice() -> None:
    # Python 3.11's tomllib has the line only in the message text; it was lost here before.
    text = '[[override]]\ntitle = "x"\n\n[[override]]\ntitle = "y\n'
    with pytest.raises(ConfigError) as err:
        parse_overrides(text, source="o.toml")
    assert err.value.where is not None
    assert err.value.where.line == 5
    assert "invalid TOML" in err.value.message
    assert "(at line" not in err.value.message


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('location = "x"', "exactly one of"),
        ('item = "a"\ntitle = "b"', "exactly one of"),
        ('title = "x"\nstart_time = "25:00"', "look like 10:00"),
        ('title = "x"\nend_time = "11:00"', "need a start_time"),
        ('title = "x"\nstart_time = "11:00"\nend_time = "10:00"', "after start_time"),
        ('title = "x"\npublic = "yes"', "must be a bool"),
        ('title = "x"\nduration_minutes = true', "must be a int"),
    ],
)
def test_invalid_rules_are_config_errors(body: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_overrides(f"[[override]]\n{body}\n")


def test_top_level_unknown_key_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key 'overide'"):
        parse_overrides('[[overide]]\ntitle = "x"\n')
    with pytest.raises(ConfigError, match="not found") as err:
        load_overrides(tmp_path / "nope.toml")
    assert "nope.toml" in str(err.value)


def test_time_of_day_applies_to_one_day_items_only() -> None:
    rules = parse_overrides('[[override]]\ntitle = "x"\nstart_time = "10:00"\nend_time = "11:30"\n')
    adj = rules.for_item("k", "x")
    start, end = apply_time(date(2024, 3, 19), date(2024, 3, 20), adj, OSLO)
    assert start == datetime(2024, 3, 19, 10, 0, tzinfo=OSLO)
    assert end == datetime(2024, 3, 19, 11, 30, tzinfo=OSLO)
    two_days = apply_time(date(2024, 4, 10), date(2024, 4, 12), adj, OSLO)
    assert two_days == (date(2024, 4, 10), date(2024, 4, 12))


def test_duration_and_replacing_an_existing_time() -> None:
    rules = parse_overrides(
        '[[override]]\ntitle = "x"\nstart_time = "09.15"\nduration_minutes = 45\n'
    )
    adj = rules.for_item("k", "x")
    assert adj.start_time == time(9, 15)
    start, end = apply_time(
        datetime(2024, 5, 21, 12, 0, tzinfo=OSLO),
        datetime(2024, 5, 21, 14, 0, tzinfo=OSLO),
        adj,
        OSLO,
    )
    assert start == datetime(2024, 5, 21, 9, 15, tzinfo=OSLO)
    assert isinstance(end, datetime)
    assert isinstance(start, datetime)
    assert end - start == timedelta(minutes=45)


def test_shipped_overrides_file_is_valid() -> None:
    rules = load_overrides(CONFIG)
    tuesday = rules.for_item(
        "varen-2024/temamoter-mellom-folkebibliotekene-og-fylkesbiblioteket-tirsdagsmoter",
        "Temamøter mellom folkebibliotekene og fylkesbiblioteket «Tirsdagsmøter»",
    )
    assert (tuesday.start_time, tuesday.end_time, tuesday.location) == (
        time(10, 0),
        time(11, 30),
        "Teams",
    )
    sami = rules.for_item("hosten-2024/samisk-sprakuke", "Samisk språkuke")
    assert sami.public is True
    assert sami.public_description


UNMATCHED = """\
[[override]]
title = "tirsdagsmøte"
location = "Teams"

# a typo in the key: the item exists as ...samisk-sprakuke
[[override]]
item = "hosten-2024/samisk-sprakuk"
public = true

[[override]]
title = "Kompetansetiltak Kunnskapsaktør* nope*"
start_time = "10:00"
"""


def test_rules_that_match_no_item_are_warnings_with_file_and_line() -> None:
    from syncsvc.domain.plan import ProblemKind, Severity
    from syncsvc.pipeline.overrides import unmatched_problems
    from tests.test_route import seed_plan

    overrides = parse_overrides(UNMATCHED, source="/etc/syncsvc/overrides.toml")
    problems = unmatched_problems(overrides, seed_plan())
    assert [(str(p.where), p.message) for p in problems] == [
        (
            "/etc/syncsvc/overrides.toml:6",
            'override item = "hosten-2024/samisk-sprakuk" matches no plan item'
            " (`syncsvc plan show` lists the keys)",
        ),
        (
            "/etc/syncsvc/overrides.toml:10",
            'override title = "Kompetansetiltak Kunnskapsaktør* nope*" matches no plan item',
        ),
    ]
    assert {p.kind for p in problems} == {ProblemKind.UNMATCHED_OVERRIDE}
    assert {p.severity for p in problems} == {Severity.WARNING}


def test_the_shipped_overrides_all_match_the_shipped_plan() -> None:
    from syncsvc.pipeline.overrides import unmatched_problems
    from tests.test_route import seed_overrides, seed_plan

    assert unmatched_problems(seed_overrides(), seed_plan()) == []
