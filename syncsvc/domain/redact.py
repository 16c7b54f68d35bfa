"""Secrets in locations: a plan URL may carry user info or a token in its query.

Only the request itself uses the full URL; everything stored, printed, logged or served
uses `public_location`, and the secret parts go to the log redactor (`url_secrets`).
Pure string work (RFC 3986's generic syntax), so the core can use it.
"""

from __future__ import annotations

import re

_URL = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?$",
    re.DOTALL,
)
_ESCAPE = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _unquote(text: str) -> str:
    return _ESCAPE.sub(
        lambda m: bytes.fromhex(m.group().replace("%", "")).decode(errors="replace"), text
    )


def public_location(location: str) -> str:
    """`location` without user info, query and fragment; a path is returned as it is."""
    if "://" not in location:
        return location
    m = _URL.match(location.strip())
    if m is None:  # not a URL we can take apart: keep only what cannot hold a secret
        return location.split("://", 1)[0] + "://…"
    host = m["authority"].rsplit("@", 1)[-1]
    return f"{m['scheme']}://{host}{m['path']}"


def url_secrets(location: str) -> list[str]:
    """The parts of `location` that must never be shown: user, password, query values."""
    if "://" not in location:
        return []
    m = _URL.match(location.strip())
    if m is None:
        return [location]
    found: list[str] = []
    authority = m["authority"]
    if "@" in authority:
        userinfo = authority.rsplit("@", 1)[0]
        found += [userinfo, *userinfo.split(":", 1)]
    if m["query"]:
        found.append(m["query"])
        for pair in m["query"].split("&"):
            found.append(pair.split("=", 1)[-1])
    if m["fragment"]:
        found.append(m["fragment"])
    found += [_unquote(s) for s in found]
    # Longest first so a redactor masks the whole secret, not a prefix of it.
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def document_name(location: str) -> str:
    """The document's own name (last path segment), for "Kilde" lines and titles."""
    if "://" in location:
        m = _URL.match(location.strip())
        path = m["path"] if m is not None else ""
    else:
        path = location
    name = _unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return name or public_location(location)
