"""IANA <-> Windows time zone names for Microsoft Graph.

Graph's `dateTimeTimeZone` and the `Prefer: outlook.timezone` header want Windows names
("W. Europe Standard Time"). The mapping is CLDR's windowsZones table as shipped by the
`tzlocal` package (`tzlocal.windows_tz`, regenerated from CLDR on each tzlocal release), not a
hand-written list.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

from syncsvc.domain.errors import TargetError


def windows_zone(iana: str) -> str:
    """The Windows name Graph uses for an IANA zone, e.g. Europe/Oslo -> W. Europe Standard Time."""
    name = tz_win.get(iana)
    if name is None:
        raise TargetError(f"time zone {iana!r} has no Windows equivalent in CLDR's windowsZones")
    return name


@cache
def zone_from_graph(name: str) -> ZoneInfo:
    """The zone a Graph `timeZone` value names: a Windows name, or (rarely) an IANA name."""
    iana = win_tz.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        raise TargetError(f"unknown time zone from Graph: {name!r}") from None
