"""Stable event UIDs from the plan's identity (see docs/IDENTITY.md).

A UID is derived from the item key and the occurrence's ordinal within the item, never from
the date (a moved date must update the event, not replace it) and never random. The same
occurrence has the same UID in every calendar.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^a-z0-9-]+")


def occurrence_uid(item_key: str, ordinal: int, domain: str) -> str:
    """`<readable key>-<ordinal>-<8 hex of the key>@<domain>`; ordinal counts from 1.

    The readable part is for humans reading a calendar file; the key hash keeps two keys
    that differ only in unsafe characters apart.
    """
    readable = _UNSAFE.sub("-", item_key.lower()).strip("-")[:60] or "item"
    digest = hashlib.sha256(item_key.encode()).hexdigest()[:8]
    return f"{readable}-{ordinal}-{digest}@{domain}"
