"""The CalDAV target: one calendar collection on a CalDAV server.

Reads are incremental: an RFC 6578 sync-collection with the token kept in TargetState, then
one calendar-multiget for the objects that changed, so an unchanged calendar costs one
request. Servers without sync tokens get an etag listing (PROPFIND depth 1) and we fetch only
new or changed hrefs. Writes are conditional and send the exact bytes of `event_to_ical`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit

from syncsvc.domain.errors import ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.pipeline.ical import event_to_ical, observe_ical
from syncsvc.settings import Settings
from syncsvc.state.base import TargetState
from syncsvc.targets.base import Target, TargetStats
from syncsvc.targets.caldav import http as http_mod
from syncsvc.targets.caldav import xml as xml
from syncsvc.targets.caldav.config import CalDAVCalendar
from syncsvc.targets.caldav.http import DavHttp, Reply, RetryPolicy

MULTIGET_BATCH = 100
_MAX_SYNC_ROUNDS = 50  # truncated sync replies (RFC 6578 3.6) we follow before giving up
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,200}$")
_ICAL = {"Content-Type": "text/calendar; charset=utf-8"}
# Uncompressed: Cyrus gives a compressed reply a weak ETag, which no If-Match can match.
_GET = {"Accept": "text/calendar", "Accept-Encoding": "identity"}


def object_name(uid: str) -> str:
    """The file name we give a new event: the UID when it is a safe path segment."""
    if _SAFE_NAME.match(uid) and "@" not in uid:
        return f"{uid}.ics"
    # '@' and other characters are spelled differently by servers (%40 vs @): avoid them.
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", uid)[:120]
    digest = hashlib.sha256(uid.encode()).hexdigest()[:12]
    return f"{cleaned}-{digest}.ics"


class _CalendarMissing(Exception):
    """The calendar collection answered 404."""


class CalDAVTarget:
    """Target protocol over one calendar collection; memory lives in TargetState."""

    def __init__(
        self,
        *,
        name: str,
        http: DavHttp,
        calendar_url: str,
        state: TargetState,
        use_sync_collection: bool = True,
        create_missing: bool = False,
        displayname: str | None = None,
    ) -> None:
        self.name = name
        self._create_missing = create_missing
        self._displayname = displayname or name
        self._missing = False  # the collection does not exist (yet): made on the first write
        self.stats: TargetStats = http.stats
        self._http = http
        url = http.absolute(calendar_url)
        self._url = url if url.endswith("/") else url + "/"
        self._path = urlsplit(self._url).path
        self._state = state
        self._token = state.get_token(name)
        # Owned events by href key, and their keys by UID (so a write costs O(1), not a scan).
        self._known: dict[str, ObservedEvent] = {}
        self._keys_by_uid: dict[str, set[str]] = {}
        for event in state.get_events(name).values():
            self._put(xml.href_key(event.remote_id), event)
        self._use_sync = use_sync_collection
        self._dirty = False  # we wrote since the last sync-collection
        self._observed = False

    # --- reading ------------------------------------------------------------------------

    def observe(self) -> Mapping[str, ObservedEvent]:
        try:
            listing = self._sync(self._token) if self._use_sync else None
            if listing is None:
                listing = self._etag_listing()
        except _CalendarMissing:
            if not self._create_missing:
                raise TargetError(f"calendar not found: {self._url}", calendar=self.name) from None
            # Created on the first write, so a dry run leaves the server as it was.
            self._missing = True
            self.stats.notes.append("calendar does not exist yet: created on the first write")
            listing = ([], set(), True)
        changed, gone, complete = listing
        if complete:
            present = {xml.href_key(e.href) for e in changed}
            gone |= {key for key in self._known if key not in present}
        for key in gone:
            self._drop(key)
        stale = [e.href for e in changed if e.etag is None or self._known_etag(e.href) != e.etag]
        self._fetch(stale)
        self._observed = True
        return self._by_uid()

    def observe_one(self, uid: str) -> ObservedEvent | None:
        keys = self._keys_by_uid.get(uid)
        href = self._known[min(keys)].remote_id if keys else None
        href = href or self._path + object_name(uid)
        reply = self._http.request("GET", href, headers=_GET)
        if reply.status == 200:
            event = observe_ical(reply.content, remote_id=href, etag=reply.etag)
            if event is not None and event.uid == uid:
                self._remember(event)
                return event
        elif reply.status != 404:
            raise self._rejected("GET", uid, reply)
        # Not at the href we expected: someone else may have stored it under another name.
        found = self._query_uid(uid)
        if found is None:
            self._forget_uid(uid)
        return found

    # --- writing ------------------------------------------------------------------------

    def create(self, event: DesiredEvent) -> ObservedEvent:
        if self._missing:
            self._make_calendar()
        href = self._path + object_name(event.uid)
        data = event_to_ical(event, sequence=0, stamp=datetime.now(UTC))

        def already_there() -> Reply | None:
            # The first PUT may have arrived although its answer was lost: look before resending.
            check = self._http.request("GET", href, headers=_GET)
            if check.status != 200:
                return None
            found = observe_ical(check.content, remote_id=href, etag=check.etag)
            if (
                found is not None
                and found.uid == event.uid
                and found.actual_hash == (event.content_hash)
            ):
                return check
            return None

        headers = {**_ICAL, "If-None-Match": "*"}
        reply = self._http.request("PUT", href, body=data, headers=headers, recover=already_there)
        if reply.status == 412:
            raise ConflictError(f"event {event.uid} exists already ({href})", calendar=self.name)
        if reply.status not in (200, 201, 204):
            raise self._rejected("PUT", event.uid, reply)
        return self._written(href, event, 0, reply.etag)

    def update(self, old: ObservedEvent, event: DesiredEvent, sequence: int) -> ObservedEvent:
        if not old.etag:
            raise ConflictError(f"event {old.uid}: no etag to update against", calendar=self.name)
        data = event_to_ical(event, sequence=sequence, stamp=datetime.now(UTC))
        headers = {**_ICAL, "If-Match": old.etag}
        reply = self._http.request("PUT", old.remote_id, body=data, headers=headers)
        if reply.status in (404, 412):
            raise ConflictError(f"event {old.uid} changed on the server", calendar=self.name)
        if reply.status not in (200, 201, 204):
            raise self._rejected("PUT", old.uid, reply)
        return self._written(old.remote_id, event, sequence, reply.etag)

    def delete(self, old: ObservedEvent) -> None:
        headers = {"If-Match": old.etag} if old.etag else {}
        reply = self._http.request("DELETE", old.remote_id, headers=headers)
        if reply.status == 412:
            raise ConflictError(f"event {old.uid} changed on the server", calendar=self.name)
        if reply.status not in (200, 204, 404):  # 404: somebody deleted it already
            raise self._rejected("DELETE", old.uid, reply)
        self._drop(xml.href_key(old.remote_id))
        self._dirty = True

    def close(self) -> None:
        """Advance the sync token past our own writes, save memory, close the session.

        Bookkeeping only: if the closing sync-collection fails, every write stays as made;
        the old token is kept (and saved), so the next run lists our writes again, knows them
        by their etags, and still sees any edit made meanwhile. Raises after saving."""
        failure: TargetError | None = None
        try:
            if self._dirty and self._use_sync and self._token:
                before = self._token
                try:
                    self._advance_token()
                except TargetError as err:
                    self._token = before
                    failure = TargetError(
                        f"the closing sync-collection failed ({err.message}); the next run "
                        "reads from the previous sync token",
                        calendar=self.name,
                    )
            if self._observed:
                self._state.save(self.name, self._token, self._by_uid())
        finally:
            self._http.close()
        if failure is not None:
            raise failure

    # --- internals ----------------------------------------------------------------------

    def _collection(self, method: str, body: bytes, *, depth: str | None = None) -> Reply:
        """A request on the calendar collection itself. When the server has moved it for good
        (301/308, as Cyrus does for a calendar shared with us), the rest of the run uses the
        new address directly instead of paying a redirect per request."""
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        if depth is not None:
            headers["Depth"] = depth
        return self._follow(self._http.request(method, self._url, body=body, headers=headers))

    def _follow(self, reply: Reply) -> Reply:
        if reply.moved and reply.url != self._url:
            self._url = reply.url if reply.url.endswith("/") else reply.url + "/"
            self._path = urlsplit(self._url).path
        return reply

    def _make_calendar(self) -> None:
        reply = self._collection("MKCALENDAR", xml.mkcalendar(self._displayname))
        # 405: it exists after all (made meanwhile by someone else); fine.
        if reply.status not in (200, 201, 405):
            raise TargetError(
                f"cannot create calendar {self._url} (HTTP {reply.status})", calendar=self.name
            )
        self._missing = False
        self.stats.notes.append(f"created calendar {self._url}")

    def _sync(self, token: str | None) -> tuple[list[xml.Entry], set[str], bool] | None:
        """(changed entries, gone keys, complete listing?) via sync-collection; None when the
        server has no sync-collection (the caller falls back to an etag listing)."""
        changed: list[xml.Entry] = []
        gone: set[str] = set()
        complete = not token
        for _ in range(_MAX_SYNC_ROUNDS):
            reply, status = self._multistatus("REPORT", xml.sync_collection(token), depth="0")
            if reply.status == 404:
                raise _CalendarMissing
            if status is None:
                if token and reply.status in (400, 403, 409, 410, 412):
                    # RFC 6578 3.2: the token expired or is unknown (403 valid-sync-token; Xandikos
                    # says 412); start over from nothing.
                    self.stats.notes.append("sync token rejected: full resync")
                    token, changed, gone, complete = None, [], set(), True
                    continue
                self._use_sync = False
                self.stats.notes.append(f"sync-collection refused (HTTP {reply.status})")
                return None
            for entry in status.entries:
                if entry.gone:
                    gone.add(xml.href_key(entry.href))
                elif entry.href.endswith("/"):
                    continue  # a sub-collection, not an event
                else:
                    gone.discard(xml.href_key(entry.href))
                    changed.append(entry)
            if status.sync_token is None:
                self._use_sync = False
                self.stats.notes.append("server sent no sync token")
                return None
            token = status.sync_token
            if not status.truncated:
                self._token = token
                return changed, gone, complete
        raise TargetError("sync-collection did not finish", calendar=self.name)

    def _etag_listing(self) -> tuple[list[xml.Entry], set[str], bool]:
        note = "no sync-token support: etag listing"
        if note not in self.stats.notes:
            self.stats.notes.append(note)
        reply, listing = self._multistatus("PROPFIND", xml.propfind_etags(), depth="1")
        if reply.status == 404:
            raise _CalendarMissing
        if listing is None:
            raise self._rejected("PROPFIND", "calendar", reply)
        entries = [e for e in listing.entries if not e.href.endswith("/")]
        self._token = None
        return entries, set(), True

    def _advance_token(self) -> None:
        result = self._sync(self._token)
        if result is None:
            return
        changed, gone, _ = result
        for key in gone:
            self._drop(key)
        # Our own writes come back with the etags we recorded; anything else changed meanwhile.
        self._fetch([e.href for e in changed if self._known_etag(e.href) != e.etag])
        self._dirty = False

    def _fetch(self, hrefs: list[str]) -> None:
        """calendar-multiget `hrefs` (in batches); keep the ones that are ours."""
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            batch = hrefs[start : start + MULTIGET_BATCH]
            reply, found = self._multistatus("REPORT", xml.multiget(batch), depth="1")
            if found is None:
                raise self._rejected("REPORT calendar-multiget", "calendar", reply)
            for entry in found.entries:
                key = xml.href_key(entry.href)
                event = (
                    observe_ical(entry.data, remote_id=entry.href, etag=entry.etag)
                    if entry.data is not None and not entry.gone
                    else None
                )
                if event is None:
                    self._drop(key)  # gone, or not ours (any more)
                else:
                    self._put(key, event)

    def _query_uid(self, uid: str) -> ObservedEvent | None:
        _, found = self._multistatus("REPORT", xml.query_uid(uid), depth="1")
        if found is None:
            return None
        for entry in found.entries:
            if entry.data is None:
                continue
            event = observe_ical(entry.data, remote_id=entry.href, etag=entry.etag)
            if event is not None and event.uid == uid:
                self._remember(event)
                return event
        return None

    def _written(
        self, href: str, event: DesiredEvent, sequence: int, etag: str | None
    ) -> ObservedEvent:
        if etag is None:
            # Some servers omit the ETag when they rewrite what we sent: read it back once.
            # The write is done either way; without an etag the next write re-reads first.
            try:
                check = self._http.request("GET", href, headers=_GET)
                etag = check.etag if check.status == 200 else None
            except TargetError as err:
                self.stats.notes.append(f"no etag for {href} after writing it: {err.message}")
        # What we just wrote is what we rendered: no need to parse our own bytes again.
        observed = event.written(href, etag, sequence)
        self._remember(observed)
        self._dirty = True
        return observed

    def _remember(self, event: ObservedEvent) -> None:
        self._forget_uid(event.uid)
        self._put(xml.href_key(event.remote_id), event)

    def _forget_uid(self, uid: str) -> None:
        for key in list(self._keys_by_uid.get(uid, ())):
            self._drop(key)

    def _put(self, key: str, event: ObservedEvent) -> None:
        self._drop(key)
        self._known[key] = event
        self._keys_by_uid.setdefault(event.uid, set()).add(key)

    def _drop(self, key: str) -> None:
        event = self._known.pop(key, None)
        if event is not None:
            keys = self._keys_by_uid.get(event.uid)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_by_uid[event.uid]

    def _known_etag(self, href: str) -> str | None:
        known = self._known.get(xml.href_key(href))
        return known.etag if known else None

    def _by_uid(self) -> dict[str, ObservedEvent]:
        result: dict[str, ObservedEvent] = {}
        for event in sorted(self._known.values(), key=lambda e: e.remote_id):
            if event.uid in result:
                self.stats.notes.append(
                    f"UID {event.uid} found twice; using {result[event.uid].remote_id}"
                )
                continue
            result[event.uid] = event
        return result

    def _multistatus(
        self, method: str, body: bytes, *, depth: str
    ) -> tuple[Reply, xml.Multistatus | None]:
        """A read-only DAV request; its 207 body parsed (None for any other status). A body
        that does not parse (cut short, not XML) is retried within the request's budget."""

        def read(reply: Reply) -> tuple[Reply, xml.Multistatus | None]:
            if reply.status != 207:
                return reply, None
            # Hrefs are relative to where the answer came from (a moved collection).
            path = urlsplit(reply.url).path if reply.moved else self._path
            try:
                return reply, xml.parse(reply.content, path)
            except ValueError as err:
                raise http_mod.UnreadableReply(str(err)) from None

        headers = {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}
        reply, found = self._http.exchange(method, self._url, read, body=body, headers=headers)
        return self._follow(reply), found

    def _rejected(self, method: str, what: str, reply: Reply) -> TargetError:
        return TargetError(
            f"{self._http.base_url} rejected {method} for {what}: HTTP {reply.status}",
            calendar=self.name,
        )


# Tests swap this for a policy with an injected sleep.
RETRY_POLICY: RetryPolicy = http_mod.DEFAULT_POLICY


def open_target(calendar: CalDAVCalendar, settings: Settings, state: TargetState) -> Target:
    server = settings.servers.get(calendar.server)
    if server is None:
        raise TargetError(f"unknown server {calendar.server!r}", calendar=calendar.name)
    ca_bundle = str(settings.resolve(server.ca_bundle)) if server.ca_bundle else None
    http = DavHttp(
        server=server,
        stats=TargetStats(),
        calendar=calendar.name,
        policy=RETRY_POLICY,
        ca_bundle=ca_bundle,
    )
    url = urljoin(http.base_url, quote(calendar.url, safe="/:@%?=&~+"))
    return CalDAVTarget(
        name=calendar.name,
        http=http,
        calendar_url=url,
        state=state,
        create_missing=server.create_calendars,
        displayname=calendar.name,
    )
