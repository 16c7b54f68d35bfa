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

ORG_NAME = "Årsplan"
ORG_COLOR = "#005A70"
PUBLIC_COLOR = "#1E6B34"


def expand_calendars(settings: Settings, plan: Plan) -> list[CalendarConfig]:
    """`settings.calendars` plus one calendar per person in the plan (when enabled), each
    with the display name and colour people will see."""
    calendars: list[CalendarConfig] = [_named(settings, c) for c in settings.calendars]
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


def _named(settings: Settings, cal: CalendarConfig) -> CalendarConfig:
    """Fill in the display name and colour a calendar config leaves open."""
    if cal.display_name and cal.color:
        return cal
    if cal.audience == "public":
        name, color = (
            settings.feed.title if cal.name == settings.feed.calendar else cal.name,
            PUBLIC_COLOR,
        )
    elif cal.selector.strip() == "org":
        name, color = ORG_NAME, ORG_COLOR
    else:
        name, color = f"{ORG_NAME} — {cal.name}", ORG_COLOR
    return cal.model_copy(
        update={"display_name": cal.display_name or name, "color": cal.color or color}
    )


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
    shown = _display(pc.display_name, person)
    try:
        if pc.target in ("folder", "ics-file"):  # the same fields; a folder or one file
            local = FolderCalendar if pc.target == "folder" else IcsFileCalendar
            return local.model_validate(
                {
                    "target": pc.target,
                    "path": pc.path.format(**safe),
                    "name": name,
                    "selector": selector,
                    "display_name": shown,
                    "color": pc.color,
                }
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
                display_name=shown,
                color=pc.color,
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


def _display(template: str, person: Person) -> str:
    try:
        return template.format(name=person.name, email=person.email, first_name=person.first_name)
    except (KeyError, IndexError, ValueError) as err:
        raise ConfigError(f"person_calendars.display_name: bad template: {err}") from None


def _ascii_slug(text: str) -> str:
    folded = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
