"""Which events are ours: a marker a copy cannot claim (see docs/IDENTITY.md).

Every event we write carries `X-SYNCSVC-OWNER: v2.<mac>` (Graph: an extended property with the
same value), where the MAC is an HMAC of the calendar's name and the event's UID under this
installation's secret key. A copy made in a calendar client keeps the marker but gets a new
UID, and an event moved into another calendar keeps its UID but not its calendar: both fail
the check and are foreign, so they are never changed or deleted.

Events written before this scheme carry the constant `syncsvc` (LEGACY_MARKER); they are
adopted once under strict conditions (pipeline.adopt), never trusted as such.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

MARKER_VERSION = "v2"
LEGACY_MARKER = "syncsvc"  # the constant marker of versions before the keyed one
KEY_BYTES = 32
_MAC_HEX = 32  # 128 bits: far beyond guessing, short enough for a property line


class Claim(StrEnum):
    """What an event's owner marker says about it."""

    OWNED = "owned"  # a valid marker for this calendar and UID
    LEGACY = "legacy"  # the constant marker of older versions: a candidate for adoption
    FOREIGN = "foreign"  # no marker, or one made for another calendar, UID or installation


@lru_cache(maxsize=4)
def _keyed(secret: bytes) -> hmac.HMAC:
    return hmac.new(secret, digestmod=hashlib.sha256)


@dataclass(frozen=True, slots=True)
class OwnerKey:
    """The per-installation secret. `repr` never shows it."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("owner key too short")

    def __repr__(self) -> str:
        return "OwnerKey(<secret>)"

    def macs(self, purpose: str, *head: str) -> Callable[[str], str]:
        """`mac(purpose, *head, last)` as a function of `last`: the key schedule and the
        shared head are hashed once, not for each of 100,000 events."""
        keyed = _keyed(self.secret).copy()
        keyed.update("".join(f"{part}\0" for part in (f"syncsvc-{purpose}/2", *head)).encode())

        def mac(last: str) -> str:
            each = keyed.copy()
            each.update(last.encode())
            return each.hexdigest()

        return mac

    def for_calendar(self, calendar: str) -> Owner:
        return Owner(self, calendar)


@dataclass(frozen=True, slots=True)
class Owner:
    """Marks and checks events of one calendar."""

    key: OwnerKey
    calendar: str
    _mac: Callable[[str], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_mac", self.key.macs("owner", self.calendar))

    def __repr__(self) -> str:
        return f"Owner(calendar={self.calendar!r})"

    def marker(self, uid: str) -> str:
        return f"{MARKER_VERSION}.{self._mac(uid)[:_MAC_HEX]}"

    def claim(self, uid: str, marker: str | None) -> Claim:
        value = (marker or "").strip()
        if not value or not uid:
            return Claim.FOREIGN
        if value == LEGACY_MARKER:
            return Claim.LEGACY
        if hmac.compare_digest(value.encode(), self.marker(uid).encode()):
            return Claim.OWNED
        return Claim.FOREIGN

    def owns(self, uid: str, marker: str | None) -> bool:
        return self.claim(uid, marker) is Claim.OWNED
