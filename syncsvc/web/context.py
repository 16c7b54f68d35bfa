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

from syncsvc.domain.changes import RunOutcome
from syncsvc.settings import Settings
from syncsvc.state.records import SyncStatus, TriggerResult
from syncsvc.state.sqlite import SqliteState
from syncsvc.web.agenda import AgendaEvent, parse_feed
from syncsvc.web.feed import FeedFile, FeedSnapshot
from syncsvc.web.metrics import Metrics
from syncsvc.web.public_data import parse_month, select
from syncsvc.web.public_page import PageLinks, page

_PAGE_CACHE = 64  # rendered pages kept (views x embed) before the cache starts over


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
    # Admin "sync now": what the trigger did (queued, coalesced, refused).
    trigger: Callable[[str], TriggerResult] | None = None
    # Readiness: the last real run must be ok and no older than this.
    ready_within: timedelta = timedelta(minutes=30)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sync_status: Callable[[], SyncStatus] | None = None
    # The admin page's "pending changes": a dry run's RunReport.to_dict(), computed on demand.
    preview: Callable[[], dict[str, Any]] | None = None
    feed: FeedFile = field(init=False)
    port: int = field(init=False, default=0)  # the bound port, set by make_server

    def __post_init__(self) -> None:
        self.feed = FeedFile(self.settings.data_path(self.settings.feed.path))
        self._parsed: tuple[str, list[AgendaEvent]] | None = None
        self._pages: dict[tuple[str, str, str, bool], bytes] = {}
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
        if last.outcome is not RunOutcome.OK:
            error = last.error or "see /admin/status"
            outcome = last.outcome.value
            return Readiness(False, outcome, f"last sync {outcome}: {error}")
        finished = last.finished or last.started
        age = self.clock() - finished
        if age > self.ready_within:
            return Readiness(
                False, "stale", f"last successful sync is {int(age.total_seconds())}s old"
            )
        return Readiness(True, "ready", f"last sync ok at {finished.isoformat()}")

    def links(self) -> PageLinks:
        """The page's links: absolute from `public_base_url`, else relative (and no webcal
        link, which needs a host). The request's Host never reaches the page."""
        url_path, events = self.settings.feed.url_path, self.event_path_prefix()
        base = self.settings.http.public_base_url
        if not base:
            return PageLinks("/", url_path, None, events)
        parts = urlsplit(base.rstrip("/"))
        root = f"{parts.scheme}://{parts.netloc}{parts.path}"
        return PageLinks(
            f"{root}/",
            f"{root}{url_path}",
            f"webcal://{parts.netloc}{parts.path}{url_path}",
            f"{root}{events}",
        )

    def event_path_prefix(self) -> str:
        """Where single-event files are served: /hva-skjer/<anchor>.ics for /hva-skjer.ics."""
        url_path = self.settings.feed.url_path
        stem = url_path[: -len(".ics")] if url_path.endswith(".ics") else url_path.rstrip("/")
        return f"{stem}/"

    def _events(self, snapshot: FeedSnapshot, zone: ZoneInfo) -> list[AgendaEvent]:
        # Parsed once per feed version: every page view and month reads the same list.
        with self._agenda_lock:
            if self._parsed is not None and self._parsed[0] == snapshot.etag:
                return self._parsed[1]
        events = parse_feed(snapshot.body, zone)
        with self._agenda_lock:
            self._parsed = (snapshot.etag, events)
        return events

    def agenda(
        self, snapshot: FeedSnapshot, *, month: str | None = None, embed: bool = False
    ) -> bytes:
        """The "Hva skjer" page (upcoming, or one month with `month` = "2024-10")."""
        zone = ZoneInfo(self.settings.plan.timezone)
        now = self.clock().astimezone(zone)
        chosen = parse_month(month)
        # Cached per feed version, minute and view: rendering per request is wasted work.
        key = (snapshot.etag, now.strftime("%Y%m%d%H%M"), str(chosen), embed)
        with self._agenda_lock:
            cached = self._pages.get(key)
            if cached is not None:
                return cached
        view = select(self._events(snapshot, zone), now, chosen)
        body = page(
            view,
            title=self.settings.feed.title,
            links=self.links(),
            now=now,
            embed=embed,
            updated=snapshot.last_modified.astimezone(zone),
        ).encode()
        with self._agenda_lock:
            if len(self._pages) >= _PAGE_CACHE:
                self._pages.clear()  # a new minute or feed: the old entries are stale anyway
            self._pages[key] = body
        return body
