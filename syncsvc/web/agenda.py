"""The "Hva skjer" agenda's data: public events read from the feed, and their Norwegian date
text. Pure functions; `public_page` renders the page and `public_data` picks what it shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import icalendar

from syncsvc.domain.norwegian import MONTH_NAMES, WEEKDAY_NAMES

MAX_EVENTS = 300  # a page, not an archive
MAX_DESCRIPTION = 600  # characters shown of a description


@dataclass(frozen=True, slots=True)
class AgendaEvent:
    summary: str
    start: date | datetime  # datetimes in the display zone
    end: date | datetime  # exclusive, same type as start
    tentative: bool = False
    location: str = ""
    description: str = ""
    uid: str = ""
    url: str = ""  # the event's URL property (a meeting or event page), when the feed has one

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def first_day(self) -> date:
        return self.start.date() if isinstance(self.start, datetime) else self.start

    @property
    def last_day(self) -> date:
        if isinstance(self.end, datetime):
            # An event ending at midnight ends on the day before.
            end = self.end - timedelta(microseconds=1) if self.end > self.start else self.end
            return end.date()
        return max(self.first_day, self.end - timedelta(days=1))


# --- parsing ---------------------------------------------------------------------------------
def parse_feed(data: bytes, zone: tzinfo) -> list[AgendaEvent]:
    """Events of an iCalendar feed, sorted by start. Unreadable events are skipped."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError:
        return []
    events: list[AgendaEvent] = []
    for component in calendar.walk("VEVENT"):
        if not isinstance(component, icalendar.Event):
            continue
        try:
            start, end = component.start, component.end
        except (icalendar.InvalidCalendar, ValueError, KeyError):
            continue
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            continue
        events.append(
            AgendaEvent(
                summary=str(component.get("SUMMARY", "")).strip() or "(uten tittel)",
                start=_in_zone(start, zone),
                end=_in_zone(end, zone),
                tentative=str(component.get("STATUS", "")).upper() == "TENTATIVE",
                location=str(component.get("LOCATION", "")).strip(),
                description=str(component.get("DESCRIPTION", "")).strip(),
                uid=str(component.get("UID", "")),
                url=str(component.get("URL", "")).strip(),
            )
        )
    events.sort(key=_sort_key)
    return events


def _in_zone(value: date | datetime, zone: tzinfo) -> date | datetime:
    if isinstance(value, datetime):
        # Floating times are taken as local time, as calendar clients do.
        return value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
    return value


def _sort_key(event: AgendaEvent) -> tuple[date, int, str, str]:
    minutes = (
        event.start.hour * 60 + event.start.minute if isinstance(event.start, datetime) else -1
    )
    return (event.first_day, minutes, event.summary, event.uid)


def upcoming(events: Iterable[AgendaEvent], now: datetime) -> list[AgendaEvent]:
    """Events not yet over at `now` (an aware datetime in the display zone)."""
    today = now.date()
    kept = [
        e for e in events if (e.end > now if isinstance(e.end, datetime) else e.last_day >= today)
    ]
    return kept[:MAX_EVENTS]


# --- Norwegian date text ---------------------------------------------------------------------
def day_text(day: date, *, weekday: bool = True, month: bool = True) -> str:
    """'tirsdag 17. september'."""
    out = f"{day.day}."
    if month:
        out += f" {MONTH_NAMES[day.month - 1]}"
    return f"{WEEKDAY_NAMES[day.weekday()]} {out}" if weekday else out


def clock_text(value: datetime) -> str:
    return f"{value.hour:02d}.{value.minute:02d}"


def when_text(event: AgendaEvent) -> tuple[str, str]:
    """(date text, time text): ('tirsdag 17. september', 'kl. 10.00–11.30')."""
    first, last = event.first_day, event.last_day
    if isinstance(event.start, datetime) and isinstance(event.end, datetime):
        if first == last:
            span = clock_text(event.start)
            if event.end > event.start:
                span += f"–{clock_text(event.end)}"
            return day_text(first), f"kl. {span}"
        return (
            f"{day_text(first)} kl. {clock_text(event.start)} – "
            f"{day_text(last)} kl. {clock_text(event.end)}",
            "",
        )
    if first == last:
        return day_text(first), ""
    if first.year != last.year:
        return f"{day_text(first)} {first.year} – {day_text(last)} {last.year}", ""
    return f"{day_text(first, month=first.month != last.month)} – {day_text(last)}", ""


def month_heading(day: date) -> str:
    return f"{MONTH_NAMES[day.month - 1].capitalize()} {day.year}"
