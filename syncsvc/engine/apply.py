"""Apply one calendar's planned changes, and settle each change's status from what the target
confirmed: applied (the write was acknowledged, or a re-read shows the server holds it), failed
(with the reason), or not attempted (the calendar stopped before it).

The first failing write stops the calendar, as before; a conflict that does not resolve fails
only its own change. A write that failed without an answer is re-read once: the server may
have applied it (a lost reply), and the report must say what the server holds.

A `ConcurrentTarget` (CalDAV) gets up to `max_in_flight` writes at once: each server request
waits mostly on the server, so overlapping them is where a sequential loop of PUTs can be
beaten. Every write is conditional and touches its own event; after the first failure no
further write starts, the ones in flight finish and are settled like any other.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import structlog

from syncsvc.domain.changes import Change, ChangeKind, ChangeStatus
from syncsvc.domain.errors import AuthError, ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.domain.ownership import Owner
from syncsvc.pipeline.adopt import verified
from syncsvc.pipeline.diff import DELETED, EDITED, CalendarDiff, diff
from syncsvc.targets.base import BulkTarget, CommitTarget, ConcurrentTarget, Target

log = structlog.get_logger(__name__)

GAVE_UP = "changed on the server while syncing (re-read and tried again once)"
FOREIGN_HOLDS = "an event that is not ours already holds this UID or name; left alone"


class Ledger:
    """The planned changes with their statuses so far; tells `on_settled` about each one."""

    def __init__(self, changes: Sequence[Change], on_settled: Callable[[Change], None]) -> None:
        self._changes = {c.uid: c for c in changes}
        self._order = [c.uid for c in changes]
        self._on_settled = on_settled
        self._lock = threading.Lock()  # writes may settle from several threads
        self.counting = threading.Lock()  # for counters kept beside the ledger

    def applied(self, change: Change) -> None:
        self._settle(change.settled(ChangeStatus.APPLIED))

    def failed(self, change: Change, error: str, *, maybe_applied: bool = False) -> None:
        self._settle(change.settled(ChangeStatus.FAILED, error, maybe_applied=maybe_applied))

    def revoke(self, error: str) -> None:
        """The target could not keep what it had accepted (a file it writes at the end)."""
        for uid in self._order:
            change = self._changes[uid]
            if change.status is ChangeStatus.APPLIED:
                self.failed(change, error)

    def changes(self) -> list[Change]:
        return [self._changes[uid] for uid in self._order]

    def _settle(self, change: Change) -> None:
        with self._lock:
            self._changes[change.uid] = change
            self._on_settled(change)


class Apply:
    """One calendar's writes. `run()` raises the TargetError that stopped the calendar."""

    def __init__(
        self,
        target: Target,
        planned: CalendarDiff,
        ledger: Ledger,
        *,
        owner: Owner,
        now: datetime,
        delete_past: bool,
        progress: Callable[[int, int], None],
    ) -> None:
        self.target = target
        self.owner = owner
        self.planned = planned
        self.ledger = ledger
        self.now = now
        self.delete_past = delete_past
        self.progress = progress
        self.observed: dict[str, ObservedEvent] = dict(planned.observed)
        self.conflicts = 0

    @property
    def restored(self) -> int:
        return sum(1 for c in self.ledger.changes() if c.applied and c.reason in (EDITED, DELETED))

    def run(self) -> None:
        total = len(self.planned.changes)
        pending = list(self.planned.changes)
        if isinstance(self.target, BulkTarget):
            pending = self._bulk(self.target, pending)
        offset = total - len(pending)
        width = self.target.max_in_flight if isinstance(self.target, ConcurrentTarget) else 1
        if width > 1 and len(pending) > 1:
            self._in_flight(pending, width, offset, total)
        else:
            for index, change in enumerate(pending, start=1):
                self._one(change)
                self.progress(offset + index, total)
        if isinstance(self.target, CommitTarget):
            try:
                self.target.commit()
            except TargetError as err:
                self.ledger.revoke(err.message)
                raise

    def _in_flight(self, changes: list[Change], width: int, offset: int, total: int) -> None:
        """`_one` for each change, `width` at a time; stops starting after a failure."""
        lock = threading.Lock()
        stopped: list[TargetError] = []
        done = 0

        def one(change: Change) -> None:
            nonlocal done
            if stopped:
                return  # not attempted: the calendar stopped at an earlier failure
            try:
                self._one(change)
            except TargetError as err:
                with lock:
                    stopped.append(err)
            with lock:
                done += 1
                self.progress(offset + done, total)

        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="write") as pool:
            # Each write logs with the calendar's bound context (run id, calendar name).
            futures = [pool.submit(contextvars.copy_context().run, one, c) for c in changes]
            for future in futures:
                future.result()  # a bug in a write surfaces here, as in the sequential loop
        if stopped:
            raise stopped[0]

    # --- one change -------------------------------------------------------------------------
    def _one(self, change: Change) -> None:
        try:
            unresolved = self._write_with_retry(change)
            if unresolved is None:
                self.ledger.applied(change)
            elif change.kind is ChangeKind.CREATE and change.uid not in self.observed:
                # The UID (or its file name) is held by an event that is not ours: it is
                # left exactly as it is, and our create failed.
                log.warning("event.create.foreign", uid=change.uid)
                self.ledger.failed(change, f"{FOREIGN_HOLDS} ({unresolved})")
            else:
                with self.ledger.counting:
                    self.conflicts += 1
                self.ledger.failed(change, f"{GAVE_UP}: {unresolved}")
        except AuthError as err:  # refused credentials: nothing was written, nothing to re-read
            self.ledger.failed(change, err.message)
            raise
        except TargetError as err:
            landed = self._landed(change)
            if landed:
                self.ledger.applied(change)
            else:
                self.ledger.failed(change, err.message, maybe_applied=landed is None)
            raise

    def _write_with_retry(self, change: Change) -> str | None:
        """Apply one change; on a conflict re-read the event, re-diff and retry once.
        The target's last word when the conflict did not resolve (None: applied)."""
        uid = change.uid
        wanted = self.planned.desired.get(uid)
        try:
            self._write(change.kind, wanted, self.observed.get(uid))
            return None
        except ConflictError as err:
            log.info("event.conflict", uid=uid, error=err.message)
            first = err.message
        fresh = self._reread(uid)
        if change.kind is ChangeKind.CREATE and fresh is None:
            return first  # what holds the UID is not ours: never retried over it
        self._remember(uid, fresh)
        again = self._rediff(uid, fresh)
        if not again:
            return None  # someone already made it so
        try:
            self._write(again[0].kind, wanted, fresh)
            return None
        except ConflictError as err:
            log.warning("event.conflict.gave_up", uid=uid, error=err.message)
            return err.message

    def _landed(self, change: Change) -> bool | None:
        """After a failed write: does the server hold the change after all? None when the
        re-read fails too (then nobody knows until the next run looks)."""
        try:
            fresh = self._reread(change.uid)
        except TargetError as err:
            log.warning("event.unconfirmed", uid=change.uid, error=err.message)
            return None
        self._remember(change.uid, fresh)
        return not self._rediff(change.uid, fresh)

    def _reread(self, uid: str) -> ObservedEvent | None:
        """The event as the target holds it now, if it is ours (its marker verifies)."""
        return verified(self.target.observe_one(uid), self.owner)

    def _rediff(self, uid: str, fresh: ObservedEvent | None) -> tuple[Change, ...]:
        wanted = self.planned.desired.get(uid)
        return diff(
            [wanted] if wanted else [],
            {uid: fresh} if fresh else {},
            now=self.now,
            delete_past=self.delete_past,
        ).changes

    def _remember(self, uid: str, fresh: ObservedEvent | None) -> None:
        if fresh is not None:
            self.observed[uid] = fresh
        else:
            self.observed.pop(uid, None)

    def _write(
        self, kind: ChangeKind, wanted: DesiredEvent | None, old: ObservedEvent | None
    ) -> None:
        if kind is ChangeKind.CREATE and wanted is not None:
            self.observed[wanted.uid] = self.target.create(wanted)
        elif kind is ChangeKind.UPDATE and wanted is not None and old is not None:
            self.observed[wanted.uid] = self.target.update(old, wanted, old.sequence + 1)
        elif kind is ChangeKind.DELETE and old is not None:
            self.target.delete(old)
            self.observed.pop(old.uid, None)

    # --- batches ----------------------------------------------------------------------------
    def _bulk(self, target: BulkTarget, changes: list[Change]) -> list[Change]:
        """Creates and deletes in batches; returns what is left for one-by-one writes
        (updates, and batch items that met a conflict: those get the re-read and retry)."""
        creates = [c for c in changes if c.kind is ChangeKind.CREATE]
        deletes = [c for c in changes if c.kind is ChangeKind.DELETE]
        if len(creates) + len(deletes) < 2:
            return changes
        retry: set[str] = set()
        failure: TargetError | None = None
        if creates:
            try:
                made = target.create_many([self.planned.desired[c.uid] for c in creates])
            except TargetError as err:
                # Some batches may have gone through before the one that failed.
                for c in creates:
                    self.ledger.failed(c, err.message, maybe_applied=True)
                raise
            for c in creates:
                result = made.get(c.uid)
                if isinstance(result, ObservedEvent):
                    self.observed[c.uid] = result
                    self.ledger.applied(c)
                elif isinstance(result, ConflictError) or result is None:
                    retry.add(c.uid)
                else:
                    self.ledger.failed(c, result.message)
                    failure = failure or result
        if deletes and failure is None:
            try:
                gone = target.delete_many([self.observed[c.uid] for c in deletes])
            except TargetError as err:
                for c in deletes:
                    self.ledger.failed(c, err.message, maybe_applied=True)
                raise
            for c in deletes:
                error = gone.get(c.uid, ConflictError("no result"))
                if error is None:
                    self.observed.pop(c.uid, None)
                    self.ledger.applied(c)
                elif isinstance(error, ConflictError):
                    retry.add(c.uid)
                else:
                    self.ledger.failed(c, error.message)
                    failure = failure or error
        if failure is not None:
            raise failure  # the calendar stops, as a single failed write stops it
        batched = {c.uid for c in creates + deletes} - retry
        self.progress(len(batched), len(changes))
        return [c for c in changes if c.uid not in batched]
