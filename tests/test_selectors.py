from __future__ import annotations

import pytest

from syncsvc.domain.errors import ConfigError
from syncsvc.pipeline.selectors import ItemFacts, parse_selector

TRINE = "trine.mellem@tromsfylke.no"
ITEM = ItemFacts(
    key="hosten-2024/ibby", people=frozenset({TRINE}), measures=frozenset({4, 12}), public=False
)


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
