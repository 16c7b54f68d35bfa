"""What the CalDAV target remembers about a collection between runs, kept in the state
store's token slot: the RFC 6578 sync token, the collection's identity when the server
offers one, how many runs have trusted the token path since a full listing, and whether the
server's ETags have shown they cannot identify an object. Pure.

A server's promises are checked rather than trusted: a sync token from before the collection
was deleted and re-created may be answered with "207, no changes" (DAViCal), so the identity
(`DAV:resource-id`) is compared on each run and a full listing is
made every VERIFY_EVERY runs; ETags may be weak or reused for different objects, and then
content decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

VERIFY_EVERY = 24  # runs on the token path between full listings that check it
_PREFIX = "caldav-cursor:"


@dataclass(frozen=True, slots=True)
class Cursor:
    token: str | None = None
    identity: str | None = None  # the collection's DAV:resource-id
    runs_since_full: int = 0
    weak_etags: bool = False  # ETags seen weak or shared by different objects
    probe: bool = True  # the collection PROPFIND told us something last time

    def encode(self) -> str | None:
        """The string for the state store; None when there is nothing to remember."""
        if self == Cursor():
            return None
        fields = {
            "token": self.token,
            "identity": self.identity,
            "runs": self.runs_since_full,
            "weak": self.weak_etags,
            "probe": self.probe,
        }
        return _PREFIX + json.dumps(fields, separators=(",", ":"), sort_keys=True)

    @property
    def verify_due(self) -> bool:
        return self.runs_since_full >= VERIFY_EVERY

    def after_full_listing(self, token: str | None) -> Cursor:
        return replace(self, token=token, runs_since_full=0)

    def after_token_run(self, token: str | None) -> Cursor:
        return replace(self, token=token, runs_since_full=self.runs_since_full + 1)


@dataclass(frozen=True, slots=True)
class ReadPlan:
    cursor: Cursor
    start: str | None  # the token to sync from; None: a full listing
    unchanged: bool  # the collection is where our token left it: nothing to read
    note: str | None = None


def plan_read(cur: Cursor, identity: str | None, current_token: str | None) -> ReadPlan:
    """How to read, given what the collection says now (its identity and current sync
    token, either None when the server does not tell)."""
    start, note = cur.token, None
    if identity is not None:
        if cur.identity is not None and identity != cur.identity and start is not None:
            note = f"calendar was deleted and created again ({cur.identity} is now {identity})"
            start = None
        cur = replace(cur, identity=identity)
    if start is not None and cur.verify_due:
        note = f"checking the sync token with a full listing (every {VERIFY_EVERY} runs)"
        return ReadPlan(cur, None, False, note)
    if start is not None and current_token == start:
        return ReadPlan(cur.after_token_run(start), start, True, note)
    return ReadPlan(cur, start, False, note)


def decode(stored: str | None) -> Cursor:
    """The cursor from the state store; a bare token (what older versions stored) is kept."""
    if not stored:
        return Cursor()
    if not stored.startswith(_PREFIX):
        return Cursor(token=stored)
    try:
        raw = json.loads(stored.removeprefix(_PREFIX))
    except ValueError:
        return Cursor()  # unreadable memory: start over with a full listing
    if not isinstance(raw, dict):
        return Cursor()
    token, identity = raw.get("token"), raw.get("identity")
    runs = raw.get("runs")
    return Cursor(
        token=token if isinstance(token, str) else None,
        identity=identity if isinstance(identity, str) else None,
        runs_since_full=runs if isinstance(runs, int) and runs >= 0 else 0,
        weak_etags=raw.get("weak") is True,
        probe=raw.get("probe") is not False,
    )


def etags_unreliable(entries: list[tuple[str, str | None]]) -> bool:
    """Whether (href key, etag) pairs show ETags that cannot tell objects apart: a weak
    ETag (W/...), or one ETag on two different objects."""
    seen: dict[str, str] = {}
    for key, etag in entries:
        if etag is None:
            continue
        if etag.startswith("W/"):
            return True
        other = seen.setdefault(etag, key)
        if other != key:
            return True
    return False
