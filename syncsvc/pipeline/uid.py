"""Event UIDs: derived from the plan's identity and the calendar (see docs/IDENTITY.md).

A UID comes from the item key, the occurrence's ordinal within the item and the calendar's
name; never from the date (a moved date must update the event, not replace it) and never
random. Staff calendars get a readable UID (staff see the plan anyway); public calendars, and
so the feed, get an opaque one: an HMAC under the installation's key, so neither the plan
text nor a guess at it can be read back from a public UID or file name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from syncsvc.domain.ownership import OwnerKey

_UNSAFE = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True, slots=True)
class Identity:
    """What UIDs and owner markers are made from: the UID domain and the installation key."""

    domain: str
    key: OwnerKey

    def uid(self, calendar: str, item_key: str, ordinal: int, *, public: bool) -> str:
        if public:
            return public_uid(self.key, calendar, item_key, ordinal, self.domain)
        return staff_uid(calendar, item_key, ordinal, self.domain)

    def marker(self, calendar: str, uid: str) -> str:
        return self.key.for_calendar(calendar).marker(uid)


def staff_uid(calendar: str, item_key: str, ordinal: int, domain: str) -> str:
    """`<readable key>-<ordinal>-<8 hex of calendar and key>@<domain>`; ordinal counts from 1."""
    readable = _UNSAFE.sub("-", item_key.lower()).strip("-")[:60] or "item"
    digest = hashlib.sha256(f"{calendar}\0{item_key}".encode()).hexdigest()[:8]
    return f"{readable}-{ordinal}-{digest}@{domain}"


def public_uid(key: OwnerKey, calendar: str, item_key: str, ordinal: int, domain: str) -> str:
    """32 hex of an HMAC over calendar, key and ordinal: nothing of the plan shows."""
    return f"{key.mac('uid', calendar, item_key, str(ordinal))[:32]}@{domain}"


def legacy_uid(item_key: str, ordinal: int, domain: str) -> str:
    """The UID versions before calendar-scoped UIDs wrote (same in every calendar); used
    only to recognise their events for the one-time migration."""
    readable = _UNSAFE.sub("-", item_key.lower()).strip("-")[:60] or "item"
    digest = hashlib.sha256(item_key.encode()).hexdigest()[:8]
    return f"{readable}-{ordinal}-{digest}@{domain}"
