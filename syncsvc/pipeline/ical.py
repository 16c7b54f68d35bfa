"""iCalendar rendering and reading of our events (RFC 5545, via icalendar).

All-day events use DATE values with an exclusive DTEND; timed events carry TZID and a
VTIMEZONE covering just the years they use (small objects, correct offsets). Every event
carries X-SYNCSVC-OWNER (ownership) and X-SYNCSVC-HASH (the content hash we wrote), so a later
run can tell our events from foreign ones and see edits made in the calendar.

`event_to_ical` and `calendar_to_ical` write through `ical_render` (string building, the same
bytes as icalendar, ~25x faster); `icalendar_event_to_ical` and `icalendar_calendar_to_ical`
build icalendar objects: the reference the fast renderer is tested against, and its fallback
for values outside our shape. icalendar itself is imported on first use, so a run that neither
reads nor writes an event does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from syncsvc.domain.events import (
    HASH_PROPERTY,
    OWNER_PROPERTY,
    DesiredEvent,
    EventContent,
    EventStatus,
    ObservedEvent,
)
from syncsvc.pipeline import ical_render

if TYPE_CHECKING:
    from icalendar import Calendar, Component, Event, Timezone

PRODID = ical_render.PRODID


# The wire format is written by the string renderer; the icalendar-object versions below are
# its fallback for shapes it does not handle and the reference its property tests compare with.
event_to_ical = ical_render.event_to_ical
calendar_to_ical = ical_render.calendar_to_ical


def icalendar_event_to_ical(event: DesiredEvent, *, sequence: int = 0, stamp: datetime) -> bytes:
    """`event_to_ical` built from icalendar objects."""
    cal = _calendar()
    _add_timezones(cal, [event.content])
    cal.add_component(_vevent(event, sequence=sequence, stamp=_stamp(stamp), internal=True))
    return bytes(cal.to_ical())


def icalendar_calendar_to_ical(
    events: Sequence[DesiredEvent],
    *,
    name: str | None = None,
    stamp: datetime,
    refresh: timedelta | None = None,
    url: str | None = None,
    timezone: str | None = None,
    internal: bool = False,
) -> bytes:
    """`calendar_to_ical` built from icalendar objects.

    `refresh` is how often subscribers should re-fetch: RFC 7986 REFRESH-INTERVAL and the
    X-PUBLISHED-TTL that Outlook and Apple Calendar read; `url` where the feed lives (RFC 7986
    URL and SOURCE); `timezone` the X-WR-TIMEZONE that Google Calendar shows floating and
    all-day events in."""
    cal = _calendar()
    if name:
        cal.add("NAME", name)
        cal.add("X-WR-CALNAME", name)
    if timezone:
        cal.add("X-WR-TIMEZONE", timezone)
    if refresh is not None:
        cal.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
        from icalendar import vDuration

        cal.add("X-PUBLISHED-TTL", vDuration(refresh))  # unknown to icalendar: typed here
    if url:
        cal.add("URL", url, parameters={"VALUE": "URI"})
        cal.add("SOURCE", url, parameters={"VALUE": "URI"})
    _add_timezones(cal, [e.content for e in events])
    when = _stamp(stamp)
    for event in sorted(events, key=lambda e: (_sort_key(e.content.start), e.uid)):
        cal.add_component(_vevent(event, sequence=0, stamp=when, internal=internal))
    return bytes(cal.to_ical())


def observe_ical(data: bytes, *, remote_id: str, etag: str | None = None) -> ObservedEvent | None:
    """Our event in `data`, or None when it is not ours (no owner marker) or unparseable."""
    vevent = _first_vevent(data)
    if vevent is None or not marker_of(vevent):
        return None
    return observed_from_component(vevent, remote_id=remote_id, etag=etag)


def observed_from_component(
    vevent: Component, *, remote_id: str, etag: str | None
) -> ObservedEvent | None:
    """An ObservedEvent from one parsed VEVENT that carries a marker (None if malformed);
    whether the marker verifies is the engine's check (pipeline.adopt)."""
    uid = str(vevent.get("UID", "")).strip()
    content = _content(vevent)
    if not uid or content is None:
        return None
    stored = vevent.get(HASH_PROPERTY)
    try:
        sequence = int(str(vevent.get("SEQUENCE", 0)))
    except ValueError:
        sequence = 0
    return ObservedEvent(
        uid=uid,
        remote_id=remote_id,
        etag=etag,
        stored_hash=str(stored) if stored is not None else None,
        actual_hash=content.content_hash(),
        sequence=sequence,
        start=content.start,
        end=content.end,
        summary=content.summary,
        content=content,
        marker=marker_of(vevent),
    )


def marker_of(vevent: Component) -> str | None:
    """The X-SYNCSVC-OWNER value, or None when the event has none."""
    value = str(vevent.get(OWNER_PROPERTY, "")).strip()
    return value or None


def content_from_ical(data: bytes) -> EventContent | None:
    """The content of the first VEVENT in `data` (owned or not); None if unparseable."""
    vevent = _first_vevent(data)
    return _content(vevent) if vevent is not None else None


def owned_vevents(data: bytes) -> list[Component] | None:
    """Every VEVENT with our marker in a (multi-event) calendar; None if unparseable."""
    cal = _parse(data)
    if cal is None:
        return None
    return [v for v in cal.walk("VEVENT") if marker_of(v)]


# --- rendering ------------------------------------------------------------------------------


def _calendar() -> Calendar:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    return cal


def _stamp(stamp: datetime) -> datetime:
    # The caller's clock: the core reads none (DTSTAMP is the only time-dependent field).
    return stamp.astimezone(UTC).replace(microsecond=0)


def _vevent(event: DesiredEvent, *, sequence: int, stamp: datetime, internal: bool) -> Event:
    from icalendar import Event

    content = event.content
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", stamp)
    vevent.add("DTSTART", content.start)
    vevent.add("DTEND", content.end)
    vevent.add("SUMMARY", content.summary)
    vevent.add("STATUS", content.status.value)
    vevent.add("SEQUENCE", sequence)
    if content.all_day:
        vevent.add("TRANSP", "TRANSPARENT")  # an all-day plan entry should not block the day
    if content.description:
        vevent.add("DESCRIPTION", content.description)
    if content.location:
        vevent.add("LOCATION", content.location)
    if content.categories:
        vevent.add("CATEGORIES", list(content.categories))
    if internal:  # ownership and hash: for our own reading, not for feed subscribers
        vevent.add(OWNER_PROPERTY, event.marker)
        vevent.add(HASH_PROPERTY, event.content_hash)
    return vevent


def _add_timezones(cal: Calendar, contents: Iterable[EventContent]) -> None:
    for tz in vtimezones(v for c in contents for v in (c.start, c.end)):
        cal.add_component(tz)


def vtimezones(values: Iterable[date | datetime]) -> list[Timezone]:
    """The VTIMEZONEs that the timed values need, each covering just the years in use."""
    years: dict[str, tuple[int, int]] = {}
    for value in values:
        if isinstance(value, datetime) and value.tzinfo is not None:
            tzid = _tzid(value)
            if tzid is None:
                continue
            lo, hi = years.get(tzid, (value.year, value.year))
            years[tzid] = (min(lo, value.year), max(hi, value.year))
    return [vtimezone(tzid, first, last) for tzid, (first, last) in sorted(years.items())]


def _tzid(value: datetime) -> str | None:
    key = getattr(value.tzinfo, "key", None)  # zoneinfo.ZoneInfo
    return key if isinstance(key, str) and key != "UTC" else None


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The zone's rules for just the years in use (a few lines instead of 70 years of RDATEs);
    shared read-only."""
    from icalendar import Timezone, vDDDLists

    tz = Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )
    # icalendar notes the covered years in a COMMENT, which libical's iTIP checks flag as a
    # property VTIMEZONE may not carry; the STANDARD/DAYLIGHT rules say the same.
    tz.pop("COMMENT", None)
    for rule in tz.subcomponents:
        # Over several years icalendar lists the later onsets in one RDATE. ical.js then
        # skips the DTSTART onset and reads only the first date of a list, so summer times
        # came out an hour off in all but one year (Thunderbird and other ical.js clients):
        # every onset gets its own RDATE line, DTSTART's too, as libical's own zones do.
        later = rule.get("RDATE")
        if isinstance(later, vDDDLists) and "RRULE" not in rule:
            onsets = [rule.decoded("DTSTART"), *(d.dt for d in later.dts)]
            rule["RDATE"] = [vDDDLists([onset]) for onset in onsets]
    return tz


def _sort_key(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return value.isoformat() + "T00:00:00"


# --- reading --------------------------------------------------------------------------------


def _parse(data: bytes) -> Calendar | None:
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(data)
    except Exception:  # icalendar raises many types on malformed input; all mean "not readable"
        return None
    return cal if isinstance(cal, Calendar) else None


def _first_vevent(data: bytes) -> Component | None:
    cal = _parse(data)
    if cal is None:
        return None
    events = cal.walk("VEVENT")
    return events[0] if events else None


def _content(vevent: Component) -> EventContent | None:
    try:
        start = vevent.decoded("DTSTART")
        end = _end(vevent, start)
        categories: list[str] = []
        raw_cats = vevent.get("CATEGORIES")
        for group in raw_cats if isinstance(raw_cats, list) else [raw_cats] if raw_cats else []:
            categories += [str(c) for c in group.cats]
        status_text = str(vevent.get("STATUS", "CONFIRMED")).upper()
        status = EventStatus.TENTATIVE if status_text == "TENTATIVE" else EventStatus.CONFIRMED
        return EventContent(
            summary=str(vevent.get("SUMMARY", "")),
            start=start,
            end=end,
            status=status,
            description=str(vevent.get("DESCRIPTION", "")),
            location=str(vevent.get("LOCATION", "")),
            categories=tuple(categories),
        )
    except Exception:  # a malformed date or property: not an event we can compare
        return None


def _end(vevent: Component, start: date | datetime) -> date | datetime:
    if "DTEND" in vevent:
        end: date | datetime = vevent.decoded("DTEND")
        return end
    if "DURATION" in vevent:
        duration: timedelta = vevent.decoded("DURATION")
        return start + duration
    return start if isinstance(start, datetime) else start + timedelta(days=1)
