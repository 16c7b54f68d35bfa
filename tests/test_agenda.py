"""The agenda's data: feed parsing, the upcoming filter, Norwegian date text."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from syncsvc.web.agenda import (
    AgendaEvent,
    day_text,
    month_heading,
    parse_feed,
    upcoming,
    when_text,
)
from tests.feedsample import NOW, OSLO, feed_bytes


def _ev(start: date | datetime, end: date | datetime) -> AgendaEvent:
    return AgendaEvent(summary="x", start=start, end=end)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2024, 9, 17), date(2024, 9, 18), ("tirsdag 17. september", "")),
        (
            datetime(2024, 9, 17, 10, 0, tzinfo=OSLO),
            datetime(2024, 9, 17, 11, 30, tzinfo=OSLO),
            ("tirsdag 17. september", "kl. 10.00–11.30"),
        ),
        (
            datetime(2024, 1, 16, 9, 5, tzinfo=OSLO),
            datetime(2024, 1, 16, 9, 5, tzinfo=OSLO),
            ("tirsdag 16. januar", "kl. 09.05"),
        ),
        (date(2024, 4, 10), date(2024, 4, 12), ("onsdag 10. – torsdag 11. april", "")),
        (date(2024, 5, 31), date(2024, 6, 3), ("fredag 31. mai – søndag 2. juni", "")),
        (
            date(2024, 12, 30),
            date(2025, 1, 3),
            ("mandag 30. desember 2024 – torsdag 2. januar 2025", ""),
        ),
        (
            datetime(2024, 4, 10, 12, 0, tzinfo=OSLO),
            datetime(2024, 4, 11, 15, 0, tzinfo=OSLO),
            ("onsdag 10. april kl. 12.00 – torsdag 11. april kl. 15.00", ""),
        ),
        # Ending at midnight is still one day.
        (
            datetime(2024, 6, 1, 20, 0, tzinfo=OSLO),
            datetime(2024, 6, 2, 0, 0, tzinfo=OSLO),
            ("lørdag 1. juni", "kl. 20.00–00.00"),
        ),
    ],
)
def test_norwegian_when_text(
    start: date | datetime, end: date | datetime, expected: tuple[str, str]
) -> None:
    assert when_text(_ev(start, end)) == expected


def test_day_and_month_names() -> None:
    assert day_text(date(2024, 12, 1)) == "søndag 1. desember"
    assert day_text(date(2024, 3, 7), weekday=False) == "7. mars"
    assert month_heading(date(2024, 8, 1)) == "August 2024"


def test_parse_feed_reads_events_in_the_display_zone_sorted() -> None:
    events = parse_feed(feed_bytes(), OSLO)
    assert [e.summary for e in events][:2] == ["Tirsdagsmøte (vår)", "Lesefestival"]
    timed = next(e for e in events if e.summary == "Forfatterbesøk")
    assert isinstance(timed.start, datetime)
    assert timed.start.hour == 10
    assert next(e for e in events if e.summary == "Sommerles avslutning").tentative
    assert parse_feed(b"not a calendar", OSLO) == []


def test_upcoming_keeps_ongoing_and_future_events_only() -> None:
    names = [e.summary for e in upcoming(parse_feed(feed_bytes(), OSLO), NOW)]
    assert "Tirsdagsmøte (vår)" not in names
    assert names[0] == "Lesefestival"  # 9–11 September, under way on the 10th
    assert "Biblioteksjefmøte" in names
