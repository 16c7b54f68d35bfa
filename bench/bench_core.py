"""Benchmark the pure core on 100,000 desired events: route, render, hash, diff.

Run from the repository root: .venv/bin/python -m bench.bench_core [events] [--json].
Prints seconds and peak memory (tracemalloc) per stage; asserts nothing.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from bench._json import emit
from syncsvc.domain.events import DesiredEvent, ObservedEvent
from syncsvc.domain.ownership import OwnerKey
from syncsvc.domain.plan import Occurrence, Person, Plan, PlanItem
from syncsvc.engine.collector import collector_paused
from syncsvc.pipeline.diff import diff
from syncsvc.pipeline.ical import calendar_to_ical, event_to_ical
from syncsvc.pipeline.overrides import parse_overrides
from syncsvc.pipeline.route import desired_events
from syncsvc.settings import FolderCalendar

T = TypeVar("T")
PER_ITEM = 10


def make_plan(events: int) -> Plan:
    people = tuple(Person(f"Person {n}", f"person{n}@example.no") for n in range(20))
    items = []
    for n in range(events // PER_ITEM):
        first = date(2024, 1, 1) + timedelta(days=n % 300)
        occurrences = tuple(
            Occurrence(first + timedelta(days=7 * k), first + timedelta(days=7 * k + 1))
            for k in range(PER_ITEM)
        )
        items.append(
            PlanItem(
                key=f"varen-2024/aktivitet-{n}",
                title=f"Aktivitet {n} – tirsdagsmøte" if n % 3 == 0 else f"Aktivitet {n}",
                occurrences=occurrences,
                semester="Våren 2024",
                people=(people[n % 20].email, people[(n + 7) % 20].email),
                measures=(n % 27 + 1,),
                public=n % 4 == 0,
                notes=f"Notat {n}",
            )
        )
    return Plan("Årsplan 2024", 2024, tuple(items), people)


def paused(fn: Callable[[], T]) -> Callable[[], T]:
    """`fn` the way the engine runs routing and diffing: with the cyclic collector paused
    (engine.collector)."""

    def run() -> T:
        with collector_paused():
            return fn()

    return run


@dataclass
class Taken:
    seconds: float = 0.0
    peak_mb: float | None = None


def measure(label: str, fn: Callable[[], T], *, trace: bool = True, took: Taken | None = None) -> T:
    """Time `fn` on its own, then (if `trace`) run it again under tracemalloc for the peak:
    tracemalloc slows Python code several times, so one run cannot give both honestly."""
    began = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - began
    peak = "not traced"
    peak_mb = None
    if trace:
        tracemalloc.start()
        fn()
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        peak = f"peak {peak_mb:7.1f} MB"
        tracemalloc.stop()
    print(f"{label:<44} {seconds:8.2f} s   {peak}")
    if took is not None:
        took.seconds, took.peak_mb = seconds, peak_mb
    return result


def main() -> None:
    sizes = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(sizes[0]) if sizes else 100_000
    route, render, changed = Taken(), Taken(), Taken()
    plan = make_plan(count)
    overrides = parse_overrides(
        '[[override]]\ntitle = "tirsdagsmøte"\nstart_time = "10:00"\nend_time = "11:30"\n'
        'location = "Teams"\n'
    )
    org = FolderCalendar(target="folder", name="org", path="org")
    public = FolderCalendar(
        target="folder", name="public", path="p", selector="public", audience="public"
    )
    print(f"{count:,} occurrences, {len(plan.items):,} items")
    routed = measure(
        "route (org + public)",
        paused(
            lambda: desired_events(
                plan,
                [org, public],
                overrides,
                domain="bench.local",
                owner_key=OwnerKey(b"bench" * 8),
                timezone="Europe/Oslo",
            )
        ),
        took=route,
    )
    events = routed["org"]
    hashes = measure(
        "hash (content_hash, uncached)", lambda: [e.content.content_hash() for e in events]
    )
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    sample = events[:10_000]
    rendered = measure(
        f"render one VCALENDAR per event ({len(sample):,})",
        lambda: [event_to_ical(e, stamp=stamp) for e in sample],
    )
    print(f"{'':<44} {sum(map(len, rendered)) / len(rendered):8.0f} bytes per event")
    measure(
        f"render one calendar of {len(events):,} events",
        lambda: len(calendar_to_ical(events, name="bench", stamp=stamp)),
        trace=False,  # slow under tracemalloc; the 10,000-event run below gives the peak
        took=render,
    )
    measure(
        f"render one calendar of {len(sample):,} events",
        lambda: len(calendar_to_ical(sample, name="bench", stamp=stamp)),
    )
    observed = {
        e.uid: ObservedEvent(e.uid, e.uid, "etag", h, h, 0, e.content.start, e.content.end)
        for e, h in zip(events, hashes, strict=True)
    }
    now = datetime(2024, 3, 1, tzinfo=UTC)
    result = measure("diff (all unchanged)", paused(lambda: diff(events, observed, now=now)))
    print(f"{'':<44} {len(result.unchanged):,} unchanged, {len(result.changes)} changes")
    shifted = [
        DesiredEvent(e.uid, e.content, e.item_key) if i % 10 else _moved(e)
        for i, e in enumerate(events)
    ]
    result = measure(
        "diff (10% moved, 5% removed)",
        paused(lambda: diff(shifted[: len(shifted) * 95 // 100], observed, now=now)),
        took=changed,
    )
    print(
        f"{'':<44} {len(result.updates):,} updates, {len(result.deletes):,} deletes, "
        f"{len(result.unchanged):,} unchanged"
    )
    peaks = [t.peak_mb for t in (route, changed) if t.peak_mb is not None]
    print(f"{'route + diff (10% moved, 5% removed)':<44} {route.seconds + changed.seconds:8.2f} s")
    if "--json" in sys.argv:
        emit(
            {
                "render.events_100k_s": render.seconds,
                "core.route_diff_100k_s": route.seconds + changed.seconds,
                "core.peak_mb": max(peaks) if peaks else None,
            }
        )


def _moved(event: DesiredEvent) -> DesiredEvent:
    content = event.content
    start, end = content.start + timedelta(days=1), content.end + timedelta(days=1)
    from dataclasses import replace

    return DesiredEvent(event.uid, replace(content, start=start, end=end), event.item_key)


if __name__ == "__main__":
    main()
