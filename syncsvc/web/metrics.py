"""Prometheus metrics with prometheus_client: counters since the process started, gauges for
the last real (not dry) run, histograms of run and HTTP request durations.

One registry per `Metrics` (not the library's global one), so tests and embedders can hold
several; `render()` is the text exposition `/metrics` serves.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from syncsvc import __version__
from syncsvc.domain.changes import WRITES, ChangeKind, RunReport

# The 0.0.4 text format: every Prometheus (2.x included) reads it, and our names need nothing
# newer. generate_latest() writes exactly that for these names.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# `_created` series double the output and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

RUN_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)


class Metrics:
    """The daemon's series. Label names are listed in alphabetical order, which is the order
    the exposition shows them in."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        Gauge("syncsvc_build_info", "Build information.", ["version"], registry=r).labels(
            __version__
        ).set(1)
        self.runs = Counter(
            "syncsvc_runs", "Sync runs by outcome.", ["dry_run", "outcome"], registry=r
        )
        self.run_errors = Counter(
            "syncsvc_run_errors", "Runs that failed before any calendar.", registry=r
        )
        self.sync_running = Gauge("syncsvc_sync_running", "1 while a sync runs.", registry=r)
        self.run_duration = Histogram(
            "syncsvc_run_duration_seconds",
            "Duration of real sync runs.",
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.last_duration = Gauge(
            "syncsvc_last_run_duration_seconds", "Duration of the last sync run.", registry=r
        )
        self.last_run = Gauge(
            "syncsvc_last_run_timestamp_seconds", "When the last sync run finished.", registry=r
        )
        self.last_success = Gauge(
            "syncsvc_last_success_timestamp_seconds",
            "When the last ok sync run finished.",
            registry=r,
        )
        self.changes = Counter(
            "syncsvc_changes",
            "Event changes applied, and events found unchanged, by calendar and kind.",
            ["calendar", "kind"],
            registry=r,
        )
        self.change_failures = Counter(
            "syncsvc_change_failures",
            "Event changes that failed, by calendar and kind.",
            ["calendar", "kind"],
            registry=r,
        )
        self.last_changes = Gauge(
            "syncsvc_last_run_changes",
            "The last run's planned changes by calendar, kind and status (applied, failed,"
            " not_attempted): the counts `status` shows.",
            ["calendar", "kind", "status"],
            registry=r,
        )
        self.calendar_errors = Counter(
            "syncsvc_calendar_errors", "Calendar sync failures.", ["calendar"], registry=r
        )
        self.calendar_up = Gauge(
            "syncsvc_calendar_up",
            "1 if the calendar's last sync succeeded, else 0.",
            ["calendar"],
            registry=r,
        )
        self.requests = Counter(
            "syncsvc_requests", "Requests to calendar servers.", ["calendar"], registry=r
        )
        self.plan_items = Gauge(
            "syncsvc_plan_items", "Items in the plan at the last run.", registry=r
        )
        self.plan_undated = Gauge(
            "syncsvc_plan_undated_items", "Plan items without a usable date.", registry=r
        )
        self.plan_problems = Gauge(
            "syncsvc_plan_problems", "Problems found in the plan.", registry=r
        )
        self.http_requests = Counter(
            "syncsvc_http_requests",
            "HTTP answers by endpoint and code.",
            ["code", "endpoint"],
            registry=r,
        )
        self.http_duration = Histogram(
            "syncsvc_http_request_duration_seconds",
            "Time to answer HTTP requests, by endpoint.",
            ["endpoint"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.triggers = Counter(
            "syncsvc_sync_triggers", "Sync triggers by reason.", ["reason"], registry=r
        )

    # --- recording -------------------------------------------------------------------------
    def observe_run(self, report: RunReport) -> None:
        finished = report.finished or report.started
        self.runs.labels(_b(report.dry_run), report.outcome).inc()
        if report.dry_run:
            return
        if report.error:
            self.run_errors.inc()
        seconds = (finished - report.started).total_seconds()
        self.run_duration.observe(seconds)
        self.last_duration.set(seconds)
        self.last_run.set(finished.timestamp())
        if report.outcome == "ok":
            self.last_success.set(finished.timestamp())
        if not report.error:
            self.plan_items.set(report.plan_items)
            self.plan_undated.set(report.plan_undated)
            self.plan_problems.set(report.plan_problems)
        for cal in report.calendars:
            tally = cal.tally
            for kind in WRITES:
                # inc(0) too: every series exists from the first run (rate() needs it).
                self.changes.labels(cal.name, kind.value).inc(tally.applied.get(kind))
                self.change_failures.labels(cal.name, kind.value).inc(tally.failed.get(kind))
                for status, counts in (
                    ("applied", tally.applied),
                    ("failed", tally.failed),
                    ("not_attempted", tally.not_attempted),
                ):
                    self.last_changes.labels(cal.name, kind.value, status).set(counts.get(kind))
            self.changes.labels(cal.name, ChangeKind.UNCHANGED.value).inc(tally.unchanged)
            self.requests.labels(cal.name).inc(cal.requests)
            failed = cal.error is not None
            self.calendar_errors.labels(cal.name).inc(int(failed))
            self.calendar_up.labels(cal.name).set(0 if failed else 1)

    def unfinished(self, *, dry_run: bool) -> None:
        """A run found in the history that its (earlier) process never finished."""
        self.runs.labels(_b(dry_run), "unfinished").inc()

    def running(self, on: bool) -> None:
        self.sync_running.set(int(on))

    def trigger(self, reason: str) -> None:
        self.triggers.labels(reason).inc()

    def http(self, endpoint: str, code: int, seconds: float | None = None) -> None:
        self.http_requests.labels(str(code), endpoint).inc()
        if seconds is not None:
            self.http_duration.labels(endpoint).observe(seconds)

    # --- exposition ------------------------------------------------------------------------
    def render(self) -> str:
        return generate_latest(self.registry).decode()


def _b(value: bool) -> str:
    return "true" if value else "false"
