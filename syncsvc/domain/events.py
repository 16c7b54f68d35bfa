"""Events as the reconcile core sees them: what a calendar should hold and what it holds.

`EventContent` is everything that is written to a calendar; its `content_hash` is the identity
of that content (DTSTAMP, SEQUENCE and PRODID are not part of it, so unchanged events are never
rewritten). Targets turn `EventContent` into their wire format (iCalendar for CalDAV and
folders, JSON for Microsoft Graph).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from json.encoder import encode_basestring

# The marker every event we write carries (its value: domain.ownership); we never change or
# delete an event whose marker does not verify. iCalendar: X-SYNCSVC-OWNER / X-SYNCSVC-HASH;
# Graph: extended properties.
OWNER_PROPERTY = "X-SYNCSVC-OWNER"
HASH_PROPERTY = "X-SYNCSVC-HASH"


class EventStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    TENTATIVE = "TENTATIVE"


@dataclass(frozen=True, slots=True)
class EventContent:
    summary: str
    start: date | datetime  # datetime: aware, Europe/Oslo
    end: date | datetime  # exclusive
    status: EventStatus = EventStatus.CONFIRMED
    description: str = ""
    location: str = ""
    categories: tuple[str, ...] = ()

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    def canonical(self) -> str:
        """A stable text form: the input of the content hash.

        It is the JSON object of the fields with sorted keys (what `json.dumps(...,
        ensure_ascii=False, sort_keys=True)` writes), built by hand: it is the hash of every
        event we hold, and stored hashes must keep matching, so the form never changes."""
        return (
            f'{{"categories": [{", ".join(map(_json_text, self.categories))}], '
            f'"description": {_json_text(self.description)}, '
            f'"end": {_json_text(self.end.isoformat())}, '
            f'"location": {_json_text(self.location)}, '
            f'"start": {_json_text(self.start.isoformat())}, '
            f'"status": {_json_text(self.status.value)}, '
            f'"summary": {_json_text(self.summary)}, '
            f'"tz": {_json_text(_tzname(self.start))}}}'
        )

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()[:32]


# json's own string encoder (C): the same escaping json.dumps applies.
_json_text: Callable[[str], str] = encode_basestring


def _tzname(value: date | datetime) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return str(value.tzinfo)
    return ""


@dataclass(frozen=True, slots=True)
class DesiredEvent:
    """An event a calendar should hold, as routing produced it."""

    uid: str
    content: EventContent
    item_key: str = ""  # the plan item it came from, for reports
    content_hash: str = field(default="")
    marker: str = ""  # the owner marker for this UID in this calendar (domain.ownership)
    legacy_uid: str = ""  # the UID older versions gave this occurrence (for the migration)

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", self.content.content_hash())

    def written(self, remote_id: str, etag: str | None, sequence: int) -> ObservedEvent:
        """This event as a target holds it right after writing it (no need to read it back)."""
        return ObservedEvent(
            uid=self.uid,
            remote_id=remote_id,
            etag=etag,
            stored_hash=self.content_hash,
            actual_hash=self.content_hash,
            sequence=sequence,
            start=self.content.start,
            end=self.content.end,
            summary=self.content.summary,
            content=self.content,
            marker=self.marker,
        )


@dataclass(frozen=True, slots=True)
class ObservedEvent:
    """An event carrying an owner marker, as a target found it (targets never return events
    without one). Whether the marker verifies is the engine's check (pipeline.adopt): until
    then the event is a claim, not ours."""

    uid: str
    remote_id: str  # href (CalDAV), file name (folder), event id (Graph)
    etag: str | None = None
    stored_hash: str | None = None  # the hash property we wrote last time
    actual_hash: str | None = None  # the hash of what the event holds now (None: not checked)
    sequence: int = 0
    start: date | datetime | None = None
    end: date | datetime | None = None
    summary: str = ""  # for reports ("removed from plan: ..."); empty when the target has none
    # Everything the event holds, when the target read it whole this run (for "old -> new"
    # in reports); None when it came from the state store or the target keeps less.
    content: EventContent | None = field(default=None, compare=False)
    marker: str | None = None  # the X-SYNCSVC-OWNER value (Graph: the owner property)
    legacy: bool = False  # written by a version with the constant marker (set by the check)

    @property
    def drifted(self) -> bool:
        """Someone edited the event after we wrote it."""
        return (
            self.actual_hash is not None
            and self.stored_hash is not None
            and self.actual_hash != self.stored_hash
        )
