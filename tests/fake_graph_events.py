"""The fake's event half: what Exchange stores for an event and how Graph shows it back.

Pure functions (no server, no locks) used by tests/fake_graph.py. Which behaviours are
documented and which assumed is listed in that module's docstring.
"""

from __future__ import annotations

import copy
import re
import secrets
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import win_tz

JSON = dict[str, Any]
FILTER = re.compile(
    r"^singleValueExtendedProperties/Any\(ep: ep/id eq '([^']*)' and "
    r"ep/value (?:ne null|eq '((?:[^']|'')*)')\)$"
)
EXPAND = re.compile(r"^singleValueExtendedProperties\(\$filter=(.*)\)$")
# What Exchange fills in on a create when the client leaves a property out (resources/event;
# the reminder default is Outlook's "15 minutes before").
SERVER_DEFAULTS: JSON = {
    "isReminderOn": True,
    "reminderMinutesBeforeStart": 15,
    "importance": "normal",
    "sensitivity": "normal",
    "showAs": "busy",
    "isAllDay": False,
    "categories": [],
    "attendees": [],
    "isOrganizer": True,
    "isCancelled": False,
    "isDraft": False,
    "responseRequested": True,
    "type": "singleInstance",
    "body": {"contentType": "text", "content": ""},
    "location": {"displayName": "", "locationType": "default"},
}
# Properties the service sets and a client can never write.
READ_ONLY = frozenset(
    {"id", "changeKey", "createdDateTime", "lastModifiedDateTime", "iCalUId", "webLink", "type"}
)


def new_id() -> str:
    # Real immutable ids are long base64 with '-', '_' and '=': the client must quote them.
    return "AAMk" + secrets.token_urlsafe(24) + "="


def stamp(event: JSON, *, created: bool = False) -> None:
    """A write happened: a new changeKey (and the etag made from it) and lastModifiedDateTime."""
    event["changeKey"] = secrets.token_urlsafe(12)
    event["@odata.etag"] = f'W/"{event["changeKey"]}"'
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    event["lastModifiedDateTime"] = now
    if created:
        event["createdDateTime"] = now


def stored_event(body: JSON) -> JSON:
    """A newly created event as Exchange keeps it: the client's fields over server defaults."""
    event = {**copy.deepcopy(SERVER_DEFAULTS), **copy.deepcopy(body), "id": new_id()}
    event["iCalUId"] = "040000008200E00074C5B7101A82E008" + secrets.token_hex(24).upper()
    stamp(event, created=True)
    return event


def has_property(event: JSON, prop: str, value: str | None) -> bool:
    for p in event.get("singleValueExtendedProperties", []):
        # Names are case-sensitive; values compare case-insensitively (documented).
        if p["id"] == prop and (value is None or str(p["value"]).casefold() == value.casefold()):
            return True
    return False


def check_event(body: Any) -> str | None:
    """What Exchange refuses in a complete event (after a create or a merged PATCH)."""
    if not isinstance(body, dict):
        return "body must be an event object"
    for key in ("start", "end"):
        if not isinstance(body.get(key), dict) or "dateTime" not in body[key]:
            return f"{key} is required"
    if body.get("isAllDay"):
        start, end = body["start"], body["end"]
        midnight = all(
            str(v["dateTime"]).split("T")[1].startswith("00:00:00") for v in (start, end)
        )
        if not midnight or start.get("timeZone") != end.get("timeZone"):
            return "all-day events need midnight start and end in the same time zone"
    minutes = body.get("reminderMinutesBeforeStart")
    if minutes is not None and minutes < 0:
        return "reminderMinutesBeforeStart cannot be negative"
    return None


def writable_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be an event object"
    bad = sorted(READ_ONLY & set(body))
    return f"read-only properties cannot be set: {', '.join(bad)}" if bad else None


def prefer(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key:
            out[key.strip()] = value.strip().strip('"')
    return out


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(win_tz.get(name, name))


def convert(value: JSON, zone_name: str, all_day: bool) -> JSON:
    wall = datetime.fromisoformat(str(value["dateTime"]).split(".")[0])
    if not all_day:
        instant = wall.replace(tzinfo=zone(str(value.get("timeZone") or "UTC"))).astimezone(UTC)
        wall = instant.astimezone(zone(zone_name)).replace(tzinfo=None)
    return {"dateTime": wall.strftime("%Y-%m-%dT%H:%M:%S") + ".0000000", "timeZone": zone_name}


def list_page(
    events: list[JSON], params: dict[str, str], headers: dict[str, str], page_size: int
) -> JSON:
    """One page of a listing: `$filter` (already known to match FILTER), `$top`, `$skiptoken`.
    A next page's link is given as its query string."""
    match = FILTER.match(params.get("$filter", ""))
    if match:
        prop, value = match.group(1), match.group(2)
        wanted = None if value is None else value.replace("''", "'")
        events = [e for e in events if has_property(e, prop, wanted)]
    start = int(params.get("$skiptoken", "0"))
    size = min(int(params.get("$top", "10")), page_size)
    out: JSON = {"value": [render(e, params, headers) for e in events[start : start + size]]}
    if start + size < len(events):
        out["@odata.nextLink"] = urllib.parse.urlencode({**params, "$skiptoken": str(start + size)})
    return out


def render(event: JSON, params: dict[str, str], headers: dict[str, str]) -> JSON:
    """An event as Graph returns it for this request's `$select`, `$expand` and `Prefer`."""
    out = copy.deepcopy(event)
    props = out.pop("singleValueExtendedProperties", [])
    expand = params.get("$expand")
    if expand:
        match = EXPAND.match(expand)
        wanted = set(re.findall(r"id eq '([^']*)'", match.group(1))) if match else set()
        out["singleValueExtendedProperties"] = [p for p in props if p["id"] in wanted]
    choice = prefer(headers.get("prefer", ""))
    zone_name = choice.get("outlook.timezone", "UTC")
    for key in ("start", "end"):
        if key in out:
            out[key] = convert(out[key], zone_name, bool(out.get("isAllDay")))
    body = out.get("body")
    as_text = choice.get("outlook.body-content-type") == "text"
    if isinstance(body, dict) and body.get("contentType") == "text" and not as_text:
        out["body"] = {
            "contentType": "html",
            "content": f"<html><body>{body.get('content', '')}</body></html>",
        }
    if "$select" in params:
        keep = set(params["$select"].split(",")) | {
            "id",
            "@odata.etag",
            "singleValueExtendedProperties",
        }
        out = {k: v for k, v in out.items() if k in keep}
    return out


@dataclass
class FakeCalendar:
    id: str
    name: str
    events: dict[str, JSON] = field(default_factory=dict)


@dataclass
class Mailbox:
    calendars: dict[str, FakeCalendar]
    default: str
    deleted: dict[str, JSON] = field(default_factory=dict)  # Deleted Items, by id
    transaction_ids: dict[str, JSON] = field(default_factory=dict)  # every one ever used
