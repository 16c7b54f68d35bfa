"""The public feed file, written from the feed calendar's desired events."""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from syncsvc.atomic import write_atomic
from syncsvc.domain.events import DesiredEvent
from syncsvc.pipeline.ical import calendar_to_ical
from syncsvc.settings import Settings

log = structlog.get_logger(__name__)

_STAMP = re.compile(rb"^DTSTAMP[:;].*$", re.MULTILINE)


def write_feed(
    settings: Settings, desired: Mapping[str, list[DesiredEvent]], *, now: datetime
) -> Path | None:
    """Write the public feed file from the feed calendar's desired events.

    The file is rewritten only when something other than DTSTAMP changed, so an unchanged
    plan leaves it (and the HTTP ETag derived from it) exactly as it was."""
    feed = settings.feed
    public = {c.name for c in settings.calendars if c.audience == "public"}
    if not feed.calendar or feed.calendar not in desired or feed.calendar not in public:
        if feed.calendar:
            # Person calendars are staff calendars: never published, whatever the name says.
            log.warning("feed.skipped", reason=f"no public calendar named {feed.calendar!r}")
        return None
    path = settings.data_path(feed.path)
    base = settings.http.public_base_url
    data = calendar_to_ical(
        desired[feed.calendar],
        name=feed.title,
        stamp=now,
        refresh=timedelta(minutes=feed.refresh_minutes),
        url=f"{base.rstrip('/')}{feed.url_path}" if base else None,
        timezone=settings.plan.timezone,
    )
    with suppress(FileNotFoundError):
        if _STAMP.sub(b"", path.read_bytes()) == _STAMP.sub(b"", data):
            return path
    write_atomic(path, data)
    log.info("feed.written", path=str(path), events=len(desired[feed.calendar]))
    return path
