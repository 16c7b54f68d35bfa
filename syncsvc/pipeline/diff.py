"""Reconcile: desired events vs the owned events a calendar holds -> what to change. Pure.

Only observed events (which targets return only when they carry our marker) are ever
updated or deleted; foreign events never reach this module.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from syncsvc.domain.changes import Change, ChangeKind
from syncsvc.domain.events import DesiredEvent, ObservedEvent

NEW = "new in plan"
MOVED = "date moved"
CHANGED = "content changed"
EDITED = "edited in calendar: restored"
DELETED = "deleted in calendar: restored"
REMOVED = "removed from plan"
PAST_KEPT = "in the past: kept"
REPLACED = "replaced by its new identity"  # a migration's delete (pipeline.adopt)


@dataclass(frozen=True, slots=True)
class CalendarDiff:
    creates: tuple[Change, ...] = ()
    updates: tuple[Change, ...] = ()
    deletes: tuple[Change, ...] = ()
    unchanged: tuple[Change, ...] = ()
    # What applying needs: the events the changes refer to, by UID.
    desired: Mapping[str, DesiredEvent] = field(default_factory=dict)
    observed: Mapping[str, ObservedEvent] = field(default_factory=dict)

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every change to write, in apply order: creates, updates, deletes."""
        return self.creates + self.updates + self.deletes

    @property
    def empty(self) -> bool:
        return not self.changes


def diff(
    desired: Sequence[DesiredEvent] | Mapping[str, DesiredEvent],
    observed: Mapping[str, ObservedEvent],
    *,
    now: datetime,
    delete_past: bool = False,
    known_uids: Collection[str] = frozenset(),
) -> CalendarDiff:
    """What to do so the calendar holds `desired`. `known_uids`: UIDs the calendar held after
    the last successful run (state memory), to tell "deleted in calendar" from "new"."""
    wanted = dict(desired) if isinstance(desired, Mapping) else {e.uid: e for e in desired}
    creates: list[Change] = []
    updates: list[Change] = []
    deletes: list[Change] = []
    unchanged: list[Change] = []
    for uid, event in wanted.items():
        old = observed.get(uid)
        if old is None:
            reason = DELETED if uid in known_uids else NEW
            creates.append(_change(ChangeKind.CREATE, event, reason))
            continue
        why = _update_reason(event, old)
        if why:
            updates.append(
                _change(ChangeKind.UPDATE, event, why, fields=changed_fields(event, old))
            )
        else:
            unchanged.append(_change(ChangeKind.UNCHANGED, event, "unchanged"))
    for uid, old in observed.items():
        if uid in wanted:
            continue
        if not delete_past and _is_past(old, now):
            unchanged.append(_observed_change(ChangeKind.UNCHANGED, old, PAST_KEPT))
        else:
            deletes.append(_observed_change(ChangeKind.DELETE, old, REMOVED))
    return CalendarDiff(
        creates=tuple(creates),
        updates=tuple(updates),
        deletes=tuple(deletes),
        unchanged=tuple(unchanged),
        desired=wanted,
        observed=dict(observed),
    )


def _update_reason(event: DesiredEvent, old: ObservedEvent) -> str | None:
    """Why `old` must be rewritten, or None when it already holds the desired content."""
    actual = old.actual_hash if old.actual_hash is not None else old.stored_hash
    if actual == event.content_hash:
        return None  # holds what we want (even if edited by hand to exactly that)
    if old.drifted and old.stored_hash == event.content_hash:
        return EDITED
    if old.start is not None and (old.start, old.end) != (event.content.start, event.content.end):
        return MOVED
    return CHANGED


def _is_past(old: ObservedEvent, now: datetime) -> bool:
    when = old.end if old.end is not None else old.start
    return when is not None and _as_datetime(when, now) <= now


def _as_datetime(value: date | datetime, now: datetime) -> datetime:
    # Floating times and all-day dates are read in the zone `now` is in: the plan's zone,
    # which the engine gives it (a plan in another zone decides "in the past" in its own).
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=now.tzinfo)
    return datetime.combine(value, time(0), tzinfo=now.tzinfo)


def changed_fields(event: DesiredEvent, old: ObservedEvent) -> tuple[tuple[str, str, str], ...]:
    """(field, old, new) for each field that differs. Title and times are always known; the
    rest only when the target read the whole event this run (else: "details", unknown old)."""
    new = event.content
    pairs: list[tuple[str, object, object]] = [
        ("title", old.summary, new.summary),
        ("start", old.start, new.start),
        ("end", old.end, new.end),
    ]
    if old.content is not None:
        was = old.content
        pairs += [
            ("status", was.status.value, new.status.value),
            ("location", was.location, new.location),
            ("description", was.description, new.description),
            ("categories", ", ".join(was.categories), ", ".join(new.categories)),
        ]
    found = tuple(
        (name, _text(before), _text(after)) for name, before, after in pairs if before != after
    )
    if not found and old.content is None:
        return (("details", "?", "(from the plan)"),)  # the old text was not read this run
    return found


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def _change(
    kind: ChangeKind,
    event: DesiredEvent,
    reason: str,
    *,
    fields: tuple[tuple[str, str, str], ...] = (),
) -> Change:
    return Change(
        kind=kind,
        uid=event.uid,
        summary=event.content.summary,
        start=event.content.start,
        reason=reason,
        item_key=event.item_key,
        fields=fields,
    )


def _observed_change(kind: ChangeKind, old: ObservedEvent, reason: str) -> Change:
    return Change(kind=kind, uid=old.uid, summary=old.summary, start=old.start, reason=reason)
