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
from collections.abc import Callable
from dataclasses import dataclass

from syncsvc.domain.ownership import Owner, OwnerKey

_UNSAFE = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True, slots=True)
class Identity:
    """What UIDs and owner markers are made from: the UID domain and the installation key."""

    domain: str
    key: OwnerKey

    def calendar(self, calendar: str, *, public: bool) -> CalendarIdentity:
        return CalendarIdentity(self, calendar, public, self.key.for_calendar(calendar))


@dataclass(frozen=True, slots=True)
class CalendarIdentity:
    """UIDs and markers of one calendar. `uids(item_key)` does once per item what all its
    occurrences share (routing makes 100,000 of them)."""

    identity: Identity
    name: str
    public: bool
    owner: Owner

    def uids(self, item_key: str) -> Callable[[int], str]:
        domain = self.identity.domain
        if self.public:
            return _public_uids(self.identity.key, self.name, item_key, domain)
        return _staff_uids(self.name, item_key, domain)

    def marker(self, uid: str) -> str:
        return self.owner.marker(uid)


def _staff_uids(calendar: str, item_key: str, domain: str) -> Callable[[int], str]:
    """`<readable key>-<ordinal>-<8 hex of calendar and key>@<domain>`; ordinal counts from 1."""
    head = _readable(item_key)
    digest = hashlib.sha256(f"{calendar}\0{item_key}".encode()).hexdigest()[:8]
    return lambda ordinal: f"{head}-{ordinal}-{digest}@{domain}"


def _public_uids(key: OwnerKey, calendar: str, item_key: str, domain: str) -> Callable[[int], str]:
    """32 hex of an HMAC over calendar, key and ordinal: nothing of the plan shows."""
    mac = key.macs("uid", calendar, item_key)
    return lambda ordinal: f"{mac(str(ordinal))[:32]}@{domain}"


def legacy_uids(item_key: str, domain: str) -> Callable[[int], str]:
    """The UIDs versions before calendar-scoped UIDs wrote (same in every calendar), by
    ordinal; used only to recognise their events for the one-time migration."""
    head = _readable(item_key)
    digest = hashlib.sha256(item_key.encode()).hexdigest()[:8]
    return lambda ordinal: f"{head}-{ordinal}-{digest}@{domain}"


def legacy_uid(item_key: str, ordinal: int, domain: str) -> str:
    return legacy_uids(item_key, domain)(ordinal)


def _readable(item_key: str) -> str:
    return _UNSAFE.sub("-", item_key.lower()).strip("-")[:60] or "item"
