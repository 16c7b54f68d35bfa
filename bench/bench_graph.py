"""Benchmark a Graph calendar sync against the fake Graph server (127.0.0.1, in-process).

Run from the repository root:

    .venv/bin/python -m bench.bench_graph [--events 400] [--repeats 3]

Per repetition, on a fresh mailbox: the initial sync (creates in $batch requests of 20), a
no-op resync, and a resync after 5% of the events changed; then the same initial sync with
a quarter of the batched sub-requests throttled (outer status 424, Retry-After 0, so only the
retry logic is timed). Each once with the fake checking every body against Microsoft's CSDL
(tests/graph_schema) and once without, to show what the checker costs the test suite.
Times are wall-clock medians; request counts are HTTP requests the fake saw. The fake is not
Exchange: this measures syncsvc's own work and request count, not Graph's latency.
It prints a Markdown table and asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import structlog

from bench._json import emit
from syncsvc.domain.plan import Occurrence, Plan, PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.settings import FeedSettings, Settings, SyncSettings
from syncsvc.state.memory import MemoryState
from syncsvc.targets.graph.client import BATCH_LIMIT
from syncsvc.targets.graph.config import GraphCalendar
from tests.fake_graph import FakeGraph
from tests.graph_harness import graph_settings

MAILBOX = "bench@skole.example"
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def plan(events: int, changed: int = 0) -> Plan:
    first = date(2024, 8, 1)
    items = tuple(
        PlanItem(
            key=f"bench/{n}",
            title=f"Hendelse {n}" + (" (endret)" if n < changed else ""),
            occurrences=(Occurrence(first + timedelta(n % 300), first + timedelta(n % 300 + 1)),),
        )
        for n in range(events)
    )
    return Plan(title="Bench", year=2024, items=items)


def settings(fake: FakeGraph, data_dir: str) -> Settings:
    return Settings(
        graph=graph_settings(fake),
        calendars=(GraphCalendar(target="graph", name="bench", mailbox=MAILBOX),),
        sync=SyncSettings(data_dir=data_dir, delete_threshold=1.0),
        feed=FeedSettings(calendar=None),
    )


def one(events: int, check_schema: bool, throttled: bool = True) -> dict[str, tuple[float, int]]:
    out: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp, FakeGraph() as fake:
        fake.check_schema = check_schema
        fake.add_mailbox(MAILBOX)
        config, state = settings(fake, tmp), MemoryState()
        steps = [
            ("initial", plan(events)),
            ("no-op", plan(events)),
            ("5% changed", plan(events, changed=events // 20)),
        ]
        for name, wanted in steps:
            before = len(fake.requests)
            start = time.perf_counter()
            run_sync(config, plan=wanted, state=state, now=NOW)
            out[name] = (time.perf_counter() - start, len(fake.requests) - before)
    if not throttled:
        return out
    with tempfile.TemporaryDirectory() as tmp, FakeGraph() as fake:
        fake.check_schema = check_schema
        fake.add_mailbox(MAILBOX)
        fake.fail_next_batch_subrequests(events // 4, status=429, retry_after=0, outer=424)
        start = time.perf_counter()
        run_sync(settings(fake, tmp), plan=plan(events), state=MemoryState(), now=NOW)
        out["initial, 25% throttled"] = (time.perf_counter() - start, len(fake.requests))
        assert len(fake.events(MAILBOX)) == events  # a broken bench is worse than none
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="also print the numbers for run_all")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    print(f"Graph target against the fake, {args.events} events, median of {args.repeats}\n")
    print("| step | checked: s | unchecked: s | requests |")
    print("|---|---|---|---|")
    runs = {
        # --json needs the initial sync only (the throttled run does not finish in one run
        # at 1,000 events: its retries run out, which that scenario is there to show).
        checked: [one(args.events, checked, not args.json) for _ in range(args.repeats)]
        for checked in (True, False)
    }
    for step in runs[True][0]:
        times = {c: statistics.median(r[step][0] for r in runs[c]) for c in runs}
        requests = runs[True][0][step][1]
        print(f"| {step} | {times[True]:.2f} | {times[False]:.2f} | {requests} |")
    # The ideal: every create in a full $batch of 20, 4 batches in flight (Outlook's limits).
    batches = -(-args.events // BATCH_LIMIT)
    print(
        f"\nideal initial sync: {batches} batch requests, {-(-batches // 4)} rounds of 4 in flight"
    )
    if args.json:
        initial = statistics.median(r["initial"][0] for r in runs[False])
        emit(
            {
                "graph.initial_1000_requests": runs[False][0]["initial"][1],
                "graph.initial_1000_s": initial,
                "graph.initial_1000_ideal_batches": batches,
            }
        )


if __name__ == "__main__":
    main()
