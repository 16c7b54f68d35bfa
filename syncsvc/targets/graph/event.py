"""EventContent <-> Microsoft Graph `event` JSON. Pure functions, no I/O.

Ownership lives in two single-value extended properties in our own property set (a fixed
GUID): one holds the plan UID, one the content hash we wrote. Graph never shows them to users
and they survive edits in Outlook.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncsvc.domain.events import EventContent, EventStatus
from syncsvc.domain.ownership import LEGACY_MARKER
from syncsvc.targets.graph.tz import windows_zone, zone_from_graph

# Our property set. Never change it: events written under another GUID are not ours any more.
PROPERTY_SET = "c47bf14e-871f-44c8-bf18-32a0a3534867"
UID_PROPERTY = f"String {{{PROPERTY_SET}}} Name syncsvc-uid"
HASH_PROPERTY = f"String {{{PROPERTY_SET}}} Name syncsvc-hash"
SEQUENCE_PROPERTY = f"String {{{PROPERTY_SET}}} Name syncsvc-sequence"
# The keyed owner marker (domain.ownership). Events written before it have only the UID
# property: they read as the legacy marker and are adopted once (pipeline.adopt).
OWNER_PROPERTY = f"String {{{PROPERTY_SET}}} Name syncsvc-owner"

# The fields we read back: everything EventContent is built from, and the reminder we manage.
SELECT = (
    "subject,body,start,end,isAllDay,showAs,categories,location,"
    "isReminderOn,reminderMinutesBeforeStart"
)
EXPAND = (
    f"singleValueExtendedProperties($filter=id eq '{UID_PROPERTY}' or id eq '{HASH_PROPERTY}'"
    f" or id eq '{SEQUENCE_PROPERTY}' or id eq '{OWNER_PROPERTY}')"
)
# Fields that Graph validates together: a change to one sends all of them.
_TIME_FIELDS = ("start", "end", "isAllDay")

JSON = dict[str, Any]


def odata_quote(value: str) -> str:
    """A string literal for an OData `$filter` (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def owned_filter(uid: str | None = None) -> str:
    """`$filter` for our events (any UID), or for the one event with `uid`."""
    test = "ep/value ne null" if uid is None else f"ep/value eq {odata_quote(uid)}"
    return f"singleValueExtendedProperties/Any(ep: ep/id eq '{UID_PROPERTY}' and {test})"


def _wall(value: date | datetime, zone: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{value.isoformat()}T00:00:00"  # all-day: midnight start, exclusive midnight end


def content_fields(content: EventContent, tz: str) -> JSON:
    """The Graph fields that hold `content`, with times in the IANA zone `tz`.

    Deliberately no `attendees`: an event without attendees is never a meeting, so Exchange
    sends no invitation to anyone.
    """
    zone = ZoneInfo(tz)
    win = windows_zone(tz)
    return {
        "subject": content.summary,
        "body": {"contentType": "text", "content": content.description},
        "start": {"dateTime": _wall(content.start, zone), "timeZone": win},
        "end": {"dateTime": _wall(content.end, zone), "timeZone": win},
        "isAllDay": content.all_day,
        "showAs": "tentative" if content.status is EventStatus.TENTATIVE else "busy",
        "categories": list(content.categories),
        "location": {"displayName": content.location},
    }


def version_properties(content_hash: str, sequence: int) -> list[JSON]:
    """The hash we wrote and our revision count (Exchange has no SEQUENCE we can set)."""
    return [
        {"id": HASH_PROPERTY, "value": content_hash},
        {"id": SEQUENCE_PROPERTY, "value": str(sequence)},
    ]


def new_transaction_id() -> str:
    """A create's `transactionId`: fresh for each create call and kept across its retries, so
    Exchange drops a repeat after a lost reply. Never derived from the UID: whether Exchange
    also matches a *deleted* event's id is undocumented, and a re-created event could come back
    as the deleted copy on every run. (A crash between runs is covered by the UID lookup.)"""
    return str(uuid.uuid4())


def reminder_fields(minutes: int | None) -> JSON:
    """The reminder we want: none (`minutes` None), or `minutes` before the start. Sent on
    every create and update, because Outlook otherwise reminds 15 minutes before."""
    if minutes is None:
        return {"isReminderOn": False}
    return {"isReminderOn": True, "reminderMinutesBeforeStart": minutes}


def reminder_matches(event: Mapping[str, Any], minutes: int | None) -> bool:
    """Whether an event read back (with SELECT) has the reminder we want."""
    if minutes is None:
        return event.get("isReminderOn") is False
    return event.get("isReminderOn") is True and event.get("reminderMinutesBeforeStart") == minutes


def new_event(
    content: EventContent,
    uid: str,
    content_hash: str,
    tz: str,
    *,
    transaction_id: str,
    marker: str,
    reminder: int | None = None,
) -> JSON:
    """The body of a create: content, reminder, the ownership properties, a transactionId."""
    body = content_fields(content, tz)
    body.update(reminder_fields(reminder))
    body["transactionId"] = transaction_id
    body["singleValueExtendedProperties"] = [
        {"id": UID_PROPERTY, "value": uid},
        {"id": OWNER_PROPERTY, "value": marker},
        *version_properties(content_hash, 0),
    ]
    return body


def changed_fields(
    current: EventContent | None,
    new: EventContent,
    new_hash: str,
    sequence: int,
    tz: str,
    reminder: int | None = None,
) -> JSON:
    """A PATCH body: the fields that differ from `current` (all if unknown), the reminder,
    hash and sequence."""
    target = content_fields(new, tz)
    if current is None:
        patch = target
    else:
        before = content_fields(current, tz)
        patch = {key: value for key, value in target.items() if before.get(key) != value}
        if any(key in patch for key in _TIME_FIELDS):
            patch.update({key: target[key] for key in _TIME_FIELDS})
    patch.update(reminder_fields(reminder))
    patch["singleValueExtendedProperties"] = version_properties(new_hash, sequence)
    return patch


def properties(event: Mapping[str, Any]) -> tuple[str | None, str | None, int]:
    """(uid, stored hash, sequence) from an event fetched with our `$expand`."""
    uid, stored, sequence, _ = ownership(event)
    return uid, stored, sequence


def ownership(event: Mapping[str, Any]) -> tuple[str | None, str | None, int, str]:
    """(uid, stored hash, sequence, owner marker) from an event fetched with our `$expand`;
    an event with our UID property but no owner property has the legacy marker."""
    found: dict[str, str] = {}
    for prop in event.get("singleValueExtendedProperties") or ():
        # Graph may echo the GUID in another case; the Name part is case-sensitive.
        found[str(prop.get("id", "")).casefold()] = str(prop.get("value", ""))
    sequence = found.get(SEQUENCE_PROPERTY.casefold(), "0")
    return (
        found.get(UID_PROPERTY.casefold()),
        found.get(HASH_PROPERTY.casefold()),
        int(sequence) if sequence.isdigit() else 0,
        found.get(OWNER_PROPERTY.casefold()) or LEGACY_MARKER,
    )


def _parse_wall(value: Mapping[str, Any]) -> tuple[datetime, str]:
    text = str(value.get("dateTime", ""))
    # Graph writes 7 fractional digits; the seconds are all we ever set.
    naive = datetime.fromisoformat(text.split(".")[0])
    return naive, str(value.get("timeZone") or "UTC")


def read_content(event: Mapping[str, Any], tz: str) -> EventContent:
    """Rebuild EventContent from a Graph event; timed events come back in the IANA zone `tz`."""
    start, start_zone = _parse_wall(event.get("start") or {})
    end, end_zone = _parse_wall(event.get("end") or {})
    begin: date | datetime
    finish: date | datetime
    if event.get("isAllDay"):
        begin, finish = start.date(), end.date()
    else:
        zone = ZoneInfo(tz)
        begin = start.replace(tzinfo=zone_from_graph(start_zone)).astimezone(zone)
        finish = end.replace(tzinfo=zone_from_graph(end_zone)).astimezone(zone)
    body = event.get("body") or {}
    location = event.get("location") or {}
    return EventContent(
        summary=str(event.get("subject") or ""),
        start=begin,
        end=finish,
        status=EventStatus.TENTATIVE
        if event.get("showAs") == "tentative"
        else EventStatus.CONFIRMED,
        # Exchange stores text bodies with CRLF and may append a line break.
        description=str(body.get("content") or "").replace("\r\n", "\n").rstrip(),
        location=str(location.get("displayName") or ""),
        categories=tuple(str(c) for c in event.get("categories") or ()),
    )
