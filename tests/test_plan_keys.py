"""Item keys never collide silently: every item keeps its own events."""

from __future__ import annotations

import pytest

from syncsvc.domain.errors import PlanError
from syncsvc.domain.plan import ProblemKind, Severity
from syncsvc.plan.load import read_plan_bytes

HEADER = "ARBEIDSOPPGAVER AKTIVITETER\tDATO/TID\tKNYTTET TIL TILTAK NR\tSAMARBEID/ANSVAR"


def table(*rows: str) -> bytes:
    return ("Årsplan 2025\n\nVåren 2025\n\n" + "\n".join([HEADER, *rows]) + "\n").encode()


@pytest.mark.parametrize(
    ("titles", "expected_clashes"),
    [
        (("H7 Dobbel", "H7 Dobbel", "H7 Dobbel 2"), 1),
        (("H7 Dobbel 2", "H7 Dobbel", "H7 Dobbel"), 1),
        (("Møte", "Møte 2", "Møte", "Møte 3", "Møte"), 2),
        (("A", "B", "C"), 0),
    ],
)
def test_generated_keys_are_unique_and_a_clash_names_both_places(
    titles: tuple[str, ...], expected_clashes: int
) -> None:
    rows = [f"{t}\t{n + 1}. mars\t1\tFylkesbiblioteket" for n, t in enumerate(titles)]
    plan = read_plan_bytes(table(*rows), name="plan.txt")
    keys = [i.key for i in plan.items]
    assert len(keys) == len(titles)
    assert len(set(keys)) == len(keys), keys
    # Each item kept its own date: nothing replaced another.
    assert sorted(i.occurrences[0].first_day.day for i in plan.items) == list(
        range(1, len(titles) + 1)
    )
    clashes = [
        p for p in plan.problems if p.kind is ProblemKind.DUPLICATE_ITEM and "is taken" in p.message
    ]
    assert len(clashes) == expected_clashes, [p.message for p in plan.problems]
    for p in clashes:
        assert p.severity is Severity.WARNING
        assert "plan.txt:" in p.message  # the other item's place
        assert p.where is not None
        assert p.where.line is not None


def test_duplicate_explicit_keys_in_a_canonical_plan_are_an_error() -> None:
    text = """title: Årsplan 2025
year: 2025
items:
  - key: v25/mote
    title: Møte
    dates: 3. mars
  - key: v25/mote
    title: Et annet møte
    dates: 4. mars
"""
    with pytest.raises(PlanError) as err:
        read_plan_bytes(text.encode(), name="plan.yaml")
    message = str(err.value)
    assert "'v25/mote'" in message
    assert "used by two items" in message
    assert "plan.yaml:" in message
