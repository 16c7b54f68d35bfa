from __future__ import annotations

import pytest

from syncsvc.domain.errors import ConfigError
from syncsvc.domain.ownership import OwnerKey
from syncsvc.pipeline.selectors import ItemFacts, parse_selector

TRINE = "trine.mellem@tromsfylke.no"
ITEM = ItemFacts(
    key="hosten-2024/ibby", people=frozenset({TRINE}), measures=frozenset({4, 12}), public=False
)

KEY = OwnerKey(b"selector" * 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("org", True),
        ("public", False),
        (f"person:{TRINE}", True),
        ("person:Trine.Mellem@Tromsfylke.no", True),  # e-mails compare lower-case
        ("person:edel.olsen@tromsfylke.no", False),
        ("measure:12", True),
        ("measure:5", False),
        ("item:hosten-2024/ibby", True),
        ("public or measure:4", True),
        ("public and measure:4", False),
        ("not public", True),
        ("not not public", False),
        ("public or measure:4 and measure:5", False),  # and binds tighter than or
        ("(public or measure:4) and not measure:5", True),
        ("(public or measure:4) and measure:5", False),
        ("NOT public AND org", True),
    ],
)
def test_selector_semantics(text: str, expected: bool) -> None:
    assert parse_selector(text, calendar="c").matches(ITEM) is expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("public or", "ends too early"),
        ("(public", "missing ')'"),
        ("public)", "unexpected ')'"),
        ("measure:four", "not a number"),
        ("person:trine", "not an e-mail"),
        ("everyone", "unknown term"),
        ("team:x", "unknown term"),
        ("and public", "expected a term"),
    ],
)
def test_bad_selectors_name_the_calendar(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_selector(text, calendar="hva-skjer")
    assert "'hva-skjer'" in str(err.value)
    assert problem in str(err.value)


def test_selector_naming_what_the_plan_lacks_is_a_config_error_naming_the_calendar() -> None:
    from syncsvc.domain.errors import ConfigError
    from syncsvc.pipeline.route import desired_events
    from tests.test_route import calendars, seed_overrides, seed_plan

    plan = seed_plan()
    real = next(e for i in plan.items for e in i.people if e.startswith("trine"))
    typo = real.replace("mellem", "melem")
    cases = {
        f"person:{typo}": f"person:{typo} is not in the plan",
        "public or measure:99": "measure:99 is not in the plan",
        "org and not item:hosten-2024/ibbby": "item:hosten-2024/ibbby is not in the plan",
    }
    for selector, expected in cases.items():
        cals = calendars(("org", "org", "staff"), ("trine", selector, "staff"))
        with pytest.raises(ConfigError) as caught:
            desired_events(
                plan,
                cals,
                seed_overrides(),
                domain="t.local",
                owner_key=KEY,
                timezone="Europe/Oslo",
            )
        message = str(caught.value)
        assert message.startswith(f"calendar 'trine': selector {selector!r}: "), message
        assert expected in message
    # A near miss gets the name the plan has.
    cals = calendars(("trine", f"person:{typo}", "staff"))
    with pytest.raises(ConfigError, match=f"did you mean person:{real}"):
        desired_events(
            plan, cals, seed_overrides(), domain="t.local", owner_key=KEY, timezone="Europe/Oslo"
        )
    # Known names pass, whatever the calendar ends up holding.
    ok = calendars(("trine", f"person:{real} and not measure:{_a_measure(plan)}", "staff"))
    desired_events(
        plan, ok, seed_overrides(), domain="t.local", owner_key=KEY, timezone="Europe/Oslo"
    )


def _a_measure(plan: object) -> int:
    return next(m for i in plan.items for m in i.measures)  # type: ignore[attr-defined]
