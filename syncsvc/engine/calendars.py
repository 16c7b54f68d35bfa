"""The calendars of a run: the configured ones plus one per person in the plan.

Person calendars are built from the `[person_calendars]` templates, so this needs the
settings and the target config classes; routing (pipeline.route) only sees their names,
selectors and audiences.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import ValidationError

from syncsvc.domain.errors import ConfigError
from syncsvc.domain.plan import Person, Plan
from syncsvc.settings import (
    CalDAVCalendar,
    CalendarConfig,
    FolderCalendar,
    GraphCalendar,
    IcsFileCalendar,
    Settings,
)


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
            reminder=pc.reminder,
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
