"""Routing: from the plan, the overrides and the calendar configs to the events each
calendar should hold. Pure: values in, values out.

What each audience sees is pipeline.render's business; which calendars exist is the
engine's (engine.calendars).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from syncsvc.domain.errors import ConfigError
from syncsvc.domain.events import DesiredEvent, EventContent
from syncsvc.domain.ownership import OwnerKey
from syncsvc.domain.plan import Plan, PlanItem, Status
from syncsvc.pipeline.overrides import Adjustments, Overrides, apply_time
from syncsvc.pipeline.public import PersonWords
from syncsvc.pipeline.render import public_content, source_name, staff_content, staff_text
from syncsvc.pipeline.selectors import ItemFacts, Selector, parse_selector, unknown_terms
from syncsvc.pipeline.uid import Identity, legacy_uids


class RoutedCalendar(Protocol):
    """What routing needs of a calendar config (every CalendarConfig has it)."""

    @property
    def name(self) -> str: ...
    @property
    def selector(self) -> str: ...
    @property
    def audience(self) -> str: ...


# --- events -----------------------------------------------------------------------------------


# An occurrence's content before a calendar gives it its UID: (ordinal, content, its hash).
_Content = tuple[int, EventContent, str]


@dataclass(frozen=True, slots=True)
class _Routed:
    facts: ItemFacts
    staff: tuple[_Content, ...]
    public: tuple[_Content, ...]


def check_selectors(plan: Plan, selectors: Sequence[tuple[RoutedCalendar, Selector]]) -> None:
    """A selector that names a person, measure or item the plan lacks is a configuration
    error naming the calendar (with the nearest name the plan has, when one is close)."""
    people = {p.email for p in plan.people} | {e for i in plan.items for e in i.people}
    measures = {m for i in plan.items for m in i.measures}
    items = {i.key for i in plan.items}
    for cal, selector in selectors:
        unknown = unknown_terms(selector, people=people, measures=measures, items=items)
        if not unknown:
            continue
        term = unknown[0]
        kind, _, value = term.partition(":")
        known = {"person": people, "item": items, "measure": {str(m) for m in measures}}[kind]
        close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.75)
        hint = f"; did you mean {kind}:{close[0]}?" if close else ""
        raise ConfigError(
            f"calendar {cal.name!r}: selector {cal.selector!r}: {term} is not in the plan"
            f" {plan.source or ''}".rstrip()
            + hint
        )


def desired_events(
    plan: Plan,
    calendars: Sequence[RoutedCalendar],
    overrides: Overrides,
    *,
    domain: str,
    owner_key: OwnerKey,
    timezone: str,
) -> dict[str, list[DesiredEvent]]:
    """Events per calendar name (every calendar has an entry, maybe empty).

    Undated and skipped items produce no events. Each occurrence's UID and owner marker are
    its calendar's own (pipeline.uid); its content differs by audience.
    """
    identity = Identity(domain, owner_key)
    selectors: list[tuple[RoutedCalendar, Selector]] = [
        (cal, parse_selector(cal.selector, calendar=cal.name)) for cal in calendars
    ]
    check_selectors(plan, selectors)
    tz = ZoneInfo(timezone)
    names = {p.email: p.name for p in plan.people}
    people = PersonWords.of(plan.people)
    source = source_name(plan)
    routed = [
        r
        for item in plan.items
        if item.occurrences
        and (
            r := _route_item(
                item, overrides.for_item(item.key, item.title), names, people, source, tz
            )
        )
    ]
    legacy = {r.facts.key: legacy_uids(r.facts.key, domain) for r in routed}
    result: dict[str, list[DesiredEvent]] = {}
    for cal, selector in selectors:
        public = cal.audience == "public"
        ids = identity.calendar(cal.name, public=public)
        events: list[DesiredEvent] = []
        for r in routed:
            if not selector.matches(r.facts):
                continue
            key = r.facts.key
            uid_of, legacy_of = ids.uids(key), legacy[key]
            for ordinal, content, content_hash in r.public if public else r.staff:
                uid = uid_of(ordinal)
                events.append(
                    DesiredEvent(  # not dataclasses.replace, which is slow at 100,000 events
                        uid=uid,
                        content=content,
                        item_key=key,
                        content_hash=content_hash,
                        marker=ids.marker(uid),
                        legacy_uid=legacy_of(ordinal),
                    )
                )
        result[cal.name] = events
    return result


def _route_item(
    item: PlanItem,
    adjust: Adjustments,
    names: Mapping[str, str],
    people: PersonWords,
    source: str,
    tz: ZoneInfo,
) -> _Routed | None:
    if adjust.skip:
        return None
    facts = ItemFacts(
        key=item.key,
        people=frozenset(p.lower() for p in item.people),
        measures=frozenset(item.measures),
        public=item.public if adjust.public is None else adjust.public,
    )
    staff: list[_Content] = []
    public: list[_Content] = []
    text = staff_text(item, adjust, names, source)
    for ordinal, occ in enumerate(item.occurrences, start=1):
        if occ.status is Status.CANCELLED:
            continue  # counted all the same, so the other occurrences keep their UIDs
        start, end = apply_time(_in_tz(occ.start, tz), _in_tz(occ.end, tz), adjust, tz)
        staffed = staff_content(item, occ, adjust, names, source, start, end, text=text)
        staff.append((ordinal, staffed, staffed.content_hash()))
        if facts.public:
            public_text = public_content(item, occ, adjust, people, start, end)
            public.append((ordinal, public_text, public_text.content_hash()))
    return _Routed(facts, tuple(staff), tuple(public))


def _in_tz(value: date | datetime, tz: ZoneInfo) -> date | datetime:
    if not isinstance(value, datetime):
        return value
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
