"""Shared by the HTTP targets: reading a server's Retry-After hint."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

# RFC 9110 allows whole seconds only, but Microsoft Graph sends decimals ("2.128", "0.249" on
# throttled batch sub-requests). Reading them as seconds is what the server means.
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds (decimals allowed) or an HTTP date.

    None if absent or unreadable (negative, not a number, not a date): the caller then backs
    off on its own.
    """
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": GMT too
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
