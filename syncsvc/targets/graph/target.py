"""Microsoft Graph target: one calendar in an Exchange Online / Microsoft 365 mailbox.

- A calendar is a mailbox (UPN) and optionally a calendar in it by name (resolved to its id).
- Ownership: our events carry two single-value extended properties (see graph_event): the plan
  UID and the content hash. We list with `$filter` on the UID property and touch nothing else;
  updates and deletes are conditional on the `@odata.etag` we observed (412 -> ConflictError).
- Creates carry a `transactionId`, fresh per create call and kept across that call's retries,
  so a create whose reply was lost can be sent again without making a duplicate. Graph has no
  If-None-Match for events: a create is refused (ConflictError) when the UID was seen by the
  last observe, or, if this target has not observed yet, by a one-event lookup first.
- 412 and 409 (`ErrorIrresolvableConflict`) on a write are conflicts: someone else wrote.
- Reminders are ours too: off, or N minutes before (per calendar), sent on every write; an
  event whose reminder differs reads as edited, so the next run puts the setting back.
- Deletes go to the person's Deleted Items (Outlook's own delete) or, with
  `graph.deletes = "permanent"`, are purged (`permanentDelete`).
- No attendees are ever sent, so Exchange never sends an invitation.
- Exchange has no SEQUENCE we can set; ours is kept in a third extended property.
- `create_many` / `delete_many` use `$batch` (the `BulkTarget` protocol below).
"""

from __future__ import annotations

import ipaddress
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from syncsvc.domain.errors import ConfigError, ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, EventContent, ObservedEvent
from syncsvc.targets.base import BulkTarget, Target, TargetStats
from syncsvc.targets.graph import event as ge
from syncsvc.targets.graph.auth import (
    TokenProvider,
    client_credentials_tokens,
    msal_tokens,
    scope_for,
)
from syncsvc.targets.graph.client import (
    GraphClient,
    SubRequest,
    SubResponse,
    brief,
    error_text,
    is_conflict,
    slots_for,
)
from syncsvc.targets.graph.tz import windows_zone
from syncsvc.targets.retry import RetryPolicy

if TYPE_CHECKING:
    from syncsvc.settings import Settings
    from syncsvc.state.base import TargetState
    from syncsvc.targets.graph.config import GraphCalendar

PAGE_SIZE = 100


class GraphTarget:
    def __init__(
        self,
        name: str,
        client: GraphClient,
        *,
        mailbox: str,
        calendar: str | None = None,
        tz: str = "Europe/Oslo",
        reminder: int | None = None,
        permanent_deletes: bool = False,
    ) -> None:
        self.name = name
        self.client = client
        self.stats = client.stats
        self.mailbox = mailbox
        self.calendar_name = calendar
        self.tz = tz
        self.reminder = reminder
        self.permanent_deletes = permanent_deletes
        self._reminders_off_setting = 0  # seen by the current observe
        self._user = "/users/" + urllib.parse.quote(mailbox, safe="@")
        self._events_path: str | None = None
        self._known: set[str] | None = None  # UIDs present as of the last observe (+ our writes)
        self._contents: dict[str, tuple[str | None, EventContent]] = {}  # id -> (etag, content)

    # --- the Target protocol ------------------------------------------------------------------
    def observe(self) -> Mapping[str, ObservedEvent]:
        found: dict[str, ObservedEvent] = {}
        self._reminders_off_setting = 0
        for raw in self.client.pages(self._events(), self._list_params()):
            event = self._observed(raw)
            if event is None:
                continue
            if event.uid in found:
                self.stats.notes.append(f"duplicate events for uid {event.uid}; kept one")
                continue
            found[event.uid] = event
        self._known = set(found)
        if self._reminders_off_setting:
            self.stats.notes.append(
                f"events whose reminder is not the calendar's ({self._reminder_text()}): "
                f"{self._reminders_off_setting}; they are rewritten"
            )
        return found

    def observe_one(self, uid: str) -> ObservedEvent | None:
        params = self._list_params(uid)
        for raw in self.client.pages(self._events(), params):
            event = self._observed(raw)
            if event is not None and event.uid == uid:
                return event
        return None

    def create(self, event: DesiredEvent) -> ObservedEvent:
        self._refuse_existing(event.uid)
        body = self._new_body(event)
        # Safe to repeat within this call: Graph drops a second POST with the same transactionId.
        reply = self.client.send("POST", self._events(), json=body, retry_unsafe=True)
        self.client.check(reply, f"create {event.uid}")
        return self._written(event, reply.json())

    def update(self, old: ObservedEvent, event: DesiredEvent, sequence: int) -> ObservedEvent:
        if old.etag is None:
            raise ConflictError(f"update {old.uid}: no etag observed", calendar=self.name)
        cached = self._contents.get(old.remote_id)
        current = cached[1] if cached and cached[0] == old.etag else None
        patch = ge.changed_fields(
            current, event.content, event.content_hash, sequence, self.tz, self.reminder
        )
        reply = self.client.send(
            "PATCH", self._item(old.remote_id), json=patch, headers={"If-Match": old.etag}
        )
        if reply.status_code == 404 or is_conflict(reply.status_code):
            raise ConflictError(
                f"update {old.uid}: changed or gone since observed ({brief(reply)})",
                calendar=self.name,
            )
        self.client.check(reply, f"update {old.uid}")
        return self._written(event, reply.json(), sequence)

    def delete(self, old: ObservedEvent) -> None:
        headers = {"If-Match": old.etag} if old.etag else {}
        method, path = self._delete_request(old)
        # A repeated delete is harmless: the first one makes the second a 404 (counted as done).
        reply = self.client.send(method, path, headers=headers, retry_unsafe=True)
        if is_conflict(reply.status_code):
            raise ConflictError(
                f"delete {old.uid}: changed since observed ({brief(reply)})", calendar=self.name
            )
        if reply.status_code != 404:  # already gone counts as deleted
            self.client.check(reply, f"delete {old.uid}")
        self._forget(old)

    def close(self) -> None:
        self.client.close()
        self.client.tokens.close()  # a no-op for the shared MSAL provider

    # --- bulk ---------------------------------------------------------------------------------
    def create_many(self, events: Sequence[DesiredEvent]) -> dict[str, ObservedEvent | TargetError]:
        results: dict[str, ObservedEvent | TargetError] = {}
        todo: list[DesiredEvent] = []
        if self._known is None:
            self.observe()  # one listing instead of a lookup per event
        for event in events:
            try:
                self._refuse_existing(event.uid)
            except TargetError as err:
                results[event.uid] = err
            else:
                todo.append(event)
        # Built once: a sub-request retried after throttling keeps its transactionId.
        requests = [
            SubRequest(str(n), "POST", self._events(), body=self._new_body(e))
            for n, e in enumerate(todo)
        ]
        replies = self.client.batch(requests)
        for n, event in enumerate(todo):
            sub = replies[str(n)]
            if sub.status in (200, 201) and isinstance(sub.body, dict):
                results[event.uid] = self._written(event, sub.body)
            else:
                results[event.uid] = self._sub_error(sub, f"create {event.uid}")
        return results

    def delete_many(self, olds: Sequence[ObservedEvent]) -> dict[str, TargetError | None]:
        requests = [
            SubRequest(
                str(n),
                *self._delete_request(o),
                headers={"If-Match": o.etag} if o.etag else {},
            )
            for n, o in enumerate(olds)
        ]
        replies = self.client.batch(requests)
        results: dict[str, TargetError | None] = {}
        for n, old in enumerate(olds):
            sub = replies[str(n)]
            if sub.status in (200, 204, 404):
                results[old.uid] = None
                self._forget(old)
            elif is_conflict(sub.status):
                results[old.uid] = ConflictError(
                    f"delete {old.uid}: changed since observed", calendar=self.name
                )
            else:
                results[old.uid] = self._sub_error(sub, f"delete {old.uid}")
        return results

    # --- helpers ------------------------------------------------------------------------------
    def _events(self) -> str:
        if self._events_path is None:
            if self.calendar_name is None:
                self._events_path = f"{self._user}/calendar/events"
            else:
                self._events_path = f"{self._user}/calendars/{self._calendar_id()}/events"
        return self._events_path

    def _calendar_id(self) -> str:
        wanted = self.calendar_name or ""
        names: list[str] = []
        for cal in self.client.pages(f"{self._user}/calendars", {"$select": "id,name"}):
            names.append(str(cal.get("name")))
            if cal.get("name") == wanted:
                return str(cal["id"])
        folded = [c for c in names if c.casefold() == wanted.casefold()]
        hint = f" (did you mean {folded[0]!r}?)" if folded else ""
        raise TargetError(
            f"mailbox {self.mailbox} has no calendar named {wanted!r}{hint}; "
            f"it has: {', '.join(sorted(names)) or 'none'}",
            calendar=self.name,
        )

    def _item(self, remote_id: str) -> str:
        return f"{self._user}/events/{urllib.parse.quote(remote_id, safe='')}"

    def _reminder_text(self) -> str:
        return "off" if self.reminder is None else f"{self.reminder} minutes before"

    def _delete_request(self, old: ObservedEvent) -> tuple[str, str]:
        if self.permanent_deletes:
            return "POST", self._item(old.remote_id) + "/permanentDelete"
        return "DELETE", self._item(old.remote_id)

    def _new_body(self, event: DesiredEvent) -> dict[str, Any]:
        return ge.new_event(
            event.content,
            event.uid,
            event.content_hash,
            self.tz,
            transaction_id=ge.new_transaction_id(),
            marker=event.marker,
            reminder=self.reminder,
        )

    def _list_params(self, uid: str | None = None) -> dict[str, str]:
        return {
            "$filter": ge.owned_filter(uid),
            "$expand": ge.EXPAND,
            "$select": ge.SELECT,
            "$top": str(PAGE_SIZE),
        }

    def _observed(self, raw: Mapping[str, Any]) -> ObservedEvent | None:
        uid, stored, sequence, marker = ge.ownership(raw)
        if not uid:  # never trust the filter alone with ownership
            return None
        remote_id = str(raw["id"])
        etag = raw.get("@odata.etag")
        try:
            content = ge.read_content(raw, self.tz)
        except (TargetError, ValueError) as err:
            self.stats.notes.append(f"cannot read event {uid}: {err}")
            actual = start = end = None
        else:
            self._contents[remote_id] = (etag, content)
            actual, start, end = content.content_hash(), content.start, content.end
            if not ge.reminder_matches(raw, self.reminder):
                # Not our reminder setting (Outlook's default, or changed by hand): reads as
                # edited, so the engine rewrites it and the PATCH carries the reminder.
                actual += "+reminder"
                self._reminders_off_setting += 1
        return ObservedEvent(
            uid=uid,
            remote_id=remote_id,
            etag=str(etag) if etag else None,
            stored_hash=stored,
            actual_hash=actual,
            sequence=sequence,
            start=start,
            end=end,
            marker=marker,
        )

    def _written(
        self, event: DesiredEvent, raw: Mapping[str, Any], sequence: int = 0
    ) -> ObservedEvent:
        """The event as we just wrote it (the reply holds no extended properties)."""
        remote_id = str(raw["id"])
        etag = raw.get("@odata.etag")
        self._contents[remote_id] = (etag, event.content)
        if self._known is not None:
            self._known.add(event.uid)
        return event.written(remote_id, str(etag) if etag else None, sequence)

    def _forget(self, old: ObservedEvent) -> None:
        self._contents.pop(old.remote_id, None)
        if self._known is not None:
            self._known.discard(old.uid)

    def _refuse_existing(self, uid: str) -> None:
        exists = (
            uid in self._known if self._known is not None else self.observe_one(uid) is not None
        )
        if exists:
            raise ConflictError(f"create {uid}: an event with this UID exists", calendar=self.name)

    def _sub_error(self, sub: SubResponse, what: str) -> TargetError:
        return TargetError(f"{what}: {error_text(sub.status, sub.body)}", calendar=self.name)


def prefer_header(tz: str) -> str:
    return (
        f'IdType="ImmutableId", outlook.timezone="{windows_zone(tz)}", '
        'outlook.body-content-type="text"'
    )


def _is_loopback_http(url: str) -> bool:
    parsed = httpx.URL(url)
    if parsed.scheme != "http":
        return False
    if parsed.host == "localhost":
        return True
    try:
        return ipaddress.ip_address(parsed.host).is_loopback
    except ValueError:
        return False


def open_target(
    calendar: GraphCalendar,
    settings: Settings,
    state: TargetState,
    *,
    sleep: Callable[[float], None] | None = None,
    policy: RetryPolicy | None = None,
) -> Target:
    """The factory's entry point. `state` is unused: Graph listing is stateless (filter query)."""
    del state
    graph = settings.graph
    tenant, client_id = graph.tenant_id, graph.client_id
    if not tenant or not client_id:
        raise ConfigError(
            f"graph: tenant_id and client_id must be set (needed by calendar {calendar.name})"
        )
    secret = graph.client_secret.get_secret_value() if graph.client_secret else None
    scope = scope_for(graph.base_url)
    tokens: TokenProvider
    if _is_loopback_http(graph.authority_url):
        # Only a local fake serves tokens over http; MSAL refuses such an authority.
        if not secret:
            raise ConfigError("graph: a loopback authority needs client_secret")
        token_url = f"{graph.authority_url.rstrip('/')}/{tenant}/oauth2/v2.0/token"
        tokens = client_credentials_tokens(
            token_url,
            client_id,
            secret,
            scope,
            http=httpx.Client(timeout=graph.timeout_seconds),
        )
    else:
        tokens = _shared_msal(settings, tenant, client_id, scope, secret)
    stats = TargetStats()
    stats.notes.append("graph: owned events listed by extended-property filter")
    tz = settings.plan.timezone
    client = GraphClient(
        graph.base_url,
        tokens,
        slots=slots_for(calendar.mailbox, graph.max_in_flight),
        stats=stats,
        prefer=prefer_header(tz),
        calendar=calendar.name,
        timeout=graph.timeout_seconds,
        sleep=time.sleep if sleep is None else sleep,
        policy=policy,
    )
    return GraphTarget(
        calendar.name,
        client,
        mailbox=calendar.mailbox,
        calendar=calendar.calendar,
        tz=tz,
        reminder=None if calendar.reminder == "off" else calendar.reminder,
        permanent_deletes=graph.deletes == "permanent",
    )


_msal_cache: dict[tuple[str, str, str, str], TokenProvider] = {}


def _shared_msal(
    settings: Settings, tenant: str, client_id: str, scope: str, secret: str | None
) -> TokenProvider:
    """One MSAL app (and token) per tenant and client, shared by every Graph calendar."""
    graph = settings.graph
    key = (graph.authority_url, tenant, client_id, graph.certificate_path or "secret")
    if key not in _msal_cache:
        cert = settings.resolve(graph.certificate_path) if graph.certificate_path else None
        password = graph.certificate_password
        _msal_cache[key] = msal_tokens(
            graph.authority_url,
            tenant,
            client_id,
            scope,
            client_secret=secret,
            certificate_path=cert,
            certificate_password=password.get_secret_value() if password else None,
            certificate_thumbprint=graph.certificate_thumbprint,
        )
    return _msal_cache[key]


__all__ = ["BulkTarget", "GraphTarget", "open_target", "prefer_header"]
