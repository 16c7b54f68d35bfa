"""Prometheus metrics, hand-written in the text exposition format (version 0.0.4).

Counters count since the process started (Prometheus handles resets); gauges describe the last
real (not dry) run. A few series are small enough that a client library would add more than
it saves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from syncsvc import __version__
from syncsvc.domain.changes import WRITES, ChangeKind, RunReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Family:
    name: str
    kind: str  # "counter" | "gauge"
    help: str
    values: dict[Labels, float] = field(default_factory=dict)


class Metrics:
    """Thread-safe registry of the daemon's series; `render()` gives the exposition text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: dict[str, _Family] = {}
        self._declare("syncsvc_build_info", "gauge", "Build information.")
        self._set("syncsvc_build_info", 1, version=__version__)
        self._declare("syncsvc_runs_total", "counter", "Sync runs by outcome.")
        self._declare(
            "syncsvc_run_errors_total", "counter", "Runs that failed before any calendar."
        )
        self._declare("syncsvc_sync_running", "gauge", "1 while a sync runs.")
        self._set("syncsvc_sync_running", 0)
        self._declare(
            "syncsvc_last_run_duration_seconds", "gauge", "Duration of the last sync run."
        )
        self._declare(
            "syncsvc_last_run_timestamp_seconds", "gauge", "When the last sync run finished."
        )
        self._declare(
            "syncsvc_last_success_timestamp_seconds", "gauge", "When the last ok sync run finished."
        )
        self._declare(
            "syncsvc_changes_total", "counter", "Event changes applied, by calendar and kind."
        )
        self._declare(
            "syncsvc_change_failures_total", "counter", "Event changes that failed, by kind."
        )
        self._declare(
            "syncsvc_last_run_changes",
            "gauge",
            "The last run's planned changes by calendar, kind and status (applied, failed,"
            " not_attempted): the counts `status` shows.",
        )
        self._declare("syncsvc_calendar_errors_total", "counter", "Calendar sync failures.")
        self._declare(
            "syncsvc_calendar_up", "gauge", "1 if the calendar's last sync succeeded, else 0."
        )
        self._declare("syncsvc_requests_total", "counter", "Requests to calendar servers.")
        self._declare("syncsvc_plan_items", "gauge", "Items in the plan at the last run.")
        self._declare("syncsvc_plan_undated_items", "gauge", "Plan items without a usable date.")
        self._declare("syncsvc_plan_problems", "gauge", "Problems found in the plan.")
        self._declare(
            "syncsvc_http_requests_total", "counter", "HTTP answers by endpoint and code."
        )
        self._declare("syncsvc_sync_triggers_total", "counter", "Sync triggers by reason.")

    # --- recording -------------------------------------------------------------------------
    def observe_run(self, report: RunReport) -> None:
        finished = report.finished or report.started
        with self._lock:
            self._inc("syncsvc_runs_total", outcome=report.outcome, dry_run=_b(report.dry_run))
            if report.dry_run:
                return
            if report.error:
                self._inc("syncsvc_run_errors_total")
            self._put(
                "syncsvc_last_run_duration_seconds",
                (finished - report.started).total_seconds(),
            )
            self._put("syncsvc_last_run_timestamp_seconds", finished.timestamp())
            if report.outcome == "ok":
                self._put("syncsvc_last_success_timestamp_seconds", finished.timestamp())
            if not report.error:
                self._put("syncsvc_plan_items", report.plan_items)
                self._put("syncsvc_plan_undated_items", report.plan_undated)
                self._put("syncsvc_plan_problems", report.plan_problems)
            for cal in report.calendars:
                tally = cal.tally
                for kind in ChangeKind:
                    # Touch every kind so the series exist from the first run (rate() needs it).
                    self._inc(
                        "syncsvc_changes_total",
                        tally.applied.get(kind),
                        calendar=cal.name,
                        kind=kind.value,
                    )
                for kind in WRITES:
                    self._inc(
                        "syncsvc_change_failures_total",
                        tally.failed.get(kind),
                        calendar=cal.name,
                        kind=kind.value,
                    )
                    for status, counts in (
                        ("applied", tally.applied),
                        ("failed", tally.failed),
                        ("not_attempted", tally.not_attempted),
                    ):
                        self._put(
                            "syncsvc_last_run_changes",
                            counts.get(kind),
                            calendar=cal.name,
                            kind=kind.value,
                            status=status,
                        )
                self._inc("syncsvc_requests_total", cal.requests, calendar=cal.name)
                failed = cal.error is not None
                self._inc("syncsvc_calendar_errors_total", int(failed), calendar=cal.name)
                self._put("syncsvc_calendar_up", 0 if failed else 1, calendar=cal.name)

    def unfinished(self, *, dry_run: bool) -> None:
        """A run found in the history that its (earlier) process never finished."""
        with self._lock:
            self._inc("syncsvc_runs_total", outcome="unfinished", dry_run=_b(dry_run))

    def running(self, on: bool) -> None:
        with self._lock:
            self._put("syncsvc_sync_running", int(on))

    def trigger(self, reason: str) -> None:
        with self._lock:
            self._inc("syncsvc_sync_triggers_total", reason=reason)

    def http(self, endpoint: str, code: int) -> None:
        with self._lock:
            self._inc("syncsvc_http_requests_total", endpoint=endpoint, code=str(code))

    # --- exposition ------------------------------------------------------------------------
    def render(self) -> str:
        with self._lock:
            families = [
                (f.name, f.kind, f.help, sorted(f.values.items())) for f in self._families.values()
            ]
        out: list[str] = []
        for name, kind, help_text, values in families:
            out.append(f"# HELP {name} {_escape_help(help_text)}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(f"{name}{_labels(labels)} {_number(v)}" for labels, v in values)
        return "\n".join(out) + "\n"

    # --- internals (callers hold the lock) -----------------------------------------------
    def _declare(self, name: str, kind: str, help_text: str) -> None:
        self._families[name] = _Family(name, kind, help_text)

    def _set(self, name: str, value: float, **labels: str) -> None:
        self._families[name].values[_key(labels)] = value

    _put = _set

    def _inc(self, name: str, by: float = 1, **labels: str) -> None:
        values = self._families[name].values
        key = _key(labels)
        values[key] = values.get(key, 0) + by


def _b(value: bool) -> str:
    return "true" if value else "false"


def _key(labels: dict[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def _labels(labels: Iterable[tuple[str, str]]) -> str:
    parts = [f'{k}="{_escape_value(v)}"' for k, v in labels]
    return "{" + ",".join(parts) + "}" if parts else ""


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))
