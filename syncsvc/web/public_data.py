"""What the public "Hva skjer" page shows besides the list: which events a view holds (upcoming
or one month, past ones included), each event's anchor, its online link, schema.org `Event`
JSON-LD, and the single-event .ics behind "Legg til i min kalender".

Pure functions over `AgendaEvent`s and feed bytes; `public_page` renders, the server routes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import icalendar

from syncsvc.web.agenda import MAX_EVENTS, AgendaEvent, upcoming

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def anchor(event_uid: str) -> str:
    """A stable, URL- and id-safe name for an event: the page anchor and the .ics file name.
    A hash, so nothing of the UID (which may name the plan) shows in links."""
    return "e-" + hashlib.sha256(event_uid.encode()).hexdigest()[:12]


def online_link(event: AgendaEvent) -> str | None:
    """The event's URL, else the first http(s) address in its location or description."""
    for text in (event.url, event.location, event.description):
        found = _URL.search(text)
        if found:
            return found.group(0).rstrip(".,;:)")
    return None


def place(event: AgendaEvent) -> str:
    """The location without a meeting link in it ('Teams' stays; a bare URL goes)."""
    return _URL.sub("", event.location).strip(" ,;–-")


# --- views -----------------------------------------------------------------------------------
def parse_month(text: str | None) -> date | None:
    """'2024-10' → 1 October 2024; anything else → None (the upcoming view)."""
    found = _MONTH.match(text or "")
    return date(int(found.group(1)), int(found.group(2)), 1) if found else None


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


@dataclass(frozen=True, slots=True)
class View:
    """The events of one page: `month` None = from today on; else every event touching it."""

    events: list[AgendaEvent]
    month: date | None
    previous: date | None  # month links; None where the feed has nothing that far
    next: date | None


def _months(event: AgendaEvent) -> Iterator[date]:
    month = event.first_day.replace(day=1)
    while month <= event.last_day:
        yield month
        month = add_months(month, 1)


def select(events: Sequence[AgendaEvent], now: datetime, month: date | None) -> View:
    """The events for `month` (or the upcoming ones), and the nearest months before and
    after it that have events (the month links skip empty months)."""
    today = now.date()

    def over(e: AgendaEvent) -> bool:
        return e.end <= now if isinstance(e.end, datetime) else e.last_day < today

    if month is None:
        shown = upcoming(events, now)
        # "Earlier events" leads to the latest month with something already over.
        past = [m for e in events if over(e) for m in _months(e) if m <= today]
        return View(shown, None, max(past) if past else None, None)
    after = add_months(month, 1)
    shown = [e for e in events if e.first_day < after and e.last_day >= month][:MAX_EVENTS]
    busy = {m for e in events for m in _months(e)}
    earlier = [m for m in busy if m < month]
    later = [m for m in busy if m > month]
    return View(shown, month, max(earlier) if earlier else None, min(later) if later else None)


# --- schema.org ------------------------------------------------------------------------------
def _iso(value: date | datetime) -> str:
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value.isoformat()


def event_jsonld(event: AgendaEvent, *, page_url: str, organizer: str) -> dict[str, object]:
    """One schema.org Event (https://schema.org/Event) as search engines read it."""
    data: dict[str, object] = {
        "@type": "Event",
        "name": event.summary,
        "startDate": _iso(event.start),
        "endDate": _iso(event.end if isinstance(event.end, datetime) else event.last_day),
        "eventStatus": "https://schema.org/EventScheduled",
        "url": page_url,
        "organizer": {"@type": "Organization", "name": organizer},
    }
    link, where = online_link(event), place(event)
    locations: list[dict[str, object]] = []
    if where:
        locations.append({"@type": "Place", "name": where})
    if link:
        locations.append({"@type": "VirtualLocation", "url": link})
    if locations:
        data["location"] = locations[0] if len(locations) == 1 else locations
        mode = "Mixed" if len(locations) == 2 else "Online" if link else "Offline"
        data["eventAttendanceMode"] = f"https://schema.org/{mode}EventAttendanceMode"
    if event.description:
        data["description"] = event.description
    return data


def jsonld_script(items: Sequence[dict[str, object]]) -> str:
    """A `<script type="application/ld+json">` block; `<` is escaped so no text can end it."""
    body = json.dumps({"@context": "https://schema.org", "@graph": list(items)}, ensure_ascii=False)
    body = body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/ld+json">{body}</script>'


# --- one event as .ics -----------------------------------------------------------------------
def single_event_ics(feed: bytes, name: str) -> bytes | None:
    """The feed's event whose `anchor()` is `name`, alone in a VCALENDAR with the time zones
    it uses (for "add to my calendar": an import, not a subscription). None if not there."""
    try:
        cal = icalendar.Calendar.from_ical(feed)
    except ValueError:
        return None
    for vevent in cal.walk("VEVENT"):
        if anchor(str(vevent.get("UID", ""))) != name:
            continue
        out = icalendar.Calendar()
        out.add("PRODID", str(cal.get("PRODID", "-//syncsvc//syncsvc//EN")))
        out.add("VERSION", "2.0")
        out.add("CALSCALE", "GREGORIAN")
        out.add("METHOD", "PUBLISH")
        used = {
            str(vevent[p].params.get("TZID"))
            for p in ("DTSTART", "DTEND")
            if p in vevent and vevent[p].params.get("TZID")
        }
        for tz in cal.walk("VTIMEZONE"):
            if str(tz.get("TZID")) in used:
                out.add_component(tz)
        out.add_component(vevent)
        data: bytes = out.to_ical()
        return data
    return None
