"""What the CalDAV target says when a server refuses something: the status, the DAV
precondition element the server named (RFC 4918 16, RFC 4791 1.3) with what it means, and
for a calendar URL with percent-encoded characters, that those may be why. Pure."""

from __future__ import annotations

import re
from urllib.parse import unquote

from syncsvc.targets.caldav import xml

# Preconditions we have met, and what to tell the person who reads the message.
_MEANING = {
    "CALDAV:unique-scheduling-object-resource": (
        "the server allows each UID only once per account, and another calendar of this "
        "account has this event's UID"
    ),
    "CALDAV:no-uid-conflict": "another object in the calendar has this event's UID",
    "CALDAV:valid-calendar-data": "the server does not accept the event's iCalendar data",
    "CALDAV:supported-calendar-component": "the calendar does not take events (VEVENT)",
    "CALDAV:calendar-collection-location-ok": "the server does not allow a calendar there",
    "DAV:resource-must-be-null": "something already exists at that URL",
    "DAV:valid-sync-token": "the server does not know the sync token",
    "DAV:need-privileges": "the account lacks the rights for it",
}
_ENCODED = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def encoded_characters(path: str) -> list[str]:
    """The percent-encoded runs in a URL path, each with what it stands for."""
    out = []
    for run in _ENCODED.findall(path):
        decoded = unquote(run, errors="replace")
        out.append(f"{run} = {decoded!r}")
    return out


def refused(base_url: str, method: str, what: str, status: int, body: bytes, path: str) -> str:
    """'<server> rejected PUT for <uid>: HTTP 403, precondition CALDAV:... (meaning)'."""
    message = f"{base_url} rejected {method} for {what}: HTTP {status}"
    named = xml.precondition(body)
    if named is not None:
        element, detail = named
        message += f", precondition {element}"
        meaning = _MEANING.get(element)
        if meaning or detail:
            message += f" ({'; '.join(m for m in (meaning, detail) if m)})"
    elif body and len(body) <= 200 and b"<" not in body:
        # A short plain-text reason (DAViCal: "The calendar path contains illegal characters.")
        message += f" ({body.decode('utf-8', errors='replace').strip()})"
    return message + encoded_hint(path, status)


def encoded_hint(path: str, status: int) -> str:
    """For a refusal of a calendar URL with percent-encoded characters: say so."""
    runs = encoded_characters(path)
    if not runs or status not in (400, 403, 404, 409):
        return ""
    return (
        f"; the calendar URL {path} has percent-encoded characters ({', '.join(runs)}), "
        "which some servers refuse in a calendar's name: use letters, digits, '-' and '_'"
    )


def lost_marker(uid: str, href: str) -> str:
    return (
        f"event {uid} is at {href} without syncsvc's marker (a calendar app may have dropped "
        "it); left as it is"
    )
