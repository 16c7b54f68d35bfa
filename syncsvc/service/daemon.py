"""The long-running service: scheduled syncs, a plan watch, the HTTP server, clean shutdown.

Shape: APScheduler jobs and HTTP requests never sync themselves; they only *trigger*. One
worker thread (`SyncRunner`) runs syncs one at a time, so two syncs never overlap and any
number of triggers during a run coalesce into exactly one more run after it. SIGTERM/SIGINT
stop the scheduler, let the running sync finish, and the process exits 0.
"""

from __future__ import annotations

import hashlib
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syncsvc.domain.changes import RunReport
from syncsvc.domain.errors import ConfigError, PlanError, SyncsvcError
from syncsvc.domain.plan import Plan
from syncsvc.domain.redact import public_location
from syncsvc.engine.inputs import overrides_for, with_override_problems
from syncsvc.logs import REDACTOR
from syncsvc.plan import netguard
from syncsvc.plan.source import is_url, read_source
from syncsvc.settings import Settings
from syncsvc.state.base import TargetState
from syncsvc.state.records import SyncStatus, TriggerResult
from syncsvc.state.sqlite import SqliteState, open_state
from syncsvc.web.admin_ui import FORCE_REASON
from syncsvc.web.metrics import Metrics

log = structlog.get_logger(__name__)

FILE_WATCH_SECONDS = 3.0  # how often a plan file is checked (stat, then hash on change)
URL_WATCH_SECONDS = 300.0  # how often a plan URL is revalidated (conditional GET)


class SyncFunction(Protocol):
    """`syncsvc.engine.run.run_sync`, or a stand-in in tests."""

    def __call__(
        self,
        settings: Settings,
        *,
        plan: Plan | None = None,
        state: TargetState | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> RunReport: ...


PlanLoader = Callable[[Settings], Plan]


# --- one sync at a time ------------------------------------------------------------------------
class SyncRunner:
    """Runs `run_once` on a worker thread, never two at once; triggers coalesce.

    A trigger while idle starts a run; triggers while a run is going mark one more run as
    pending (however many arrive); `stop()` lets the current run finish and drops the pending one.
    """

    def __init__(self, run_once: Callable[[tuple[str, ...]], None]) -> None:
        self._run_once = run_once
        self._cond = threading.Condition()
        self._pending: list[str] = []  # reasons of the triggers waiting for the next run
        self._running = False
        self._stopping = False
        self._runs = 0
        self._thread = threading.Thread(target=self._loop, name="syncsvc-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def trigger(self, reason: str) -> TriggerResult:
        with self._cond:
            if self._stopping:
                return TriggerResult(queued=False, running=self._running, reason="shutting down")
            coalesced = bool(self._pending)
            self._pending.append(reason)
            self._cond.notify_all()
            return TriggerResult(queued=True, running=self._running, coalesced=coalesced)

    def status(self) -> SyncStatus:
        with self._cond:
            return SyncStatus(running=self._running, pending=bool(self._pending), runs=self._runs)

    @property
    def runs(self) -> int:
        with self._cond:
            return self._runs

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no run is going or pending; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._running and not self._pending, timeout)

    def wait_runs(self, count: int, timeout: float) -> bool:
        """Wait until `count` runs have finished; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._runs >= count, timeout)

    def stop(self, timeout: float | None = None) -> None:
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or bool(self._pending))
                if self._stopping:
                    return
                reasons = tuple(dict.fromkeys(self._pending))  # unique, in order
                self._pending.clear()
                self._running = True
            try:
                self._run_once(reasons)
            except BaseException:  # the worker must outlive any run
                log.exception("daemon.worker_failed")
            finally:
                with self._cond:
                    self._running = False
                    self._runs += 1
                    self._cond.notify_all()


# --- plan watch --------------------------------------------------------------------------------
class PlanWatch:
    """Notices when the plan (or its overrides file) changes.

    Files: a cheap stat every few seconds, a hash only when size or mtime moved and then held
    still for one check (an editor that rewrites identical bytes does not cause a run).
    URLs: the plan reader's conditional GET (ETag / Last-Modified, body cached), then a hash
    of the body.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.locations = [settings.plan_location()]
        if settings.plan.overrides:
            self.locations.append(str(settings.resolve(settings.plan.overrides)))
        self._stat: dict[str, tuple[int, int] | None] = {}
        self._hash: dict[str, str | None] = {}
        self._settling: dict[str, tuple[int, int] | None] = {}
        self._cache = settings.data_dir / "cache" / "plan-watch"
        self.prime()

    @property
    def remote(self) -> bool:
        return is_url(self.locations[0])

    def prime(self) -> None:
        for loc in self.locations:
            self._stat[loc] = _stat(loc)
            self._hash[loc] = self._digest(loc)

    def changed(self) -> list[str]:
        """Locations whose content differs from the last check (and remembers the new one).

        A file counts only once its stat has held still for one check: an editor or a copy
        still writing it must not start a sync on half a plan (which could delete events).
        """
        out = []
        for loc in self.locations:
            if not is_url(loc):
                st = _stat(loc)
                if st == self._stat.get(loc):
                    continue
                if st != self._settling.get(loc):
                    self._settling[loc] = st  # moved since the last look: wait for it to settle
                    continue
                self._stat[loc] = st
                self._settling.pop(loc, None)
            digest = self._digest(loc)
            if digest != self._hash.get(loc):
                self._hash[loc] = digest
                out.append(loc)
        return out

    def _digest(self, location: str) -> str | None:
        try:
            fetched = read_source(
                location,
                max_bytes=self.settings.plan.max_bytes,
                timeout_seconds=self.settings.plan.timeout_seconds,
                cache_dir=self._cache,
            )
        except PlanError as err:
            # A missing or unreachable plan is the sync's to report; the watch just notes it.
            log.debug("plan.watch_failed", location=location, error=str(err))
            return None
        return hashlib.sha256(fetched.data).hexdigest()


def _stat(location: str) -> tuple[int, int] | None:
    try:
        st = Path(location).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


# --- the daemon --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DaemonInfo:
    """What a started daemon tells `on_start` (tests use the port when it was 0)."""

    http_address: tuple[str, int] | None
    state_path: Path
    ready_within: timedelta


def schedule_trigger(settings: Settings) -> IntervalTrigger | CronTrigger:
    zone = settings.plan.timezone
    if settings.sync.cron:
        try:
            return CronTrigger.from_crontab(settings.sync.cron, timezone=zone)
        except ValueError as err:
            raise ConfigError(f"sync.cron: invalid crontab expression: {err}") from None
    return IntervalTrigger(minutes=settings.sync.interval_minutes, timezone=zone)


def expected_period(settings: Settings, now: datetime | None = None) -> timedelta:
    """The time between two scheduled runs (for cron: the next gap from `now`)."""
    if not settings.sync.cron:
        return timedelta(minutes=settings.sync.interval_minutes)
    trigger = schedule_trigger(settings)
    first: datetime | None = trigger.get_next_fire_time(None, now or datetime.now(UTC))
    second: datetime | None = (
        trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    )
    if first is None or second is None:
        return timedelta(days=1)
    return max(second - first, timedelta(minutes=1))


def run_daemon(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    on_run: Callable[[RunReport], None] | None = None,
    sync: SyncFunction | None = None,
    load_plan: PlanLoader | None = None,
    on_start: Callable[[DaemonInfo], None] | None = None,
    watch_seconds: float | None = None,
) -> int:
    """Run until `stop` is set or SIGTERM/SIGINT arrives; returns the exit code (0).

    `sync` and `load_plan` replace the real engine and plan reader (tests); `watch_seconds`
    is how often the plan is checked for changes.
    Configuration problems (bad cron, port in use, unusable state store) raise ConfigError
    before anything is scheduled.
    """
    stop = stop or threading.Event()
    if sync is None or load_plan is None:
        from syncsvc.engine.inputs import load_plan_for
        from syncsvc.engine.run import run_sync

        sync = sync or run_sync
        load_plan = load_plan or load_plan_for
    trigger_spec = schedule_trigger(settings)
    ready_within = 2 * expected_period(settings)
    store = open_state(settings)
    metrics = Metrics()
    # A run the previous process never finished (killed, power cut): on record and counted.
    for run_id, dry_run in store.sweep():
        log.warning("sync.unfinished_found", unfinished_run_id=run_id, dry_run=dry_run)
        metrics.unfinished(dry_run=dry_run)
    run_fn: SyncFunction = sync
    plan_fn: PlanLoader = load_plan

    def run_once(reasons: tuple[str, ...]) -> None:
        report = _run_and_record(settings, run_fn, plan_fn, store, metrics, reasons)
        if on_run is not None:
            try:
                on_run(report)
            except Exception:
                log.exception("daemon.on_run_failed", run_id=report.run_id)

    runner = SyncRunner(run_once)

    def trigger(reason: str) -> TriggerResult:
        metrics.trigger(reason)
        result = runner.trigger(reason)
        log.debug("sync.triggered", reason=reason, **result.log_fields())
        return result

    server = None
    http_address: tuple[str, int] | None = None
    if settings.http.enabled:
        from syncsvc.web import WebContext, make_server, serve_in_thread

        context = WebContext(
            settings,
            metrics=metrics,
            store=store,
            trigger=trigger,
            ready_within=ready_within,
            sync_status=runner.status,
            preview=lambda: _preview(settings, run_fn, plan_fn, store),
        )
        try:
            server = make_server(context)
        except OSError as err:
            store.close()
            where = f"{settings.http.host}:{settings.http.port}"
            raise ConfigError(f"http: cannot listen on {where}: {err.strerror or err}") from None
        http_address = (str(server.server_address[0]), int(server.server_address[1]))

    watch = PlanWatch(settings)
    every = watch_seconds or (URL_WATCH_SECONDS if watch.remote else FILE_WATCH_SECONDS)

    def check_plan() -> None:
        changed = watch.changed()
        if changed:
            log.info("plan.changed", locations=changed)
            trigger("plan-changed")

    scheduler = BackgroundScheduler(timezone=settings.plan.timezone)
    common: dict[str, object] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    scheduler.add_job(trigger, trigger_spec, args=("schedule",), id="sync", **common)
    scheduler.add_job(check_plan, IntervalTrigger(seconds=every), id="plan-watch", **common)

    restore = _install_signal_handlers(stop)
    netguard.allow_fetches()
    try:
        runner.start()
        trigger("startup")
        scheduler.start()
        if server is not None:
            serve_in_thread(server)
        log.info(
            "daemon started",
            http=f"http://{http_address[0]}:{http_address[1]}" if http_address else None,
            schedule=settings.sync.cron or f"every {settings.sync.interval_minutes:g} min",
            plan=public_location(settings.plan_location()),
            plan_watch_seconds=every,
            state=str(store.path),
        )
        if on_start is not None:
            on_start(DaemonInfo(http_address, store.path, ready_within))
        stop.wait()
        log.info("daemon.stopping")
    finally:
        restore()
        scheduler.shutdown(wait=False)
        # A plan download in progress fails now (a PlanError: the run changes nothing)
        # instead of holding shutdown until its deadline.
        netguard.stop_fetches()
        try:
            runner.stop()
        finally:
            netguard.allow_fetches()  # the switch is process-wide: only for this shutdown
        if server is not None:
            server.shutdown()
            server.server_close()
        store.close()
    log.info("daemon.stopped", runs=runner.runs)
    return 0


def _run_and_record(
    settings: Settings,
    sync: SyncFunction,
    load_plan: PlanLoader,
    store: SqliteState,
    metrics: Metrics,
    reasons: tuple[str, ...],
) -> RunReport:
    run_id = uuid.uuid4().hex[:12]
    started = datetime.now(UTC)
    with structlog.contextvars.bound_contextvars(run_id=run_id):
        log.info("sync.start", reasons=list(reasons))
        metrics.running(True)
        try:
            # On record from here, so a run killed while reading the plan is not lost.
            store.begin(RunReport(run_id=run_id, started=started))
            # The plan is read here, not in the engine, so its undated items and problems can
            # be kept for /admin/status (the report only carries their counts).
            # With the override rules that match nothing, so the admin sees them too.
            plan, _ = with_override_problems(load_plan(settings), overrides_for(settings))
            _keep_plan_issues(store, plan)
            # Only a person passes --force: the admin page, after a confirmation that showed
            # what the run deletes. Schedule and plan watch never do.
            force = FORCE_REASON in reasons
            report = sync(settings, plan=plan, state=store, run_id=run_id, force=force)
        except SyncsvcError as err:
            # PlanError and friends: recorded as a failed run; the next trigger tries again.
            report = RunReport(run_id=run_id, started=started, error=REDACTOR.text(str(err)))
        except Exception as err:
            log.exception("sync.crashed")
            report = RunReport(
                run_id=run_id, started=started, error=f"internal error: {type(err).__name__}: {err}"
            )
        finally:
            metrics.running(False)
        if report.finished is None:
            report.finished = datetime.now(UTC)
        try:
            store.record_run(report)
        except Exception:
            log.exception("state.record_run_failed")
        metrics.observe_run(report)
        _log_report(report)
    return report


def _preview(
    settings: Settings, sync: SyncFunction, load_plan: PlanLoader, store: SqliteState
) -> dict[str, Any]:
    """A dry run for the admin page's pending changes: nothing is written or recorded."""
    plan, _ = with_override_problems(load_plan(settings), overrides_for(settings))
    return sync(settings, plan=plan, state=store, dry_run=True).to_dict()


def _keep_plan_issues(store: SqliteState, plan: Plan) -> None:
    try:
        store.record_plan(plan)
    except Exception:
        log.exception("state.record_problems_failed")


def _log_report(report: RunReport) -> None:
    tally = report.tally
    # The applied counts, as `status` shows them; failures and skipped writes beside them.
    totals = {
        **tally.applied.as_dict(),
        "unchanged": tally.unchanged,
        "changes_failed": tally.failed.total,
        "changes_not_attempted": tally.not_attempted.total,
    }
    duration = ((report.finished or report.started) - report.started).total_seconds()
    fields: dict[str, object] = {
        "outcome": report.outcome,
        "duration_seconds": round(duration, 3),
        "calendars": len(report.calendars),
        **totals,
    }
    if report.plan_undated or report.plan_problems:
        fields.update(plan_undated=report.plan_undated, plan_problems=report.plan_problems)
    if report.outcome == "ok":
        log.info("sync.finish", **fields)
        return
    failed = {c.name: c.error for c in report.calendars if c.error}
    log.warning("sync.finish", error=report.error, failed=failed or None, **fields)


def _install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM/SIGINT set `stop`; only possible (and only done) on the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            log.info("daemon.still_finishing", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
