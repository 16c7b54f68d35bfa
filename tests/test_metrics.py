"""The Prometheus series, read back with prometheus_client's own text parser."""

from __future__ import annotations

from datetime import date, timedelta

from prometheus_client.parser import text_string_to_metric_families

from syncsvc.domain.changes import CalendarReport, Change, ChangeKind, ChangeStatus, RunReport
from syncsvc.web.metrics import Metrics
from tests.feedsample import NOW


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.render()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def report(unchanged: int, created: int, *, seconds: float = 4.0) -> RunReport:
    changes = [
        Change(ChangeKind.UNCHANGED, f"u{n}", "x", date(2024, 9, 1), "unchanged")
        for n in range(unchanged)
    ] + [
        Change(
            ChangeKind.CREATE, f"c{n}", "y", date(2024, 9, 2), "new", status=ChangeStatus.APPLIED
        )
        for n in range(created)
    ]
    return RunReport(
        run_id="r",
        started=NOW,
        finished=NOW + timedelta(seconds=seconds),
        calendars=[CalendarReport(name="org", target="folder", changes=changes, requests=3)],
    )


def test_unchanged_events_are_counted() -> None:
    metrics = Metrics()
    metrics.observe_run(report(unchanged=41, created=2))
    metrics.observe_run(report(unchanged=43, created=0))
    got = samples(metrics)
    org = (("calendar", "org"),)
    assert got[("syncsvc_changes_total", (*org, ("kind", "unchanged")))] == 84
    assert got[("syncsvc_changes_total", (*org, ("kind", "create")))] == 2
    assert got[("syncsvc_changes_total", (*org, ("kind", "delete")))] == 0  # exists from run 1
    assert got[("syncsvc_requests_total", org)] == 6
    assert got[("syncsvc_runs_total", (("dry_run", "false"), ("outcome", "ok")))] == 2


def test_run_and_request_durations_are_histograms() -> None:
    metrics = Metrics()
    metrics.observe_run(report(1, 0, seconds=4.0))
    metrics.observe_run(report(1, 0, seconds=45.0))
    metrics.http("feed", 200, 0.003)
    metrics.http("feed", 304, 0.0004)
    got = samples(metrics)
    assert got[("syncsvc_run_duration_seconds_count", ())] == 2
    assert got[("syncsvc_run_duration_seconds_sum", ())] == 49.0
    assert got[("syncsvc_run_duration_seconds_bucket", (("le", "5.0"),))] == 1
    assert got[("syncsvc_run_duration_seconds_bucket", (("le", "60.0"),))] == 2
    feed = (("endpoint", "feed"),)
    assert got[("syncsvc_http_request_duration_seconds_count", feed)] == 2
    assert got[("syncsvc_http_request_duration_seconds_bucket", (*feed, ("le", "0.001")))] == 1
    assert got[("syncsvc_http_requests_total", (("code", "304"), *feed))] == 1
    assert got[("syncsvc_last_run_duration_seconds", ())] == 45.0


def test_dry_runs_count_as_runs_only() -> None:
    metrics = Metrics()
    dry = report(5, 1)
    dry.dry_run = True
    metrics.observe_run(dry)
    got = samples(metrics)
    assert got[("syncsvc_runs_total", (("dry_run", "true"), ("outcome", "ok")))] == 1
    assert got[("syncsvc_run_duration_seconds_count", ())] == 0
    assert not [k for k in got if k[0] == "syncsvc_changes_total"]


def test_registries_are_separate() -> None:
    one, two = Metrics(), Metrics()
    one.trigger("admin")
    assert ("syncsvc_sync_triggers_total", (("reason", "admin"),)) in samples(one)
    assert ("syncsvc_sync_triggers_total", (("reason", "admin"),)) not in samples(two)
