"""Fast iCalendar rendering of our one event shape, by string building (RFC 5545).

Building icalendar objects (`ical.icalendar_event_to_ical`) costs about 0.3 ms per event: a
feed of 100,000 events took over 30 s. Our events always have the same
few properties, so this module writes their content lines directly, in icalendar's own
layout (property order, escaping, line folding), and gives the same bytes as icalendar for
the values we produce. Only the VTIMEZONE blocks still come from icalendar (a few per file,
cached), so icalendar is imported when the first timed event is rendered, not before.

Values outside our shape (a datetime without a zoneinfo key, a UTC alias zone) are handed
to icalendar rather than guessed at. Unlike icalendar, a literal backslash followed by "N"
is kept as written (icalendar turns it into a line break, so such text changed on every
round trip).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from syncsvc import __version__
from syncsvc.domain.events import HASH_PROPERTY, OWNER_PROPERTY, DesiredEvent

PRODID = f"-//syncsvc//syncsvc {__version__}//EN"
BOM = "\ufeff"
_LIMIT = 75  # icalendar folds before a line would reach 75 octets
_FOLD = "\r\n "
# Zones icalendar writes as UTC ("...Z") though their key is not "UTC": left to icalendar.
_UTC_ALIASES = frozenset(
    {"Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"}
)


class _Unsupported(Exception):
    """A value outside the shape this module writes: icalendar renders the whole file."""


def event_to_ical(event: DesiredEvent, *, sequence: int = 0, stamp: datetime) -> bytes:
    """One VCALENDAR holding one VEVENT (plus a VTIMEZONE when the event is timed)."""
    when = _stamp(stamp)
    try:
        lines = _head(None)
        _timezones(lines, (event,))
        _vevent(lines, event, sequence, when)
    except _Unsupported:
        from syncsvc.pipeline import ical

        return ical.icalendar_event_to_ical(event, sequence=sequence, stamp=when)
    lines.append("END:VCALENDAR\r\n")
    return "\r\n".join(lines).encode()


def calendar_to_ical(
    events: Sequence[DesiredEvent],
    *,
    name: str | None = None,
    stamp: datetime,
    refresh: timedelta | None = None,
    url: str | None = None,
    timezone: str | None = None,
    internal: bool = False,
) -> bytes:
    """One VCALENDAR with many VEVENTs (the public feed, single-file export); the calendar
    properties are documented at `ical.icalendar_calendar_to_ical`. `internal` adds our owner and
    hash properties; the feed leaves them out (nobody reads them back)."""
    when = _stamp(stamp)
    try:
        lines = _head(name, refresh=refresh, url=url, timezone=timezone)
        _timezones(lines, events)
        stamp_line = _stamp_line(when)
        for event in sorted(events, key=lambda e: (_sort_key(e.content.start), e.uid)):
            _vevent(lines, event, 0, when, stamp_line, internal=internal)
    except _Unsupported:
        from syncsvc.pipeline import ical

        return ical.icalendar_calendar_to_ical(
            events,
            name=name,
            stamp=when,
            refresh=refresh,
            url=url,
            timezone=timezone,
            internal=internal,
        )
    lines.append("END:VCALENDAR\r\n")
    return "\r\n".join(lines).encode()


# --- content lines --------------------------------------------------------------------------


def _head(
    name: str | None = None,
    *,
    refresh: timedelta | None = None,
    url: str | None = None,
    timezone: str | None = None,
) -> list[str]:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", _prop("PRODID", _text(PRODID))]
    # icalendar's order: VERSION, PRODID, NAME, X-WR-CALNAME, then the rest alphabetically.
    # NAME, X-WR-*, URL and SOURCE are written raw, as icalendar writes them and as icalendar
    # and ical.js read them back; only line breaks, which would end the line, become spaces.
    if name:
        lines += [_prop("NAME", _raw(name)), _prop("X-WR-CALNAME", _raw(name))]
    if refresh is not None:
        lines.append("REFRESH-INTERVAL;VALUE=DURATION:" + _duration(refresh))
    if url:
        lines += [_prop("SOURCE;VALUE=URI", _raw(url)), _prop("URL;VALUE=URI", _raw(url))]
    if refresh is not None:
        lines.append("X-PUBLISHED-TTL:" + _duration(refresh))
    if timezone:
        lines.append(_prop("X-WR-TIMEZONE", _raw(timezone)))
    return lines


def _raw(value: str) -> str:
    return value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def _duration(value: timedelta) -> str:
    """An RFC 5545 DURATION as icalendar writes it (P1D, PT1H30M, P1DT2H, -PT15M)."""
    sign = ""
    if value.days < 0:
        sign, value = "-", -value
    clock = ""
    if value.seconds:
        hours, minutes, seconds = (
            value.seconds // 3600,
            value.seconds % 3600 // 60,
            value.seconds % 60,
        )
        clock = "T" + (f"{hours}H" if hours else "")
        clock += f"{minutes}M" if minutes or (hours and seconds) else ""
        clock += f"{seconds}S" if seconds else ""
    if value.days == 0 and clock:
        return f"{sign}P{clock}"
    return f"{sign}P{value.days}D{clock}"


def _vevent(
    lines: list[str],
    event: DesiredEvent,
    sequence: int,
    stamp: datetime,
    stamp_line: str | None = None,
    *,
    internal: bool = True,
) -> None:
    content = event.content
    append = lines.append
    append("BEGIN:VEVENT")
    append(_prop("SUMMARY", _text(content.summary)))
    append(_line("DTSTART" + _when(content.start)))
    append(_line("DTEND" + _when(content.end)))
    append(stamp_line or _stamp_line(stamp))
    append(_prop("UID", _text(event.uid)))
    append(f"SEQUENCE:{int(sequence)}")
    # The rest in alphabetical order, as icalendar sorts them.
    if content.categories:
        append(_prop("CATEGORIES", ",".join(_text(c) for c in content.categories)))
    if content.description:
        append(_prop("DESCRIPTION", _text(content.description)))
    if content.location:
        append(_prop("LOCATION", _text(content.location)))
    append("STATUS:" + _text(content.status.value))
    if content.all_day:
        append("TRANSP:TRANSPARENT")  # an all-day plan entry should not block the day
    if internal:  # ownership and hash: for our own reading, not for feed subscribers
        append(_prop(HASH_PROPERTY, _text(event.content_hash)))
        append(_prop(OWNER_PROPERTY, _text(event.marker)))
    append("END:VEVENT")


def _stamp(stamp: datetime) -> datetime:
    return stamp.astimezone(UTC).replace(microsecond=0)


def _stamp_line(stamp: datetime) -> str:
    return "DTSTAMP:" + _datetime(stamp) + "Z"


def _when(value: date | datetime) -> str:
    """';params:value' of a DTSTART/DTEND."""
    if not isinstance(value, datetime):
        return f";VALUE=DATE:{value.year:04d}{value.month:02d}{value.day:02d}"
    zone = _zone_key(value.tzinfo)
    if zone == "UTC":
        return ":" + _datetime(value) + "Z"
    return f";TZID={zone}:" + _datetime(value)


def _datetime(value: datetime) -> str:
    return (
        f"{value.year:04d}{value.month:02d}{value.day:02d}"
        f"T{value.hour:02d}{value.minute:02d}{value.second:02d}"
    )


def _zone_key(zone: tzinfo | None) -> str:
    if zone is UTC:
        return "UTC"
    if not isinstance(zone, ZoneInfo):
        raise _Unsupported  # floating, fixed-offset or other tzinfo: icalendar decides
    key = zone.key
    # A key needing quotes or naming a UTC alias is rare enough to leave to icalendar.
    if not key or key in _UTC_ALIASES or any(c in key for c in '";:,'):
        raise _Unsupported
    return key


def _text(value: str) -> str:
    """RFC 5545 TEXT escaping; CR LF, LF and a lone CR all become an escaped line break."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _prop(name: str, value: str) -> str:
    # icalendar decodes each value as UTF-8 with signature, which drops one leading U+FEFF.
    return _line(f"{name}:{value[1:] if value.startswith(BOM) else value}")


def _line(line: str) -> str:
    """Fold a content line as icalendar does: before a line reaches 75 octets, never inside
    a character, and never right after a backslash (so an escape stays on one line)."""
    if len(line) < _LIMIT and line.isascii():
        return line
    data = line.encode()
    if len(data) < _LIMIT:
        return line
    parts: list[bytes] = []
    start = 0
    while len(data) - start >= _LIMIT:
        end = start + _LIMIT - 1  # the chunk may hold 74 octets
        while data[end] & 0xC0 == 0x80:
            end -= 1  # a UTF-8 continuation byte: fold before the character it belongs to
        if data[end - 1] in b"\\^" and end - 1 > start:
            end -= 1  # carry the backslash over with what it escapes
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode()


# --- time zones -----------------------------------------------------------------------------


def _timezones(lines: list[str], events: Iterable[DesiredEvent]) -> None:
    """The VTIMEZONEs the timed events need, each covering just the years in use."""
    years: dict[str, tuple[int, int]] = {}
    for event in events:
        for value in (event.content.start, event.content.end):
            if not isinstance(value, datetime):
                continue
            key = _zone_key(value.tzinfo)
            if key == "UTC":
                continue
            lo, hi = years.get(key, (value.year, value.year))
            years[key] = (min(lo, value.year), max(hi, value.year))
    for key, (first, last) in sorted(years.items()):
        lines.append(_vtimezone(key, first, last))


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE block (without its last line break), the same as `ical` writes: icalendar
    knows how to turn the zone's rules into one, and is imported for it only here."""
    from syncsvc.pipeline import ical

    return bytes(ical.vtimezone(tzid, first_year, last_year).to_ical()).decode()[:-2]


def _sort_key(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return value.isoformat() + "T00:00:00"
