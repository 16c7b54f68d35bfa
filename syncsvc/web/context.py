"""What the web handlers read: settings, metrics, the state store, the feed file, the clock.

The daemon fills a `WebContext`; tests build one by hand. Nothing here writes calendars.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from syncsvc.settings import Settings
from syncsvc.state.sqlite import SqliteState
from syncsvc.web.agenda import AgendaLinks, parse_feed, render_agenda, upcoming
from syncsvc.web.feed import FeedFile, FeedSnapshot
from syncsvc.web.metrics import Metrics


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    word: str  # what /readyz prints: ready, starting, stale, partial, failed, refused, ...
    detail: str  # for /admin/status only: may name paths and errors


@dataclass
class WebContext:
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    store: SqliteState | None = None
    # Admin "sync now": returns a JSON-able description (queued, running, ...).
    trigger: Callable[[str], dict[str, Any]] | None = None
    # Readiness: the last real run must be ok and no older than this.
    ready_within: timedelta = timedelta(minutes=30)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sync_status: Callable[[], dict[str, Any]] | None = None
    feed: FeedFile = field(init=False)
    port: int = field(init=False, default=0)  # the bound port, set by make_server

    def __post_init__(self) -> None:
        self.feed = FeedFile(self.settings.data_path(self.settings.feed.path))
        self._agenda_cache: tuple[tuple[str, str], bytes] | None = None
        self._agenda_lock = threading.Lock()

    @property
    def admin_token(self) -> str | None:
        token = self.settings.http.admin_token
        value = token.get_secret_value() if token else ""
        return value or None

    def readiness(self) -> Readiness:
        if self.store is None:
            return Readiness(False, "no-state", "no state store")
        last = self.store.last_run(include_dry_runs=False)
        if last is None:
            return Readiness(False, "starting", "no sync has run yet")
        if last["outcome"] != "ok":
            error = last.get("error") or "see /admin/status"
            return Readiness(False, str(last["outcome"]), f"last sync {last['outcome']}: {error}")
        finished = datetime.fromisoformat(last["finished"] or last["started"])
        age = self.clock() - finished
        if age > self.ready_within:
            return Readiness(
                False, "stale", f"last successful sync is {int(age.total_seconds())}s old"
            )
        return Readiness(True, "ready", f"last sync ok at {finished.isoformat()}")

    def links(self) -> AgendaLinks:
        """Subscribe and download links: absolute from `public_base_url`, else relative (and
        no webcal link, which needs a host). The request's Host never reaches the page."""
        url_path = self.settings.feed.url_path
        base = self.settings.http.public_base_url
        if not base:
            return AgendaLinks(None, url_path)
        parts = urlsplit(base.rstrip("/"))
        download = f"{parts.scheme}://{parts.netloc}{parts.path}{url_path}"
        return AgendaLinks(f"webcal://{parts.netloc}{parts.path}{url_path}", download)

    def agenda(self, snapshot: FeedSnapshot) -> bytes:
        zone = ZoneInfo(self.settings.plan.timezone)
        now = self.clock().astimezone(zone)
        # Cached per feed version and minute: re-parsing per request is wasted work.
        key = (snapshot.etag, now.strftime("%Y%m%d%H%M"))
        with self._agenda_lock:
            if self._agenda_cache and self._agenda_cache[0] == key:
                return self._agenda_cache[1]
        events = upcoming(parse_feed(snapshot.body, zone), now)
        page = render_agenda(
            events,
            title=self.settings.feed.title,
            links=self.links(),
            today=now.date(),
            updated=snapshot.last_modified.astimezone(zone),
        ).encode()
        with self._agenda_lock:
            self._agenda_cache = (key, page)
        return page
