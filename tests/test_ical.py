from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from syncsvc.domain.events import (
    HASH_PROPERTY,
    OWNER_PROPERTY,
    DesiredEvent,
    EventContent,
    EventStatus,
)
from syncsvc.pipeline.ical import calendar_to_ical, content_from_ical, event_to_ical, observe_ical
from tests.builders import STAMP

OSLO = ZoneInfo("Europe/Oslo")


def timed(summary: str = "Tirsdagsmøte", **kw: object) -> DesiredEvent:
    content = EventContent(
        summary=summary,
        start=datetime(2024, 3, 19, 10, 0, tzinfo=OSLO),
        end=datetime(2024, 3, 19, 11, 30, tzinfo=OSLO),
        **kw,  # type: ignore[arg-type]
    )
    return DesiredEvent(uid="varen-2024.tirsdag-1@test", content=content, marker="v2.test")


def all_day() -> DesiredEvent:
    content = EventContent(
        summary="Biblioteksjefmøte", start=date(2024, 4, 10), end=date(2024, 4, 12)
    )
    return DesiredEvent(uid="bsm-1@test", content=content, marker="v2.test")


def test_all_day_uses_date_values_with_exclusive_end() -> None:
    data = event_to_ical(all_day(), stamp=STAMP)
    assert b"DTSTART;VALUE=DATE:20240410" in data
    assert b"DTEND;VALUE=DATE:20240412" in data
    assert b"VTIMEZONE" not in data


def test_timed_event_has_tzid_and_vtimezone() -> None:
    data = event_to_ical(timed(), stamp=STAMP)
    assert b"DTSTART;TZID=Europe/Oslo:20240319T100000" in data
    assert b"BEGIN:VTIMEZONE" in data
    assert b"TZID:Europe/Oslo" in data
    assert data.count(b"BEGIN:VEVENT") == 1


def test_owner_hash_sequence_and_prodid_are_written() -> None:
    event = timed()
    data = event_to_ical(event, sequence=3, stamp=STAMP)
    vevent = Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(vevent[OWNER_PROPERTY]) == "v2.test"
    assert str(vevent[HASH_PROPERTY]) == event.content_hash
    assert str(vevent["SEQUENCE"]) == "3"
    assert b"PRODID:" in data
    assert b"VERSION:2.0" in data


def test_observe_round_trips_the_content_hash() -> None:
    event = timed(status=EventStatus.TENTATIVE, location="Teams", categories=("Våren 2024",))
    observed = observe_ical(
        event_to_ical(event, sequence=2, stamp=STAMP), remote_id="a.ics", etag="e1"
    )
    assert observed is not None
    assert observed.uid == event.uid
    assert observed.remote_id == "a.ics"
    assert observed.etag == "e1"
    assert observed.stored_hash == event.content_hash
    assert observed.actual_hash == event.content_hash
    assert observed.sequence == 2
    assert observed.start == event.content.start
    assert not observed.drifted


def test_hash_ignores_dtstamp_and_sequence() -> None:
    event = all_day()
    one = event_to_ical(event, sequence=0, stamp=datetime(2024, 1, 1, tzinfo=UTC))
    two = event_to_ical(event, sequence=5, stamp=datetime(2025, 6, 1, tzinfo=UTC))
    assert one != two
    assert content_from_ical(one) == content_from_ical(two) == event.content


def test_edit_in_calendar_shows_as_drift() -> None:
    data = event_to_ical(timed(), stamp=STAMP).replace(
        b"SUMMARY:Tirsdagsm", b"SUMMARY:Endret Tirsdagsm"
    )
    observed = observe_ical(data, remote_id="x", etag=None)
    assert observed is not None
    assert observed.drifted


def test_foreign_and_broken_objects_are_not_ours() -> None:
    foreign = event_to_ical(timed(), stamp=STAMP).replace(b"X-SYNCSVC-OWNER:v2.test\r\n", b"")
    assert observe_ical(foreign, remote_id="f", etag=None) is None
    assert observe_ical(b"BEGIN:VCALENDAR\r\nthis is junk", remote_id="j", etag=None) is None
    assert observe_ical(b"", remote_id="e", etag=None) is None


def test_hostile_title_is_escaped_and_does_not_break_the_object() -> None:
    title = "Møte\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil; a,b \\ c"
    data = event_to_ical(timed(summary=title), stamp=STAMP)
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    assert str(events[0]["UID"]) == "varen-2024.tirsdag-1@test"
    assert b"\r\nBEGIN:VEVENT\r\nUID:evil" not in data
    assert str(events[0]["SUMMARY"]).replace("\r\n", "\n") == title.replace("\r\n", "\n")


def test_calendar_holds_every_event_and_name() -> None:
    data = calendar_to_ical([timed(), all_day()], name="Hva skjer", stamp=STAMP)
    cal = Calendar.from_ical(data)
    assert str(cal["X-WR-CALNAME"]) == "Hva skjer"
    assert sorted(str(e["UID"]) for e in cal.walk("VEVENT")) == [
        "bsm-1@test",
        "varen-2024.tirsdag-1@test",
    ]
    assert len(cal.walk("VTIMEZONE")) == 1


text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r"),
    max_size=40,
) | st.sampled_from(["BEGIN:VEVENT", "a\nb", "x;y,z\\", ""])


@given(summary=text, description=text, location=text, cats=st.lists(text, max_size=3))
def test_any_text_round_trips(
    summary: str, description: str, location: str, cats: list[str]
) -> None:
    content = EventContent(
        summary=summary,
        start=date(2024, 5, 23),
        end=date(2024, 5, 25),
        description=description,
        location=location,
        categories=tuple(c for c in cats if c),
    )
    event = DesiredEvent(uid="p-1@test", content=content, marker="v2.test")
    observed = observe_ical(event_to_ical(event, stamp=STAMP), remote_id="p", etag=None)
    assert observed is not None
    assert observed.actual_hash == event.content_hash


def test_feed_tells_subscribers_how_often_to_refresh_and_where_it_lives() -> None:
    url = "https://bibliotek.example.no/hva-skjer.ics"
    data = calendar_to_ical(
        [timed(), all_day()],
        name="Hva skjer",
        stamp=STAMP,
        refresh=timedelta(minutes=90),
        url=url,
        timezone="Europe/Oslo",
    )
    cal = Calendar.from_ical(data)
    assert cal.decoded("REFRESH-INTERVAL") == timedelta(minutes=90)
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H30M\r\n" in data
    assert b"\r\nX-PUBLISHED-TTL:PT1H30M\r\n" in data
    assert str(cal["URL"]) == url
    assert str(cal["SOURCE"]) == url
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Oslo"
    assert str(cal["NAME"]) == "Hva skjer"
    # Without the optional arguments none of these appear (single-file export).
    plain = calendar_to_ical([timed()], name="x", stamp=STAMP)
    for prop in (b"REFRESH-INTERVAL", b"X-PUBLISHED-TTL", b"\r\nURL", b"X-WR-TIMEZONE"):
        assert prop not in plain


def test_vtimezone_carries_rules_but_no_comment() -> None:
    for data in (
        calendar_to_ical([timed()], name="x", stamp=STAMP),
        event_to_ical(timed(), stamp=STAMP),
    ):
        (tz,) = Calendar.from_ical(data).walk("VTIMEZONE")
        assert "COMMENT" not in tz
        assert str(tz["TZID"]) == "Europe/Oslo"
        assert {c.name for c in tz.subcomponents} == {"STANDARD", "DAYLIGHT"}
