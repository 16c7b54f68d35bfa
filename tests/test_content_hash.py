"""The content hash is stored in every event we write (X-SYNCSVC-HASH): its input form must
never change, or every held event would look edited. `canonical()` is built by hand for speed;
these tests hold it to the JSON form it has always been."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from syncsvc.domain.events import EventContent, EventStatus

OSLO = ZoneInfo("Europe/Oslo")


def json_form(content: EventContent) -> str:
    """The form the hash was defined by: json.dumps of the fields with sorted keys."""
    tz = str(content.start.tzinfo) if isinstance(content.start, datetime) else ""
    return json.dumps(
        {
            "summary": content.summary,
            "start": content.start.isoformat(),
            "end": content.end.isoformat(),
            "tz": tz,
            "status": content.status.value,
            "description": content.description,
            "location": content.location,
            "categories": list(content.categories),
        },
        ensure_ascii=False,
        sort_keys=True,
    )


texts = st.text(st.characters(codec="utf-8") | st.sampled_from('"\\\n\r\t\x00\x7f\u2028æøå–'))
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(tzinfo=OSLO)
)


@st.composite
def contents(draw: st.DrawFn) -> EventContent:
    start: date | datetime = draw(days | times)
    return EventContent(
        summary=draw(texts),
        start=start,
        end=start + timedelta(hours=draw(st.integers(0, 48))),
        status=draw(st.sampled_from(list(EventStatus))),
        description=draw(texts),
        location=draw(texts),
        categories=tuple(draw(st.lists(texts, max_size=4))),
    )


@given(contents())
def test_canonical_is_the_sorted_json_of_the_fields(content: EventContent) -> None:
    assert content.canonical() == json_form(content)
    assert json.loads(content.canonical())["summary"] == content.summary


def test_the_hash_of_a_known_event_never_changes() -> None:
    # The value the JSON encoder gave before canonical() was hand-built; a new form would
    # make every event held in real calendars look edited.
    content = EventContent(
        summary="Tirsdagsmøte – «Lesekampanje»",
        start=datetime(2024, 8, 20, 10, 0, tzinfo=OSLO),
        end=datetime(2024, 8, 20, 11, 30, tzinfo=OSLO),
        description='Ansvarlige: Trine\nNotater: "viktig"',
        location="Teams",
        categories=("Høsten 2024", "Tiltak 3"),
    )
    assert content.content_hash() == "e6803c0d7b0f9023426fe467d85561e9"
