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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from structlog.contextvars import bound_contextvars

from syncsvc.domain.changes import CalendarReport, Outcome, RunReport
from syncsvc.domain.errors import SyncsvcError, TargetError
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.domain.ownership import OwnerKey
from syncsvc.domain.plan import Plan
from syncsvc.engine.apply import Apply, Ledger
from syncsvc.engine.calendars import expand_calendars
from syncsvc.engine.collector import collector_paused
from syncsvc.engine.feed import write_feed
from syncsvc.engine.inputs import load_plan_for, overrides_for, with_override_problems
from syncsvc.logs import REDACTOR
from syncsvc.pipeline.adopt import adoptable, sort_claims, with_adoption
from syncsvc.pipeline.diff import CalendarDiff, diff
from syncsvc.pipeline.guard import Verdict, check
from syncsvc.pipeline.route import desired_events
from syncsvc.settings import CalendarConfig, Settings, secret_values
from syncsvc.state.base import RunJournal, TargetState
from syncsvc.state.memory import MemoryState, NullJournal, ReadOnlyState
from syncsvc.state.owner_key import owner_key_for
from syncsvc.targets import registry
from syncsvc.targets.base import CreatingTarget, Target

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
    journal: RunJournal | None = None,
) -> RunReport:
    """One run over every calendar. PlanError/ConfigError propagate (nothing is written).

    The run is in `journal` (by default the state, when it keeps run history) from its start,
    with each change as it settles, and finished there with the report, also when it fails;
    a process killed meanwhile leaves it "running", which the history later calls unfinished."""
    run_id = run_id or uuid.uuid4().hex[:12]
    now = now or datetime.now(UTC)
    state = state if state is not None else MemoryState()
    if journal is None:
        journal = state if isinstance(state, RunJournal) else NullJournal()
    if dry_run:
        state = ReadOnlyState(state)
    started = RunReport(run_id=run_id, started=now, dry_run=dry_run, forced=force)
    journal.begin(started)
    try:
        report = _run(
            settings,
            dry_run=dry_run,
            force=force,
            plan=plan,
            state=state,
            run_id=run_id,
            now=now,
            progress=progress,
            journal=journal,
        )
    except SyncsvcError as err:
        started.error, started.finished = str(err), datetime.now(UTC)
        journal.finish(started)
        raise
    journal.finish(report)
    return report


def _run(
    settings: Settings,
    *,
    dry_run: bool,
    force: bool,
    plan: Plan | None,
    state: TargetState,
    run_id: str,
    now: datetime,
    progress: Progress | None,
    journal: RunJournal,
) -> RunReport:
    with bound_contextvars(run_id=run_id):
        plan = plan if plan is not None else load_plan_for(settings)
        overrides = overrides_for(settings)
        plan, unmatched = with_override_problems(plan, overrides)
        for problem in unmatched:
            log.warning("overrides.unmatched", where=str(problem.where), problem=problem.message)
        calendars = expand_calendars(settings, plan)
        owner_key = owner_key_for(settings, create=not dry_run)
        REDACTOR.add(secret_values(settings))  # also when called as a library
        with collector_paused():
            desired = desired_events(
                plan,
                calendars,
                overrides,
                domain=settings.sync.domain,
                owner_key=owner_key,
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
        report.calendars = [w.report for w in works]
        journal.begin(report)
        log.info("sync.start", calendars=len(works), dry_run=dry_run, forced=force)
        engine = _Engine(settings, state, run_id, now, progress, journal, owner_key)
        try:
            engine.each(works, engine.observe)
            refused = engine.guard(works, force=force)
            if dry_run:
                for w in works:
                    if w.report.outcome is Outcome.OK:
                        w.report.outcome = Outcome.PLANNED
            elif not refused:
                journal.planned(report)  # every change not attempted yet, before any write
                engine.each(works, engine.apply)
                _feed(settings, desired, works, now)
        finally:
            for w in works:
                if w.target is not None and not w.closed:
                    with suppress(TargetError):
                        w.target.close()
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
        journal: RunJournal,
        owner_key: OwnerKey,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.owner_key = owner_key
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
                work.report.error = REDACTOR.text(err.message)  # servers may echo secrets
            finally:
                work.report.duration_seconds += time.monotonic() - began
                if work.target is not None:
                    work.report.requests = work.target.stats.requests
                    self._notes(work)

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
        # Only events whose marker verifies for this calendar are ours (pipeline.adopt).
        claims = sort_claims(work.target.observe(), self.owner_key.for_calendar(name))
        observed = claims.owned
        adoption = adoptable(work.desired, claims.legacy)
        known = self.state.get_events(name).keys()
        with collector_paused():
            planned = diff(
                work.desired,
                observed,
                now=self.local_now,
                delete_past=self.settings.sync.delete_past,
                known_uids=frozenset(known),
            )
        work.diff = with_adoption(planned, adoption)
        work.report.changes = list(work.diff.changes + work.diff.unchanged)
        self._notes(work)
        if claims.foreign:
            work.report.notes.append(
                f"{claims.foreign} event(s) carry a syncsvc marker that is not this calendar's "
                "(copies made in a calendar client, or another installation's): left alone"
            )
        if adoption.left:
            work.report.notes.append(
                f"{len(adoption.left)} event(s) written by an older syncsvc are edited or no "
                "longer in the plan: left alone (docs/IDENTITY.md, Migration)"
            )
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
        name = work.config.name
        journal = self.journal
        ledger = Ledger(planned.changes, lambda c: journal.settled(self.run_id, name, c))
        step = Apply(
            target,
            planned,
            ledger,
            owner=self.owner_key.for_calendar(name),
            now=self.local_now,
            delete_past=self.settings.sync.delete_past,
            progress=lambda done, total: self._progress(work, done, total),
        )
        try:
            if isinstance(target, CreatingTarget):
                # Every configured calendar exists after a real run, empty or not (a person
                # with nothing in the plan yet still finds their calendar).
                target.ensure_calendar()
            step.run()
        finally:
            work.report.changes = ledger.changes() + list(planned.unchanged)
            work.report.restored = step.restored
            work.report.conflicts = step.conflicts
            # Save before closing: a target that keeps its own memory (CalDAV) saves on close
            # what it saw after our writes (edits made meanwhile, and the sync token past
            # them); saving the engine's older view after that would pair stale events with
            # the new token and hide those edits from every later run.
            self.state.save(name, self.state.get_token(name), step.observed)
            work.observed_after = step.observed
        # Every change has its status now. What close() does is bookkeeping (a sync token, a
        # session): when it fails, the data is still as applied, so it is a note, not a failure.
        work.closed = True
        try:
            target.close()
        except TargetError as err:
            log.warning("calendar.bookkeeping_failed", error=str(err))
            work.report.notes.append(f"after the writes: {err.message}")
        self._notes(work)
        work.report.settle()

    def _notes(self, work: _Work) -> None:
        if work.target is not None:
            for note in work.target.stats.notes:
                if note not in work.report.notes:
                    work.report.notes.append(note)

    def _progress(self, work: _Work, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(work.config.name, done, total)


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
                w.report.error = REDACTOR.text(f"cannot write the public feed: {err}")
