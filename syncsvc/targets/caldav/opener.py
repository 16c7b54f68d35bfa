"""Open a CalDAV calendar from the configuration: its server's HTTP session and the target.
The registry's entry point for `target = "caldav"`."""

from __future__ import annotations

from urllib.parse import quote, urljoin

from syncsvc.domain.errors import TargetError
from syncsvc.settings import Settings
from syncsvc.state.base import TargetState
from syncsvc.targets.base import Target, TargetStats
from syncsvc.targets.caldav import target as target_mod
from syncsvc.targets.caldav.config import CalDAVCalendar
from syncsvc.targets.caldav.http import DavHttp


def open_target(calendar: CalDAVCalendar, settings: Settings, state: TargetState) -> Target:
    server = settings.servers.get(calendar.server)
    if server is None:
        raise TargetError(f"unknown server {calendar.server!r}", calendar=calendar.name)
    ca_bundle = str(settings.resolve(server.ca_bundle)) if server.ca_bundle else None
    http = DavHttp(
        server=server,
        stats=TargetStats(),
        calendar=calendar.name,
        policy=target_mod.RETRY_POLICY,  # read late: tests swap it
        ca_bundle=ca_bundle,
    )
    url = urljoin(http.base_url, quote(calendar.url, safe="/:@%?=&~+"))
    return target_mod.CalDAVTarget(
        name=calendar.name,
        http=http,
        calendar_url=url,
        state=state,
        create_missing=server.create_calendars,
        displayname=calendar.display_name,
        color=calendar.color,
        in_flight=server.max_in_flight,
    )
