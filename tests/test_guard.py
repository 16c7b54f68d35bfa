from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from syncsvc.domain.events import DesiredEvent, EventContent, ObservedEvent
from syncsvc.pipeline.diff import diff
from syncsvc.pipeline.guard import check

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def events(n: int) -> list[DesiredEvent]:
    return [
        DesiredEvent(
            uid=f"u{i}", content=EventContent("Møte", date(2024, 3, 1 + i), date(2024, 3, 2 + i))
        )
        for i in range(n)
    ]


def held(desired: list[DesiredEvent]) -> dict[str, ObservedEvent]:
    return {
        e.uid: ObservedEvent(
            e.uid, e.uid, "x", e.content_hash, e.content_hash, 0, e.content.start, e.content.end
        )
        for e in desired
    }


@pytest.mark.parametrize(
    ("owned", "kept", "refused"),
    [
        (20, 10, True),  # 50% shrink
        (20, 14, False),  # 30%: at the threshold is allowed
        (20, 13, True),  # 35%
        (9, 5, False),  # small calendars: only "everything" is refused
        (3, 0, True),  # every owned event of a non-empty calendar
        (0, 0, False),  # nothing to delete
    ],
)
def test_guard_thresholds(owned: int, kept: int, refused: bool) -> None:
    all_events = events(owned)
    verdict = check("org", diff(all_events[:kept], held(all_events), now=NOW), threshold=0.3)
    assert verdict.refused is refused
    assert verdict.deletes == owned - kept
    assert verdict.owned == owned


def test_force_lets_it_through_and_the_message_has_the_numbers() -> None:
    all_events = events(20)
    change = diff(all_events[:10], held(all_events), now=NOW)
    refused = check("org", change, threshold=0.3)
    assert "10 of 20" in refused.describe()
    assert "50%" in refused.describe()
    assert not check("org", change, threshold=0.3, force=True).refused
    assert not check("org", change, threshold=0.6).refused  # a per-calendar threshold
