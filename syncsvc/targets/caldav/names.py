"""The names (hrefs) the CalDAV target gives new events, and the UID an object holds. Pure."""

from __future__ import annotations

import hashlib
import re

_SAFE_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,200}$")


def object_name(uid: str) -> str:
    """The file name we give a new event: the UID when it is a safe path segment."""
    if _SAFE_NAME.match(uid) and "@" not in uid:
        return f"{uid}.ics"
    # '@' and other characters are spelled differently by servers (%40 vs @): avoid them.
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", uid)[:120]
    digest = hashlib.sha256(uid.encode()).hexdigest()[:12]
    return f"{cleaned}-{digest}.ics"


def alternate_name(uid: str) -> str:
    """Where a new event goes when its own name is taken by an event that is not ours."""
    return object_name(uid).removesuffix(".ics") + "-2.ics"


_UID = re.compile(rb"^UID(?:;[^:\r\n]*)?:([^\r\n]+?)\r?$", re.M)


def uid_in(data: bytes) -> str | None:
    """The UID of the first component in iCalendar `data`, ours or not (None if none)."""
    unfolded = re.sub(rb"\r?\n[ \t]", b"", data)
    found = _UID.search(unfolded)
    return found.group(1).decode("utf-8", errors="replace").strip() if found else None
