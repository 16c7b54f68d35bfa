"""Rendering: what an occurrence says in a calendar, by audience. Pure.

Staff calendars get the full working content (people, measures, notes); public calendars
only what the plan makes public (title, time, location, the override's public description),
never names, e-mail addresses, notes or measures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from syncsvc.domain.events import EventContent, EventStatus
from syncsvc.domain.plan import Occurrence, Plan, PlanItem, Status
from syncsvc.domain.redact import document_name
from syncsvc.pipeline.overrides import Adjustments
from syncsvc.pipeline.public import PersonWords, public_title, public_topic


@dataclass(frozen=True, slots=True)
class StaffText:
    """What every occurrence of an item says in a staff calendar, cleaned once per item
    (an item with ten dates would otherwise clean the same notes ten times)."""

    title: str
    details: str  # the description lines after the per-date "Tema" line
    location: str
    categories: tuple[str, ...]


def staff_text(
    item: PlanItem, adjust: Adjustments, names: Mapping[str, str], source: str
) -> StaffText:
    people = [names.get(e.lower(), e) for e in item.people]
    lines = [
        ("Ansvarlige", ", ".join(people)),
        ("Samarbeid/ansvar", item.responsible_text),
        ("Tiltak", ", ".join(str(m) for m in item.measures)),
        ("Kompetanse", item.competence),
        ("Synliggjøring", item.visibility),
        ("Notater", item.notes),
        ("Kilde", ", ".join(x for x in (source, item.semester or "") if x)),
    ]
    details = "\n".join(f"{label}: {text}" for label, v in lines if (text := clean_text(v)))
    categories = [item.semester or ""] + [f"Tiltak {m}" for m in item.measures]
    return StaffText(
        title=clean_line(item.title),
        details=details,
        location=clean_text(adjust.location or ""),
        categories=tuple(c for c in (clean_line(c) for c in categories) if c),
    )


def staff_content(
    item: PlanItem,
    occ: Occurrence,
    adjust: Adjustments,
    names: Mapping[str, str],
    source: str,
    start: date | datetime,
    end: date | datetime,
    *,
    text: StaffText | None = None,
) -> EventContent:
    """The staff event of one occurrence; `text` is `staff_text` of the item when the caller
    renders several occurrences of it."""
    text = text or staff_text(item, adjust, names, source)
    topic = clean_text(occ.topic or "")
    description = "\n".join(x for x in (f"Tema: {topic}" if topic else "", text.details) if x)
    return EventContent(
        summary=_summary(text.title, " ".join(topic.split())),
        start=start,
        end=end,
        status=EventStatus.TENTATIVE if occ.status is Status.TENTATIVE else EventStatus.CONFIRMED,
        description=description,
        location=text.location,
        categories=text.categories,
    )


def public_content(
    item: PlanItem,
    occ: Occurrence,
    adjust: Adjustments,
    people: PersonWords,
    start: date | datetime,
    end: date | datetime,
) -> EventContent:
    """Only what the plan makes public, plus override text; never people, notes, measures.

    The title is the override's public title or the item title cut before any person
    reference; the per-date topic only when the visibility column publishes topics ("Tema..."),
    no public title override replaces the text, and the topic names nobody."""
    if adjust.public_title:
        summary = clean_line(adjust.public_title)
    else:
        title = public_title(clean_line(item.title), people) or "Arrangement"
        topic = public_topic(clean_line(occ.topic or ""), people, allowed=item.public_topics)
        summary = summary_of(title, topic)
    return EventContent(
        summary=summary,
        start=start,
        end=end,
        status=EventStatus.TENTATIVE if occ.status is Status.TENTATIVE else EventStatus.CONFIRMED,
        description=clean_text(adjust.public_description or ""),
        location=clean_text(adjust.location or ""),
    )


def summary_of(title: str, topic: str | None) -> str:
    return _summary(clean_line(title), clean_line(topic or ""))


def _summary(title: str, topic: str) -> str:
    # Both already cleaned to one line.
    return f"{title} – {topic}" if topic and topic.casefold() not in title.casefold() else title


def source_name(plan: Plan) -> str:
    # The document's name only: a line number would change every event when a row is
    # inserted above, and a URL's query or user info may hold a secret.
    return document_name(plan.source) if plan.source else ""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Plan text as calendar text: LF line ends, no control characters, trimmed.

    iCalendar cannot keep a CR, so text holding one would never match its own hash."""
    if not text:
        return text  # most optional fields are empty: routing calls this 360,000 times
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def clean_line(text: str) -> str:
    """One line (titles, categories): runs of whitespace become one space."""
    return " ".join(clean_text(text).split())
