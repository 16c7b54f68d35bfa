"""Which observed events are ours, and the one-time adoption of events older versions wrote.

Targets return every event that carries an owner marker; only the ones whose marker verifies
for this calendar and UID (domain.ownership) are ours. Events with the old constant marker
are adopted once, and only when all of this holds (docs/IDENTITY.md, "Migration"):

* their UID is exactly the UID the old version gave an occurrence this calendar should hold
  (our UID domain, the item key's slug, ordinal and key hash: a copy made in a client has
  another UID and never matches);
* their content is unedited: its hash equals the X-SYNCSVC-HASH the old version wrote.

An adopted event is replaced: the event under its new UID and marker is created, then the old
one is deleted (in that order, so an interrupted run leaves a duplicate for the next run to
finish, never a gap). Everything else is foreign and left alone. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from syncsvc.domain.changes import Change, ChangeKind
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.domain.ownership import Claim, Owner
from syncsvc.pipeline.diff import REPLACED, CalendarDiff

MIGRATED = "new identity: replaces the event an older version wrote"


@dataclass(frozen=True, slots=True)
class Claims:
    owned: dict[str, ObservedEvent]  # marker verifies: ours
    legacy: dict[str, ObservedEvent]  # the old constant marker: candidates for adoption
    foreign: int  # a marker that does not verify here (a copy, another calendar or key)


def sort_claims(observed: Mapping[str, ObservedEvent], owner: Owner) -> Claims:
    owned: dict[str, ObservedEvent] = {}
    legacy: dict[str, ObservedEvent] = {}
    foreign = 0
    for uid, event in observed.items():
        claim = owner.claim(event.uid, event.marker)
        if claim is Claim.OWNED and uid == event.uid:
            owned[uid] = event
        elif claim is Claim.LEGACY:
            legacy[uid] = replace(event, legacy=True)
        else:
            foreign += 1
    return Claims(owned, legacy, foreign)


def verified(event: ObservedEvent | None, owner: Owner) -> ObservedEvent | None:
    """`event` if its marker verifies for this calendar, else None (foreign)."""
    if event is None or owner.claim(event.uid, event.marker) is not Claim.OWNED:
        return None
    return event


@dataclass(frozen=True, slots=True)
class Adoption:
    adopted: dict[str, ObservedEvent]  # legacy UID -> event, to delete once replaced
    replaces: dict[str, str]  # new UID -> the legacy UID it replaces
    left: list[ObservedEvent]  # legacy events that do not qualify: left alone


def adoptable(desired: Sequence[DesiredEvent], legacy: Mapping[str, ObservedEvent]) -> Adoption:
    adopted: dict[str, ObservedEvent] = {}
    replaces: dict[str, str] = {}
    for event in desired:
        old = legacy.get(event.legacy_uid) if event.legacy_uid else None
        if old is None or old.uid in adopted:
            continue
        if old.stored_hash is None or old.actual_hash != old.stored_hash:
            continue  # edited since it was written (or unreadable): not provably ours
        adopted[old.uid] = old
        replaces[event.uid] = old.uid
    left = [e for uid, e in legacy.items() if uid not in adopted]
    return Adoption(adopted, replaces, left)


def with_adoption(planned: CalendarDiff, adoption: Adoption) -> CalendarDiff:
    """`planned` (computed over the owned events) plus the migration: creates that replace a
    legacy event say so, and each adopted legacy event is deleted after its replacement."""
    if not adoption.adopted:
        return planned
    creates = tuple(
        replace(c, reason=MIGRATED) if c.uid in adoption.replaces else c for c in planned.creates
    )
    deletes = tuple(
        Change(
            kind=ChangeKind.DELETE,
            uid=old.uid,
            summary=old.summary,
            start=old.start,
            reason=REPLACED,
        )
        for old in adoption.adopted.values()
    )
    return replace(
        planned,
        creates=creates,
        deletes=planned.deletes + deletes,
        observed={**planned.observed, **adoption.adopted},
    )
