"""The sync engine: plan -> desired events -> per calendar observe, diff -> guard -> apply.

Every calendar's diff is computed before anything is written; if the deletion guard refuses
any calendar, nothing is written anywhere in that run (a shrunk plan affects them all).
Calendars run in parallel and fail alone: one calendar's TargetError is its own report.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from structlog.contextvars import bound_contextvars

from syncsvc.domain.changes import CalendarReport, Change, ChangeKind, Outcome, RunReport
from syncsvc.domain.errors import ConflictError, TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.domain.plan import Plan
from syncsvc.engine.calendars import expand_calendars
from syncsvc.engine.feed import write_feed
from syncsvc.engine.inputs import load_plan_for, overrides_for, with_override_problems
from syncsvc.pipeline.diff import DELETED, EDITED, CalendarDiff, diff
from syncsvc.pipeline.guard import Verdict, check
from syncsvc.pipeline.route import desired_events
from syncsvc.settings import CalendarConfig, Settings
from syncsvc.state.base import TargetState
from syncsvc.state.memory import MemoryState, ReadOnlyState
from syncsvc.targets import registry
from syncsvc.targets.base import BulkTarget, Target

log = structlog.get_logger(__name__)

Progress = Callable[[str, int, int], None]  # (calendar, changes done, changes planned)


@dataclass
class _Work:
    """One calendar's run: its config, target, diff and report."""

    config: CalendarConfig
    report: CalendarReport
    desired: list[DesiredEvent]
    target: Target | None = None
    diff: CalendarDiff | None = None
    verdict: Verdict | None = None
    observed_after: dict[str, ObservedEvent] = field(default_factory=dict)
    closed: bool = False


def run_sync(
    settings: Settings,
    *,
    dry_run: bool = False,
    force: bool = False,
    plan: Plan | None = None,
    state: TargetState | None = None,
    run_id: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """One run over every calendar. PlanError/ConfigError propagate (nothing is written)."""
    run_id = run_id or uuid.uuid4().hex[:12]
    now = now or datetime.now(UTC)
    state = state if state is not None else MemoryState()
    if dry_run:
        state = ReadOnlyState(state)
    with bound_contextvars(run_id=run_id):
        plan = plan if plan is not None else load_plan_for(settings)
        overrides = overrides_for(settings)
        plan, unmatched = with_override_problems(plan, overrides)
        for problem in unmatched:
            log.warning("overrides.unmatched", where=str(problem.where), problem=problem.message)
        calendars = expand_calendars(settings, plan)
        desired = desired_events(
            plan,
            calendars,
            overrides,
            domain=settings.sync.domain,
            timezone=settings.plan.timezone,
        )
        report = RunReport(
            run_id=run_id,
            started=now,
            dry_run=dry_run,
            forced=force,
            plan_source=plan.source,
            plan_items=len(plan.items),
            plan_undated=len(plan.undated),
            plan_problems=len(plan.problems),
            notes=[f"{p.where}: {p.message}" if p.where else p.message for p in unmatched],
        )
        works = [
            _Work(cal, CalendarReport(name=cal.name, target=cal.target), desired[cal.name])
            for cal in calendars
        ]
        log.info("sync.start", calendars=len(works), dry_run=dry_run, forced=force)
        engine = _Engine(settings, state, run_id, now, progress)
        try:
            engine.each(works, engine.observe)
            refused = engine.guard(works, force=force)
            if dry_run:
                for w in works:
                    if w.report.outcome is Outcome.OK:
                        w.report.outcome = Outcome.PLANNED
            elif not refused:
                engine.each(works, engine.apply)
                _feed(settings, desired, works, now)
        finally:
            for w in works:
                if w.target is not None and not w.closed:
                    with suppress(TargetError):
                        w.target.close()
        report.calendars = [w.report for w in works]
        report.finished = datetime.now(UTC)
        log.info("sync.done", outcome=report.outcome)
        return report


class _Engine:
    def __init__(
        self,
        settings: Settings,
        state: TargetState,
        run_id: str,
        now: datetime,
        progress: Progress | None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.run_id = run_id
        self.now = now
        # "In the past" is decided in the plan's zone, not the server's or UTC.
        self.local_now = now.astimezone(ZoneInfo(settings.plan.timezone))
        self.progress = progress
        self._server_slots = {
            name: threading.Semaphore(server.max_parallel)
            for name, server in settings.servers.items()
        }

    def each(self, works: list[_Work], step: Callable[[_Work], None]) -> None:
        todo = [w for w in works if w.report.outcome is not Outcome.FAILED]
        workers = max(1, min(self.settings.sync.max_parallel_calendars, len(todo)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
            for future in [pool.submit(self._guarded, w, step) for w in todo]:
                future.result()  # re-raises bugs; TargetErrors were caught per calendar

    def _guarded(self, work: _Work, step: Callable[[_Work], None]) -> None:
        with bound_contextvars(run_id=self.run_id, calendar=work.config.name), self._slot(work):
            began = time.monotonic()
            try:
                step(work)
            except TargetError as err:
                log.error("calendar.failed", error=str(err))
                work.report.outcome = Outcome.FAILED
                work.report.error = err.message
            finally:
                work.report.duration_seconds += time.monotonic() - began
                if work.target is not None:
                    work.report.requests = work.target.stats.requests

    @contextmanager
    def _slot(self, work: _Work) -> Iterator[None]:
        slot = self._server_slots.get(getattr(work.config, "server", ""))
        if slot is None:
            yield
            return
        with slot:
            yield

    # --- phase 1: observe and diff ------------------------------------------------------
    def observe(self, work: _Work) -> None:
        name = work.config.name
        work.target = registry.open_target(work.config, self.settings, self.state)
        observed = work.target.observe()
        known = self.state.get_events(name).keys()
        work.diff = diff(
            work.desired,
            observed,
            now=self.local_now,
            delete_past=self.settings.sync.delete_past,
            known_uids=frozenset(known),
        )
        work.report.changes = list(work.diff.changes + work.diff.unchanged)
        work.report.notes.extend(work.target.stats.notes)
        log.info(
            "calendar.observed",
            owned=len(observed),
            creates=len(work.diff.creates),
            updates=len(work.diff.updates),
            deletes=len(work.diff.deletes),
        )

    # --- phase 2: guard -----------------------------------------------------------------
    def guard(self, works: list[_Work], *, force: bool) -> bool:
        """Check every calendar; if any is refused, mark the whole run refused."""
        refused: list[_Work] = []
        for w in works:
            if w.diff is None:
                continue
            threshold = w.config.delete_threshold
            if threshold is None:
                threshold = self.settings.sync.delete_threshold
            w.verdict = check(w.config.name, w.diff, threshold=threshold, force=force)
            if w.verdict.refused:
                refused.append(w)
        if not refused:
            return False
        names = ", ".join(w.config.name for w in refused)
        for w in works:
            if w.report.outcome is Outcome.FAILED:
                continue
            w.report.outcome = Outcome.REFUSED
            if w.verdict is not None and w.verdict.refused:
                w.report.error = f"deletion guard: {w.verdict.describe()}; use --force to apply"
            else:
                w.report.notes.append(f"run refused by guard on {names}")
        log.warning("sync.refused", calendars=names)
        return True

    # --- phase 3: apply -----------------------------------------------------------------
    def apply(self, work: _Work) -> None:
        target, planned = work.target, work.diff
        if target is None or planned is None:
            return
        observed = dict(planned.observed)
        done: dict[str, Change] = {}
        total = len(planned.changes)
        pending = list(planned.changes)
        if isinstance(target, BulkTarget):
            pending = self._apply_bulk(work, target, planned, pending, observed, done)
        offset = total - len(pending)
        for index, change in enumerate(pending, start=1):
            if self._apply_change(work, target, planned, change, observed):
                done[change.uid] = replace(change, applied=True)
            self._progress(work, offset + index, total)
        work.report.changes = [done.get(c.uid, c) for c in planned.changes] + list(
            planned.unchanged
        )
        work.report.restored = sum(
            1 for c in done.values() if c.reason in (EDITED, DELETED) and c.applied
        )
        # Save before closing: a target that keeps its own memory (CalDAV) saves on close what
        # it saw after our writes (edits made meanwhile, and the sync token past them); saving
        # the engine's older view after that would pair stale events with the new token and
        # hide those edits from every later run.
        self.state.save(work.config.name, self.state.get_token(work.config.name), observed)
        # Close here, not in the engine's cleanup: a target may write on close (the single-file
        # target does), and a failure then must fail this calendar, not vanish.
        work.closed = True
        target.close()
        work.observed_after = observed
        if work.report.conflicts:
            work.report.notes.append(f"{work.report.conflicts} event(s) changed while syncing")

    def _progress(self, work: _Work, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(work.config.name, done, total)

    def _apply_bulk(
        self,
        work: _Work,
        target: BulkTarget,
        planned: CalendarDiff,
        changes: list[Change],
        observed: dict[str, ObservedEvent],
        done: dict[str, Change],
    ) -> list[Change]:
        """Creates and deletes in batches; returns what is left for one-by-one writes
        (updates, and batch items that met a conflict: those get the re-read and retry)."""
        creates = [c for c in changes if c.kind is ChangeKind.CREATE]
        deletes = [c for c in changes if c.kind is ChangeKind.DELETE]
        if len(creates) + len(deletes) < 2:
            return changes
        retry: set[str] = set()
        failure: TargetError | None = None
        if creates:
            results = target.create_many([planned.desired[c.uid] for c in creates])
            for c in creates:
                result = results.get(c.uid)
                if isinstance(result, ObservedEvent):
                    observed[c.uid] = result
                    done[c.uid] = replace(c, applied=True)
                elif isinstance(result, ConflictError) or result is None:
                    retry.add(c.uid)
                else:
                    failure = failure or result
        if deletes:
            gone = target.delete_many([observed[c.uid] for c in deletes])
            for c in deletes:
                error = gone.get(c.uid, ConflictError("no result"))
                if error is None:
                    observed.pop(c.uid, None)
                    done[c.uid] = replace(c, applied=True)
                elif isinstance(error, ConflictError):
                    retry.add(c.uid)
                else:
                    failure = failure or error
        if failure is not None:
            # Record what did land, then fail the calendar as a single write would.
            self.state.save(work.config.name, self.state.get_token(work.config.name), observed)
            raise failure
        batched = {c.uid for c in creates + deletes} - retry
        self._progress(work, len(batched), len(changes))
        return [c for c in changes if c.uid not in batched]

    def _apply_change(
        self,
        work: _Work,
        target: Target,
        planned: CalendarDiff,
        change: Change,
        observed: dict[str, ObservedEvent],
    ) -> bool:
        """Apply one change; on a conflict re-read the event, re-diff and retry once."""
        uid = change.uid
        try:
            _write(target, change.kind, planned.desired.get(uid), observed.get(uid), observed)
            return True
        except ConflictError as err:
            log.info("event.conflict", uid=uid, error=err.message)
        fresh = target.observe_one(uid)
        wanted = planned.desired.get(uid)
        again = diff(
            [wanted] if wanted else [],
            {uid: fresh} if fresh else {},
            now=self.local_now,
            delete_past=self.settings.sync.delete_past,
        )
        if fresh is not None:
            observed[uid] = fresh
        else:
            observed.pop(uid, None)
        if not again.changes:
            return True  # someone already made it so
        retry = again.changes[0]
        try:
            _write(target, retry.kind, wanted, fresh, observed)
            return True
        except ConflictError as err:
            log.warning("event.conflict.gave_up", uid=uid, error=err.message)
            work.report.conflicts += 1
            return False


def _write(
    target: Target,
    kind: ChangeKind,
    wanted: DesiredEvent | None,
    old: ObservedEvent | None,
    observed: dict[str, ObservedEvent],
) -> None:
    if kind is ChangeKind.CREATE and wanted is not None:
        observed[wanted.uid] = target.create(wanted)
    elif kind is ChangeKind.UPDATE and wanted is not None and old is not None:
        observed[wanted.uid] = target.update(old, wanted, old.sequence + 1)
    elif kind is ChangeKind.DELETE and old is not None:
        target.delete(old)
        observed.pop(old.uid, None)


def _feed(
    settings: Settings, desired: Mapping[str, list[DesiredEvent]], works: list[_Work], now: datetime
) -> None:
    try:
        write_feed(settings, desired, now=now)
    except OSError as err:
        # The calendars are synced; the feed calendar's report carries the failure.
        log.error("feed.failed", error=str(err))
        for w in works:
            if w.config.name == settings.feed.calendar:
                w.report.outcome = Outcome.FAILED
                w.report.error = f"cannot write the public feed: {err}"
