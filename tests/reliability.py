"""Shared pieces of the reliability tests: seeded synthetic plans and their edits, a direct
(proxy-free) reading of a CalDAV calendar or a folder, and the check that a calendar holds
exactly the desired events with no duplicate UIDs.
"""

from __future__ import annotations

import dataclasses
import random
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from syncsvc.domain.events import DesiredEvent
from syncsvc.domain.norwegian import MONTH_NAMES
from syncsvc.domain.plan import Occurrence, Plan, PlanItem
from syncsvc.engine.calendars import expand_calendars
from syncsvc.pipeline.ical import observe_ical
from syncsvc.pipeline.overrides import Overrides
from syncsvc.pipeline.route import desired_events
from syncsvc.settings import Settings
from syncsvc.state.owner_key import owner_key_for
from tests.servers import DavServer

OSLO = ZoneInfo("Europe/Oslo")
_UID = re.compile(rb"^UID:(.*)$", re.MULTILINE)
_QUERY = b"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"/></C:filter>
</C:calendar-query>"""
_TITLES = ("Styremøte", "Tirsdagsmøte", "Fagdag", "Åpen dag", "Leseløft", "Bokbad", "Kurs")


# --- synthetic plans ----------------------------------------------------------------------


def _occurrence(rng: random.Random, year: int) -> Occurrence:
    day = date(year, 2, 1) + timedelta(days=rng.randrange(0, 300))
    if rng.random() < 0.3:
        start = datetime(day.year, day.month, day.day, rng.choice((9, 10, 13, 14)), 0, tzinfo=OSLO)
        return Occurrence(start=start, end=start + timedelta(minutes=rng.choice((60, 90, 120))))
    return Occurrence(start=day, end=day + timedelta(days=rng.choice((1, 1, 1, 2))))


def _item(rng: random.Random, number: int, year: int) -> PlanItem:
    occurrences = tuple(_occurrence(rng, year) for _ in range(rng.choice((1, 1, 1, 2))))
    return PlanItem(
        key=f"v{year % 100}/aktivitet-{number}",
        title=f"{rng.choice(_TITLES)} {number}",
        occurrences=occurrences,
        public=rng.random() < 0.4,
        notes=rng.choice(("", "Husk lokaler", "Ta med årsplanen")),
    )


def synthetic_plan(rng: random.Random, items: int, year: int = 2024) -> Plan:
    """A plan of `items` dated items (some timed, some public), all after 1 February `year`."""
    return Plan(
        title=f"Årsplan {year}", year=year, items=tuple(_item(rng, n, year) for n in range(items))
    )


def activity_list(rng: random.Random, events: int, year: int, *, first: int = 0) -> str:
    """A plan in the activity-list format (quick to read): `events` one-day activities named
    "Aktivitet <n>" (n from `first`), on seeded days of `year`."""
    days = sorted(
        (date(year, 1, 5) + timedelta(days=rng.randrange(0, 350)), n)
        for n in range(first, first + events)
    )
    lines, month = [f"Aktivitetsliste {year}"], 0
    for day, n in days:
        if day.month != month:
            month = day.month
            lines.append(f"{MONTH_NAMES[month - 1].capitalize()} {year}")
        lines.append(f"{day.day}. {MONTH_NAMES[month - 1]}: Aktivitet {n}")
    return "\n".join(lines) + "\n"


def edit_plan(plan: Plan, rng: random.Random, next_number: int) -> tuple[Plan, int]:
    """A seeded mix of moved dates, renamed titles, removed and added items (small enough
    that the deletion guard lets it through)."""
    items = list(plan.items)
    for _ in range(rng.randrange(0, 4)):  # moved dates
        i = rng.randrange(len(items))
        items[i] = dataclasses.replace(
            items[i],
            occurrences=tuple(_occurrence(rng, plan.year) for _ in items[i].occurrences),
        )
    for _ in range(rng.randrange(0, 3)):  # renamed titles (same key: an update)
        i = rng.randrange(len(items))
        items[i] = dataclasses.replace(items[i], title=f"{items[i].title} (endret)")
    for _ in range(rng.randrange(0, 2)):  # removed
        if len(items) > 20:
            items.pop(rng.randrange(len(items)))
    for _ in range(rng.randrange(0, 3)):  # added
        items.append(_item(rng, next_number, plan.year))
        next_number += 1
    return dataclasses.replace(plan, items=tuple(items)), next_number


def desired_for(settings: Settings, plan: Plan) -> dict[str, list[DesiredEvent]]:
    """What every calendar of `settings` should hold for `plan` (the engine's own routing)."""
    calendars = expand_calendars(settings, plan)
    return desired_events(
        plan,
        calendars,
        Overrides(),
        domain=settings.sync.domain,
        owner_key=owner_key_for(settings),
        timezone=settings.plan.timezone,
    )


# --- reading calendars directly -------------------------------------------------------------


def dav_objects(server: DavServer, calendar_url: str) -> dict[str, bytes]:
    """Every object in a CalDAV calendar (ours and foreign), href -> bytes, in one REPORT
    straight to the server (never through the fault proxy)."""
    with server.client() as http:
        resp = http.request(
            "REPORT",
            calendar_url,
            content=_QUERY,
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
    if resp.status_code != 207:
        raise RuntimeError(f"REPORT {calendar_url}: HTTP {resp.status_code}")
    found: dict[str, bytes] = {}
    for response in ET.fromstring(resp.content).iter("{DAV:}response"):
        href = response.findtext("{DAV:}href") or ""
        data = response.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data")
        if data is not None:
            found[unquote(href)] = data.encode()
    return found


def folder_objects(path: Path) -> dict[str, bytes]:
    """Every visible `.ics` file of a vdir folder, name -> bytes."""
    if not path.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(path.glob("*.ics"))}


def uids_in(data: bytes) -> list[str]:
    unfolded = data.replace(b"\r\n ", b"").replace(b"\n ", b"")
    return [m.decode(errors="replace").strip() for m in _UID.findall(unfolded)]


# --- verdicts --------------------------------------------------------------------------------


@dataclass
class Comparison:
    """How a calendar's contents compare with the desired events."""

    duplicates: list[str] = field(default_factory=list)  # UIDs in more than one object
    missing: list[str] = field(default_factory=list)  # desired, not there
    extra: list[str] = field(default_factory=list)  # owned, not desired
    wrong: list[str] = field(default_factory=list)  # there, with other content
    unreadable: list[str] = field(default_factory=list)  # objects that do not parse

    @property
    def exact(self) -> bool:
        return not (self.duplicates or self.missing or self.extra or self.wrong or self.unreadable)


def compare(objects: Mapping[str, bytes], desired: Sequence[DesiredEvent]) -> Comparison:
    out = Comparison()
    seen: Counter[str] = Counter()
    owned: dict[str, str | None] = {}
    for name, data in objects.items():
        uids = uids_in(data)
        if not uids:
            out.unreadable.append(name)
            continue
        seen.update(set(uids))
        event = observe_ical(data, remote_id=name)
        if event is not None:
            owned[event.uid] = event.actual_hash
    out.duplicates = sorted(uid for uid, n in seen.items() if n > 1)
    wanted = {e.uid: e.content_hash for e in desired}
    out.missing = sorted(set(wanted) - set(owned))
    out.extra = sorted(set(owned) - set(wanted))
    out.wrong = sorted(u for u in set(wanted) & set(owned) if owned[u] != wanted[u])
    return out
