"""Routing: from the plan, the overrides and the calendar configs to the events each
calendar should hold. Pure: values in, values out.

Staff calendars get the full working content (people, measures, notes); calendars with
`audience = "public"` get only public content (title, time, location, the override's public
description), never names, e-mail addresses, notes or measures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from syncsvc.core.events import DesiredEvent, EventContent, EventStatus
from syncsvc.core.overrides import Adjustments, Overrides, apply_time
from syncsvc.core.selectors import ItemFacts, Selector, parse_selector
from syncsvc.core.uid import occurrence_uid
from syncsvc.errors import ConfigError
from syncsvc.plan.model import TIMEZONE, Occurrence, Person, Plan, PlanItem, Status
from syncsvc.settings import (
    CalDAVCalendar,
    CalendarConfig,
    FolderCalendar,
    GraphCalendar,
    IcsFileCalendar,
    Settings,
)


class RoutedCalendar(Protocol):
    """What routing needs of a calendar config (every CalendarConfig has it)."""

    @property
    def name(self) -> str: ...
    @property
    def selector(self) -> str: ...
    @property
    def audience(self) -> str: ...


# --- calendars --------------------------------------------------------------------------------


def expand_calendars(settings: Settings, plan: Plan) -> list[CalendarConfig]:
    """`settings.calendars` plus one calendar per person in the plan (when enabled)."""
    calendars: list[CalendarConfig] = list(settings.calendars)
    pc = settings.person_calendars
    if not pc.enabled:
        return calendars
    excluded = {e.lower() for e in pc.exclude}
    taken = {c.name for c in calendars}
    for person in plan.people:
        if person.email.lower() in excluded:
            continue
        cal = _person_calendar(settings, person)
        if cal.name in taken:
            raise ConfigError(
                f"person calendar {cal.name!r} (for {person.email}) clashes with another "
                "calendar; change person_calendars.name or add the person to exclude"
            )
        taken.add(cal.name)
        calendars.append(cal)
    return calendars


def person_slug(email: str) -> str:
    """The e-mail local part made safe for names and paths: "linda.m.tindholm"."""
    return _ascii_slug(email.split("@", 1)[0]) or "person"


def _person_calendar(settings: Settings, person: Person) -> CalendarConfig:
    pc = settings.person_calendars
    email = person.email.lower()
    safe = {
        "email": email,
        "slug": person_slug(email),
        "first_name": _ascii_slug(person.first_name),
    }
    raw = {**safe, "first_name": person.first_name}
    name, selector = pc.name.format(**safe), f"person:{email}"
    try:
        if pc.target == "folder":
            return FolderCalendar(
                target="folder", path=pc.path.format(**safe), name=name, selector=selector
            )
        if pc.target == "ics-file":
            return IcsFileCalendar(
                target="ics-file", path=pc.path.format(**safe), name=name, selector=selector
            )
        if pc.target == "caldav":
            if not pc.server or not pc.url or pc.server not in settings.servers:
                raise ConfigError(
                    "person_calendars with target caldav need server (a key of [servers]) and url"
                )
            return CalDAVCalendar(
                target="caldav",
                server=pc.server,
                url=pc.url.format(**raw),
                name=name,
                selector=selector,
            )
        calendar = pc.calendar.format(**raw) if pc.calendar else None
        return GraphCalendar(
            target="graph",
            mailbox=pc.mailbox.format(**raw),
            calendar=calendar,
            name=name,
            selector=selector,
        )
    except (KeyError, IndexError, ValueError) as err:
        # ValidationError is a ValueError: a template that yields an invalid name
        detail = err.errors()[0]["msg"] if isinstance(err, ValidationError) else str(err)
        raise ConfigError(f"person_calendars: bad template for {email}: {detail}") from None


def _ascii_slug(text: str) -> str:
    folded = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Routed:
    facts: ItemFacts
    staff: tuple[DesiredEvent, ...]
    public: tuple[DesiredEvent, ...]


def desired_events(
    plan: Plan,
    calendars: Sequence[RoutedCalendar],
    overrides: Overrides,
    *,
    domain: str,
    timezone: str = TIMEZONE,
) -> dict[str, list[DesiredEvent]]:
    """Events per calendar name (every calendar has an entry, maybe empty).

    Undated and skipped items produce no events. Each occurrence gets one UID, the same in
    every calendar; its content differs by audience only.
    """
    selectors: list[tuple[RoutedCalendar, Selector]] = [
        (cal, parse_selector(cal.selector, calendar=cal.name)) for cal in calendars
    ]
    tz = ZoneInfo(timezone)
    names = {p.email: p.name for p in plan.people}
    source = _source_name(plan)
    routed = [
        r
        for item in plan.items
        if item.occurrences
        and (
            r := _route_item(
                item, overrides.for_item(item.key, item.title), names, source, tz, domain
            )
        )
    ]
    result: dict[str, list[DesiredEvent]] = {}
    for cal, selector in selectors:
        public = cal.audience == "public"
        events: list[DesiredEvent] = []
        for r in routed:
            if selector.matches(r.facts):
                events.extend(r.public if public else r.staff)
        result[cal.name] = events
    return result


def _route_item(
    item: PlanItem,
    adjust: Adjustments,
    names: Mapping[str, str],
    source: str,
    tz: ZoneInfo,
    domain: str,
) -> _Routed | None:
    if adjust.skip:
        return None
    facts = ItemFacts(
        key=item.key,
        people=frozenset(p.lower() for p in item.people),
        measures=frozenset(item.measures),
        public=item.public if adjust.public is None else adjust.public,
    )
    staff: list[DesiredEvent] = []
    public: list[DesiredEvent] = []
    for ordinal, occ in enumerate(item.occurrences, start=1):
        uid = occurrence_uid(item.key, ordinal, domain)
        start, end = apply_time(_in_tz(occ.start, tz), _in_tz(occ.end, tz), adjust, tz)
        staff_content = _staff_content(item, occ, adjust, names, source, start, end)
        staff.append(DesiredEvent(uid=uid, content=staff_content, item_key=item.key))
        if facts.public:
            public_content = _public_content(item, occ, adjust, start, end)
            public.append(DesiredEvent(uid=uid, content=public_content, item_key=item.key))
    return _Routed(facts, tuple(staff), tuple(public))


def _staff_content(
    item: PlanItem,
    occ: Occurrence,
    adjust: Adjustments,
    names: Mapping[str, str],
    source: str,
    start: date | datetime,
    end: date | datetime,
) -> EventContent:
    people = [names.get(e.lower(), e) for e in item.people]
    lines = [
        ("Tema", occ.topic or ""),
        ("Ansvarlige", ", ".join(people)),
        ("Samarbeid/ansvar", item.responsible_text),
        ("Tiltak", ", ".join(str(m) for m in item.measures)),
        ("Kompetanse", item.competence),
        ("Synliggjøring", item.visibility),
        ("Notater", item.notes),
        ("Kilde", ", ".join(x for x in (source, item.semester or "") if x)),
    ]
    description = "\n".join(f"{label}: {clean_text(v)}" for label, v in lines if clean_text(v))
    categories = [item.semester or ""] + [f"Tiltak {m}" for m in item.measures]
    return EventContent(
        summary=_summary(item.title, occ.topic),
        start=start,
        end=end,
        status=EventStatus.TENTATIVE if occ.status is Status.TENTATIVE else EventStatus.CONFIRMED,
        description=description,
        location=clean_text(adjust.location or ""),
        categories=tuple(c for c in (clean_line(c) for c in categories) if c),
    )


def _public_content(
    item: PlanItem,
    occ: Occurrence,
    adjust: Adjustments,
    start: date | datetime,
    end: date | datetime,
) -> EventContent:
    # Only what the plan marks public, plus override text; never people, notes or measures.
    return EventContent(
        summary=_summary(adjust.public_title or item.title, occ.topic),
        start=start,
        end=end,
        status=EventStatus.TENTATIVE if occ.status is Status.TENTATIVE else EventStatus.CONFIRMED,
        description=clean_text(adjust.public_description or ""),
        location=clean_text(adjust.location or ""),
    )


def _summary(title: str, topic: str | None) -> str:
    title = clean_line(title)
    topic = clean_line(topic or "")
    return f"{title} – {topic}" if topic and topic.casefold() not in title.casefold() else title


def _in_tz(value: date | datetime, tz: ZoneInfo) -> date | datetime:
    if not isinstance(value, datetime):
        return value
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def _source_name(plan: Plan) -> str:
    # The file name only: a line number would change every event when a row is inserted above.
    return plan.source.rstrip("/").rsplit("/", 1)[-1] if plan.source else ""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Plan text as calendar text: LF line ends, no control characters, trimmed.

    iCalendar cannot keep a CR, so text holding one would never match its own hash."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def clean_line(text: str) -> str:
    """One line (titles, categories): runs of whitespace become one space."""
    return " ".join(clean_text(text).split())
