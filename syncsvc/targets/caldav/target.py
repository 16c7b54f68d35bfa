"""The CalDAV target: one calendar collection on a CalDAV server.

Reads are incremental: a PROPFIND of the collection's identity and sync token (an unchanged
calendar costs that one request), else an RFC 6578 sync-collection from the token kept in
TargetState and one calendar-multiget of everything it lists as changed: content, not an
ETag, says whose an object is. Servers without sync tokens get an etag listing (PROPFIND
depth 1). Writes are conditional, send the exact bytes of `event_to_ical`, and never replace
an object we have not seen to be ours in this run. What is remembered between runs and why
it is checked rather than trusted: `cursor`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

from syncsvc.domain.errors import ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.pipeline.ical import event_to_ical, observe_ical
from syncsvc.state.base import TargetState
from syncsvc.targets.base import TargetStats
from syncsvc.targets.caldav import cursor as cursor_mod
from syncsvc.targets.caldav import http as http_mod
from syncsvc.targets.caldav import messages
from syncsvc.targets.caldav import xml as xml
from syncsvc.targets.caldav.http import DavHttp, Reply
from syncsvc.targets.caldav.memory import Holdings
from syncsvc.targets.caldav.names import alternate_name, object_name, uid_in
from syncsvc.targets.retry import RetryPolicy

MULTIGET_BATCH = 100
_MAX_SYNC_ROUNDS = 50  # truncated sync replies (RFC 6578 3.6) we follow before giving up
_ICAL = {"Content-Type": "text/calendar; charset=utf-8"}
# Uncompressed: Cyrus gives a compressed reply a weak ETag, which no If-Match can match.
_GET = {"Accept": "text/calendar", "Accept-Encoding": "identity"}


class _CalendarMissing(Exception):
    """The calendar collection answered 404."""


T = TypeVar("T")
# (changed entries, gone keys, complete listing?)
Listing = tuple[list[xml.Entry], set[str], bool]


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
        color: str | None = None,
        in_flight: int = 1,
    ) -> None:
        self.name = name
        # Writes to different events may run at once (engine.apply); Holdings takes a lock.
        self.max_in_flight = in_flight
        self._create_missing = create_missing
        self._displayname = displayname or name
        self._color = color
        self._missing = False  # the collection does not exist (yet): made on the first write
        self.stats: TargetStats = http.stats
        self._http = http
        url = http.absolute(calendar_url)
        self._url = url if url.endswith("/") else url + "/"
        self._path = urlsplit(self._url).path
        self._state = state
        self._cursor = cursor_mod.decode(state.get_token(name))
        self._mem = Holdings()
        for event in state.get_events(name).values():
            self._mem.put(xml.href_key(event.remote_id), event, seen=False)
        self._use_sync = use_sync_collection
        self._dirty = False  # we wrote since the last sync-collection
        self._observed = False

    # --- reading ------------------------------------------------------------------------

    def observe(self) -> Mapping[str, ObservedEvent]:
        try:
            listing = self._listing()
        except _CalendarMissing:
            if not self._create_missing:
                hint = messages.encoded_hint(self._path, 404)
                raise TargetError(
                    f"calendar not found: {self._url}{hint}", calendar=self.name
                ) from None
            # Created on the first write, so a dry run leaves the server as it was.
            self._missing = True
            self.stats.notes.append("calendar does not exist yet: created on the first write")
            listing = ([], set(), True)
        changed, gone, complete = listing
        if complete:
            present = {xml.href_key(e.href) for e in changed}
            gone |= {key for key in self._mem.events if key not in present}
        for key in gone:
            self._mem.drop(key)
        self._check_etags([(xml.href_key(e.href), e.etag) for e in changed])
        if complete and not self._cursor.weak_etags:
            # A full listing: an object we hold at the same href with the same ETag is as we
            # read it (on a server whose ETags have not shown themselves unreliable).
            stale = [e.href for e in changed if e.etag is None or self._mem.etag(e.href) != e.etag]
        else:
            # A change report: read all it lists. An ETag equal to the one we remember does
            # not prove it is the same object (some servers give every new object one ETag).
            stale = [e.href for e in changed]
        self._fetch(stale)
        self._observed = True
        return self._mem.by_uid(self.stats.notes)

    def observe_one(self, uid: str) -> ObservedEvent | None:
        href = self._mem.href_of(uid) or self._path + object_name(uid)
        reply = self._http.request("GET", href, headers=_GET)
        if reply.status == 200:
            event = observe_ical(reply.content, remote_id=href, etag=reply.etag)
            if event is not None and event.uid == uid:
                self._mem.remember(event)
                return event
        elif reply.status != 404:
            raise self._rejected("GET", uid, reply)
        # Not at the href we expected: someone else may have stored it under another name.
        found = self._query_uid(uid)
        if found is None:
            self._mem.forget_uid(uid)
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
        for second in (False, True):
            reply = self._http.request(
                "PUT", href, body=data, headers=headers, recover=already_there
            )
            if second or reply.status != 412 or not self._held_by_someone_else(href, event.uid):
                break
            href = self._path + alternate_name(event.uid)  # a person's event has our name
        if reply.status == 412:
            raise ConflictError(f"event {event.uid} exists already ({href})", calendar=self.name)
        if reply.status not in (200, 201, 204):
            raise self._rejected("PUT", event.uid, reply)
        return self._written(href, event, 0, reply.etag)

    def update(self, old: ObservedEvent, event: DesiredEvent, sequence: int) -> ObservedEvent:
        current = self._current(old)
        if current is None:
            raise ConflictError(f"event {old.uid} was deleted on the server", calendar=self.name)
        if not current.etag:
            raise ConflictError(f"event {old.uid}: no etag to update against", calendar=self.name)
        data = event_to_ical(event, sequence=sequence, stamp=datetime.now(UTC))
        headers = {**_ICAL, "If-Match": current.etag}
        reply = self._http.request("PUT", old.remote_id, body=data, headers=headers)
        if reply.status in (404, 412):
            raise ConflictError(f"event {old.uid} changed on the server", calendar=self.name)
        if reply.status not in (200, 201, 204):
            raise self._rejected("PUT", old.uid, reply)
        return self._written(old.remote_id, event, sequence, reply.etag)

    def delete(self, old: ObservedEvent) -> None:
        current = self._current(old)
        if current is None:
            return  # somebody deleted it already
        headers = {"If-Match": current.etag} if current.etag else {}
        reply = self._http.request("DELETE", old.remote_id, headers=headers)
        if reply.status == 412:
            raise ConflictError(f"event {old.uid} changed on the server", calendar=self.name)
        if reply.status not in (200, 204, 404):  # 404: somebody deleted it already
            raise self._rejected("DELETE", old.uid, reply)
        self._mem.drop(xml.href_key(old.remote_id))
        self._dirty = True

    def close(self) -> None:
        """Advance the sync token past our own writes, save memory, close the session.

        Bookkeeping only: if the closing sync-collection fails, every write stays as made;
        the old token is kept (and saved), so the next run lists our writes again, reads
        them, and still sees any edit made meanwhile. Raises after saving."""
        failure: TargetError | None = None
        try:
            if self._dirty and self._use_sync and self._cursor.token:
                before = self._cursor
                try:
                    self._advance_token()
                except TargetError as err:
                    self._cursor = before
                    failure = TargetError(
                        f"the closing sync-collection failed ({err.message}); the next run "
                        "reads from the previous sync token",
                        calendar=self.name,
                    )
            if self._observed:
                self._state.save(
                    self.name, self._cursor.encode(), self._mem.by_uid(self.stats.notes)
                )
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

    def ensure_calendar(self) -> None:
        """Create the missing collection (when allowed) even with nothing to write into it."""
        if self._missing:
            self._make_calendar()

    def _make_calendar(self) -> None:
        reply = self._collection("MKCALENDAR", xml.mkcalendar(self._displayname, self._color))
        # It exists after all (made meanwhile by someone else): 405, or Cyrus's 403 naming
        # DAV:resource-must-be-null. Fine.
        named = xml.precondition(reply.content) or ("", None)
        there = reply.status == 405 or named[0] == "DAV:resource-must-be-null"
        if reply.status not in (200, 201) and not there:
            raise self._rejected("MKCALENDAR", f"calendar {self._url}", reply)
        self._missing = False
        self.stats.notes.append(f"{'found' if there else 'created'} calendar {self._url}")

    def _listing(self) -> Listing:
        """What changed since the last run, checking the server's sync promise on the way."""
        if self._use_sync:
            props = self._probe()
            known = (props.identity, props.sync_token) if props else (None, None)
            plan = cursor_mod.plan_read(self._cursor, *known)
            self._cursor = plan.cursor
            if plan.note:
                self.stats.notes.append(plan.note)
            if plan.unchanged:
                return [], set(), False
            result = self._sync(plan.start)
            if result is not None:
                changed, gone, complete, token = result
                self._cursor = (
                    self._cursor.after_full_listing(token)
                    if complete
                    else self._cursor.after_token_run(token)
                )
                return changed, gone, complete
        return self._etag_listing()

    def _probe(self) -> xml.CollectionProps | None:
        """The collection's identity and sync token, when the server tells them."""
        if not self._cursor.probe:
            return None
        body = xml.propfind_collection()
        reply, props = self._read("PROPFIND", body, "0", xml.collection_props)
        if reply.status == 404:
            raise _CalendarMissing
        if props is None or (props.identity is None and props.sync_token is None):
            # Nothing to learn here: skip this request on later runs.
            self._cursor = replace(self._cursor, probe=False)
            return None
        return props

    def _sync(self, token: str | None) -> tuple[list[xml.Entry], set[str], bool, str] | None:
        """(changed entries, gone keys, complete listing?, new token) via sync-collection;
        None when the server has no sync-collection (the caller falls back to a listing)."""
        changed: list[xml.Entry] = []
        gone: set[str] = set()
        complete = not token
        for _ in range(_MAX_SYNC_ROUNDS):
            reply, status = self._read("REPORT", xml.sync_collection(token), "0", xml.parse)
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
                return changed, gone, complete, token
        raise TargetError("sync-collection did not finish", calendar=self.name)

    def _etag_listing(self) -> tuple[list[xml.Entry], set[str], bool]:
        note = "no sync-token support: etag listing"
        if note not in self.stats.notes:
            self.stats.notes.append(note)
        reply, listing = self._read("PROPFIND", xml.propfind_etags(), "1", xml.parse)
        if reply.status == 404:
            raise _CalendarMissing
        if listing is None:
            raise self._rejected("PROPFIND", "calendar", reply)
        entries = [e for e in listing.entries if not e.href.endswith("/")]
        self._cursor = self._cursor.after_full_listing(None)
        return entries, set(), True

    def _advance_token(self) -> None:
        result = self._sync(self._cursor.token)
        if result is None:
            return
        changed, gone, _, token = result
        self._cursor = replace(self._cursor, token=token)
        for key in gone:
            self._mem.drop(key)
        self._check_etags([(xml.href_key(e.href), e.etag) for e in changed])
        # Our own writes come back with the etags we recorded; anything else changed meanwhile
        # (and everything, where ETags cannot be told apart).
        weak = self._cursor.weak_etags
        self._fetch([e.href for e in changed if weak or self._mem.etag(e.href) != e.etag])
        self._dirty = False

    def _check_etags(self, entries: list[tuple[str, str | None]]) -> None:
        ours = [(key, e.etag) for key, e in self._mem.events.items()]
        if not self._cursor.weak_etags and cursor_mod.etags_unreliable([*ours, *entries]):
            self._cursor = replace(self._cursor, weak_etags=True)
            self.stats.notes.append(
                "the server's ETags do not tell objects apart (weak, or one ETag on different "
                "objects): every change is read by content"
            )

    def _current(self, old: ObservedEvent) -> ObservedEvent | None:
        """`old` if the server still holds it as observed, None if it is gone; ConflictError
        if it changed or is no longer ours. Unless we read or wrote it in this run, it is
        read first: a matching ETag alone does not prove the object is still ours (a person
        may have put their own event at that href, and some servers reuse ETags)."""
        key = xml.href_key(old.remote_id)
        if key in self._mem.seen:
            held = self._mem.events.get(key)
            return old if held is not None and held.uid == old.uid else None
        reply = self._http.request("GET", old.remote_id, headers=_GET)
        if reply.status == 404:
            self._mem.drop(key)
            return None
        if reply.status != 200:
            raise self._rejected("GET", old.uid, reply)
        found = observe_ical(reply.content, remote_id=old.remote_id, etag=reply.etag)
        if found is None or found.uid != old.uid:
            self._mem.drop(key)
            raise ConflictError(
                f"event {old.uid}: {old.remote_id} now holds an event that is not ours; "
                "left untouched",
                calendar=self.name,
            )
        self._mem.put(key, found)
        if found.etag != old.etag or found.actual_hash != old.actual_hash:
            raise ConflictError(f"event {old.uid} changed on the server", calendar=self.name)
        return old

    def _held_by_someone_else(self, href: str, uid: str) -> bool:
        """After a 412 on create: does `href` hold another UID (a person's own event)? Our UID
        there without our marker (a client dropped it) is not ours any more: a conflict."""
        reply = self._http.request("GET", href, headers=_GET)
        found = uid_in(reply.content) if reply.status == 200 else None
        if found == uid and observe_ical(reply.content, remote_id=href) is None:
            raise ConflictError(messages.lost_marker(uid, href), calendar=self.name)
        return found is not None and found != uid

    def _fetch(self, hrefs: list[str]) -> None:
        """calendar-multiget `hrefs` (in batches); keep the ones that are ours."""
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            batch = hrefs[start : start + MULTIGET_BATCH]
            reply, found = self._read("REPORT", xml.multiget(batch), "1", xml.parse)
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
                    self._mem.drop(key)  # gone, or not ours (any more)
                else:
                    self._mem.put(key, event)

    def _query_uid(self, uid: str) -> ObservedEvent | None:
        _, found = self._read("REPORT", xml.query_uid(uid), "1", xml.parse)
        if found is None:
            return None
        for entry in found.entries:
            if entry.data is None:
                continue
            event = observe_ical(entry.data, remote_id=entry.href, etag=entry.etag)
            if event is not None and event.uid == uid:
                self._mem.remember(event)
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
        self._mem.remember(observed)
        self._dirty = True
        return observed

    def _read(
        self, method: str, body: bytes, depth: str, parse: Callable[[bytes, str], T]
    ) -> tuple[Reply, T | None]:
        """A read-only DAV request; its 207 body parsed (None for any other status). A body
        that does not parse (cut short, not XML) is retried within the request's budget."""

        def read(reply: Reply) -> tuple[Reply, T | None]:
            if reply.status != 207:
                return reply, None
            # Hrefs are relative to where the answer came from (a moved collection).
            path = urlsplit(reply.url).path if reply.moved else self._path
            try:
                return reply, parse(reply.content, path)
            except ValueError as err:
                raise http_mod.UnreadableReply(str(err)) from None

        headers = {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}
        reply, found = self._http.exchange(method, self._url, read, body=body, headers=headers)
        return self._follow(reply), found

    def _rejected(self, method: str, what: str, reply: Reply) -> TargetError:
        base, status = self._http.base_url, reply.status
        text = messages.refused(base, method, what, status, reply.content, self._path)
        return TargetError(text, calendar=self.name)


# Tests swap this for a policy with an injected sleep.
RETRY_POLICY: RetryPolicy = http_mod.DEFAULT_POLICY
