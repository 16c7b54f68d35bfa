"""Benchmark the CalDAV target against the server's own limit and against vdirsyncer.

Run from the repository root:

    .venv/bin/python -m bench.bench_caldav [--events 1000] [--calendars 10] [--repeats 3]

On local Radicale and Xandikos (127.0.0.1, started here, stopped at the end) it times, per
repetition and on fresh calendars each time:

- syncsvc's engine (`run_sync` with the real CalDAV target): initial sync, no-op resync,
  resync after 1% of the events changed; with the defaults, with 4 writes in flight per
  calendar, and with another number of calendars at once per server;
- a bare loop of PUTs (niquests, the target's HTTP library; one keep-alive session,
  sequential, one PUT per event, the same bytes): the server's own limit for the writes;
- vdirsyncer (PyPI, own venv) syncing the same .ics files from local vdir folders into the
  same server: initial, no-op, 1% changed. Its requests are counted in one extra repetition
  through a pass-through proxy on loopback (never in the timed runs).

It prints Markdown tables (median of the repetitions) and asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import niquests
import structlog

from bench import caldav_oneshot as oneshot
from bench import vdirsyncer_env as vds
from bench._json import emit
from bench._servers import (
    DavServer,
    FaultProxy,
    calendar_path,
    counting_proxy,
    running_servers,
    server_config,
)
from syncsvc.domain.changes import ChangeKind, RunReport
from syncsvc.domain.events import DesiredEvent
from syncsvc.domain.plan import Occurrence, Person, Plan, PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.pipeline.ical import event_to_ical
from syncsvc.pipeline.overrides import Overrides
from syncsvc.pipeline.route import desired_events
from syncsvc.settings import CalDAVCalendar, FeedSettings, Settings, SyncSettings
from syncsvc.state.memory import MemoryState
from syncsvc.state.owner_key import owner_key_for
from syncsvc.targets.caldav.config import CalDAVServer
from syncsvc.targets.caldav.target import object_name

TZ = ZoneInfo("Europe/Oslo")
PHASES = ("initial", "no-op", "1% changed")
PEOPLE = tuple(Person(f"Person {n} Hansen", f"person{n}@bibliotek.example.no") for n in range(5))
_ICAL = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}

# (server, mode, phase) -> measured values, one per repetition
Samples = dict[tuple[str, str, str], list[float]]
Timing = tuple[float, int | None]  # (wall seconds, HTTP requests when counted)


# --- the workload ---------------------------------------------------------------------------


def changed_items(events: int) -> frozenset[int]:
    """1% of the items, spread so each calendar gets its share (k*101 walks the residues)."""
    return frozenset((k * 101) % events for k in range(max(1, events // 100)))


def make_plan(events: int, calendars: int, changed: frozenset[int] = frozenset()) -> Plan:
    """`events` items of one occurrence each, half timed, half all-day; item n goes to
    calendar n % calendars (by its measure number). Items in `changed` get a new title."""
    items = []
    for n in range(events):
        day = date(2030, 1, 1) + timedelta(days=n % 365)
        if n % 2:
            occurrence = Occurrence(day, day + timedelta(days=1))
        else:
            start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ)
            occurrence = Occurrence(start, start + timedelta(minutes=90))
        title = f"Aktivitet {n} – arbeidsmøte for biblioteket"
        items.append(
            PlanItem(
                key=f"varen-2030/aktivitet-{n}",
                title=title + (" (nytt rom)" if n in changed else ""),
                occurrences=(occurrence,),
                semester="Våren 2030",
                people=(PEOPLE[n % len(PEOPLE)].email,),
                measures=(n % calendars + 1,),
                notes=f"Notat {n}: ta med utstyr og lister.",
            )
        )
    return Plan("Årsplan 2030", 2030, tuple(items), PEOPLE, source="bench")


def settings_for(
    server: DavServer,
    urls: Sequence[str],
    data_dir: Path,
    *,
    parallel: int,
    in_flight: int | None = None,
    base_url: str | None = None,
) -> Settings:
    """Settings for one calendar per URL; `base_url` replaces the server's (a proxy);
    `in_flight` None keeps the default writes in flight per calendar."""
    calendars = tuple(
        CalDAVCalendar(
            name=f"cal{k}",
            target="caldav",
            server="dav",
            url=calendar_path(server, url),
            selector=f"measure:{k + 1}",
        )
        for k, url in enumerate(urls)
    )
    update: dict[str, object] = {"max_parallel": parallel, "url": base_url or server.url}
    if in_flight is not None:
        update["max_in_flight"] = in_flight
    dav = server_config(server).model_copy(update=update)
    return Settings(
        servers={"dav": dav},
        calendars=calendars,
        feed=FeedSettings(calendar=None),
        sync=SyncSettings(data_dir=str(data_dir)),
    )


def files_per_calendar(settings: Settings, plan: Plan) -> list[dict[str, bytes]]:
    """For each calendar: object name -> the exact bytes the target sends for a create."""
    wanted = desired(settings, plan)
    return [
        {
            object_name(e.uid): event_to_ical(e, sequence=0, stamp=datetime.now(UTC))
            for e in wanted[cal.name]
        }
        for cal in settings.calendars
    ]


def desired(settings: Settings, plan: Plan) -> dict[str, list[DesiredEvent]]:
    return desired_events(
        plan,
        settings.calendars,
        Overrides(),
        domain=settings.sync.domain,
        owner_key=owner_key_for(settings),
        timezone=settings.plan.timezone,
    )


# --- the contenders -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workload:
    events: int
    calendars: int
    before: Plan
    after: Plan  # 1% changed

    @property
    def changed(self) -> int:
        return len(changed_items(self.events))


def fresh_calendars(server: DavServer, prefix: str, count: int) -> list[str]:
    return [server.new_calendar(f"{prefix}{k}") for k in range(count)]


def run_ours(
    server: DavServer,
    work: Workload,
    tmp: Path,
    *,
    parallel: int | None = None,
    in_flight: int | None = None,
    proxy: FaultProxy | None = None,
) -> dict[str, Timing]:
    """syncsvc's engine: phase -> (seconds, requests). `parallel` (calendars at once per
    server) and `in_flight` (writes per calendar) None keep the defaults. Requests come from
    the run report, or from the proxy's count when one is given (what went over the wire)."""
    urls = fresh_calendars(server, f"ours{parallel}-{in_flight}-", work.calendars)
    base = proxy.url + "/" if proxy else None
    settings = settings_for(
        server, urls, tmp, parallel=parallel or DEFAULT_PARALLEL, in_flight=in_flight, base_url=base
    )
    state = MemoryState()  # keeps the sync tokens between runs, as the daemon's store does
    expected = {"initial": work.events, "no-op": 0, "1% changed": work.changed}
    result: dict[str, Timing] = {}
    for phase, plan in zip(PHASES, (work.before, work.before, work.after), strict=True):
        seen = proxy.requests if proxy else 0
        began = time.perf_counter()
        report = run_sync(settings, plan=plan, state=state)
        seconds = time.perf_counter() - began
        _check(report, expected[phase], f"syncsvc {phase} on {server.kind}")
        reported = sum(c.requests for c in report.calendars)
        result[phase] = (seconds, proxy.requests - seen if proxy else reported)
    return result


def _check(report: RunReport, writes: int, what: str) -> None:
    """A bench that measures a failed run measures nothing: stop with the reason."""
    done = sum(
        c.count(kind)
        for c in report.calendars
        for kind in (ChangeKind.CREATE, ChangeKind.UPDATE, ChangeKind.DELETE)
    )
    if report.outcome != "ok" or done != writes:
        errors = "; ".join(c.error for c in report.calendars if c.error)
        raise RuntimeError(
            f"{what}: outcome {report.outcome}, {done} writes, not {writes} {errors}"
        )


def run_bare_puts(server: DavServer, files: list[dict[str, bytes]]) -> tuple[float, int]:
    """One keep-alive niquests session, one PUT per event, sequential: (seconds, requests)."""
    urls = fresh_calendars(server, "bare-", len(files))
    auth = (server.username, server.password) if server.username and server.password else None
    requests = 0
    with niquests.Session() as session:
        session.trust_env = False
        began = time.perf_counter()
        for url, objects in zip(urls, files, strict=True):
            for name, body in objects.items():
                reply = session.put(url + name, data=body, headers=_ICAL, auth=auth, timeout=10)
                requests += 1
                if reply.status_code not in (201, 204):
                    raise RuntimeError(f"bare PUT {url}{name}: HTTP {reply.status_code}")
        seconds = time.perf_counter() - began
    return seconds, requests


def run_vdirsyncer(
    server: DavServer,
    before: list[dict[str, bytes]],
    after: list[dict[str, bytes]],
    tmp: Path,
    *,
    count: bool = False,
) -> dict[str, Timing]:
    """vdirsyncer, one pair per calendar: phase -> (seconds, requests or None). The discover
    step it needs before the first sync is timed as its own phase."""
    urls = fresh_calendars(server, "vds-", len(before))
    run_dir = Path(tempfile.mkdtemp(prefix="vds-", dir=tmp))
    folders = []
    for k, objects in enumerate(before):
        folder = run_dir / f"cal{k}"
        folder.mkdir()
        for name, data in objects.items():
            (folder / name).write_bytes(data)
        folders.append(folder)

    def phases(base: str, counter: Callable[[], int] | None) -> dict[str, Timing]:
        pairs = [
            vds.Pair(
                f"cal{k}",
                folder,
                base + calendar_path(server, url),
                server.username,
                server.password,
            )
            for k, (folder, url) in enumerate(zip(folders, urls, strict=True))
        ]
        config = vds.write_config(run_dir / "config", pairs, run_dir / "status")
        result: dict[str, Timing] = {}
        steps: list[tuple[str, tuple[str, ...], Callable[[], None]]] = [
            ("discover", ("discover",), lambda: None),
            ("initial", ("sync",), lambda: None),
            ("no-op", ("sync",), lambda: None),
            ("1% changed", ("sync",), lambda: _rewrite_changed(folders, before, after)),
        ]
        for phase, args, prepare in steps:
            prepare()
            seen = counter() if counter else 0
            seconds = vds.run(config, *args)
            result[phase] = (seconds, counter() - seen if counter else None)
        return result

    if not count:
        return phases(server.url.rstrip("/"), None)
    with counting_proxy(server) as proxy:
        return phases(proxy.url, lambda: proxy.requests)


def _rewrite_changed(
    folders: list[Path], before: list[dict[str, bytes]], after: list[dict[str, bytes]]
) -> None:
    for folder, old, new in zip(folders, before, after, strict=True):
        for name, data in new.items():
            if old.get(name) != data:
                (folder / name).write_bytes(data)


def changed_files(settings: Settings, work: Workload) -> list[dict[str, bytes]]:
    """After the change: the changed events as syncsvc writes an update (SEQUENCE 1)."""
    old, new = desired(settings, work.before), desired(settings, work.after)
    result = []
    for cal in settings.calendars:
        was = {e.uid: e.content_hash for e in old[cal.name]}
        result.append(
            {
                object_name(e.uid): event_to_ical(
                    e, sequence=1 if was[e.uid] != e.content_hash else 0, stamp=datetime.now(UTC)
                )
                for e in new[cal.name]
            }
        )
    return result


# --- reporting ------------------------------------------------------------------------------


def cell(values: list[float], unit: str = "s") -> str:
    if not values:
        return "–"
    mid = statistics.median(values)
    if unit != "s":
        return f"{mid:,.0f}"
    spread = f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else ""
    return f"{mid:.2f} s{spread}"


def ratio(top: list[float], bottom: list[float]) -> str:
    if not top or not bottom or statistics.median(bottom) == 0:
        return "–"
    return f"{statistics.median(top) / statistics.median(bottom):.2f}×"


# The defaults of a [servers.NAME] CalDAV section: calendars at once, writes per calendar.
DEFAULT_PARALLEL = CalDAVServer.model_fields["max_parallel"].default
DEFAULT_IN_FLIGHT = CalDAVServer.model_fields["max_in_flight"].default
OTHER_PARALLEL = 2 if DEFAULT_PARALLEL != 2 else 4

MODES = (
    (
        "ours",
        f"syncsvc, defaults ({DEFAULT_PARALLEL} calendars at once, {DEFAULT_IN_FLIGHT} write each)",
    ),
    ("ours-flight4", "syncsvc, 4 writes in flight per calendar"),
    ("ours-calendars", f"syncsvc, {OTHER_PARALLEL} calendars at once"),
    ("oneshot", "syncsvc one-shot process"),
    ("bare", "bare PUT loop"),
    ("vds", "vdirsyncer"),
)


WIRE = ("wire", "syncsvc on the wire (proxy)")


def print_tables(secs: Samples, reqs: Samples, kinds: Sequence[str], work: Workload) -> None:
    print(
        f"\n### Wall time, median of runs (min–max): {work.events:,} events, "
        f"{work.calendars} calendars\n"
    )
    print("| server | phase | " + " | ".join(label for _, label in MODES) + " |")
    print("|---|---|" + "---|" * len(MODES))
    for kind in kinds:
        for phase in ("discover", *PHASES):
            row = [cell(secs[(kind, mode, phase)]) for mode, _ in MODES]
            if any(c != "–" for c in row):
                print(f"| {kind} | {phase} | " + " | ".join(row) + " |")
    print("\n### HTTP requests (syncsvc: from its run report, and counted by a proxy)\n")
    counted = (*MODES, WIRE)
    print("| server | phase | " + " | ".join(label for _, label in counted) + " |")
    print("|---|---|" + "---|" * len(counted))
    for kind in kinds:
        for phase in ("discover", *PHASES):
            row = [cell(reqs[(kind, mode, phase)], unit="n") for mode, _ in counted]
            if any(c != "–" for c in row):
                print(f"| {kind} | {phase} | " + " | ".join(row) + " |")
    print("\n### Ratios (medians)\n")
    print(
        "| server | initial: bare ÷ syncsvc (aim ≥ 1.3 Xandikos, ≥ 1.0 Radicale) "
        "| bare ÷ syncsvc, 4 writes in flight "
        f"| bare ÷ syncsvc, {OTHER_PARALLEL} calendars at once "
        "| no-op: vdirsyncer ÷ syncsvc daemon | one-shot no-op: vdirsyncer ÷ syncsvc (aim ≥ 2) "
        "| no-op requests per calendar (aim ≤ 1) "
        "| 1% changed: vdirsyncer ÷ syncsvc |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        noop_reqs = reqs[(kind, "ours", "no-op")]
        per_cal = f"{statistics.median(noop_reqs) / work.calendars:.1f}" if noop_reqs else "–"
        cells = [
            ratio(secs[(kind, "bare", "initial")], secs[(kind, "ours", "initial")]),
            ratio(secs[(kind, "bare", "initial")], secs[(kind, "ours-flight4", "initial")]),
            ratio(secs[(kind, "bare", "initial")], secs[(kind, "ours-calendars", "initial")]),
            ratio(secs[(kind, "vds", "no-op")], secs[(kind, "ours", "no-op")]),
            ratio(secs[(kind, "vds", "no-op")], secs[(kind, "oneshot", "no-op")]),
            per_cal,
            ratio(secs[(kind, "vds", "1% changed")], secs[(kind, "ours", "1% changed")]),
        ]
        print(f"| {kind} | " + " | ".join(cells) + " |")


# --- main -----------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> None:
    kinds = tuple(args.servers.split(","))
    work = Workload(
        args.events,
        args.calendars,
        make_plan(args.events, args.calendars),
        make_plan(args.events, args.calendars, changed_items(args.events)),
    )
    secs: Samples = defaultdict(list)
    reqs: Samples = defaultdict(list)

    def record(kind: str, mode: str, values: Mapping[str, Timing]) -> None:
        # Progress on stderr, so a cut-short run still leaves its numbers.
        shown = ", ".join(f"{p} {s:.2f} s/{r}" for p, (s, r) in values.items())
        print(f"  {kind} {mode}: {shown}", file=sys.stderr, flush=True)
        for phase, (seconds, requests) in values.items():
            secs[(kind, mode, phase)].append(seconds)
            if requests is not None:
                reqs[(kind, mode, phase)].append(requests)

    with running_servers(kinds) as servers, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for rep in range(args.repeats):
            for kind, server in servers.items():
                print(f"run {rep + 1}/{args.repeats} on {kind} ...", file=sys.stderr)
                record(kind, "ours", run_ours(server, work, tmp))
                record(kind, "ours-flight4", run_ours(server, work, tmp, in_flight=4))
                record(kind, "ours-calendars", run_ours(server, work, tmp, parallel=OTHER_PARALLEL))
                urls = fresh_calendars(server, "oneshot-", work.calendars)
                root = tmp / f"oneshot-{kind}-{rep}"
                noop = oneshot.noop_seconds(server, urls, root, work.events, runs=3)
                record(kind, "oneshot", {"no-op": (noop, None)})
                # Settings only to render the files: the URLs do not matter here.
                shape = settings_for(server, ["/x/"] * work.calendars, tmp, parallel=1)
                before = files_per_calendar(shape, work.before)
                seconds, requests = run_bare_puts(server, before)
                record(kind, "bare", {"initial": (seconds, requests)})
                if args.vdirsyncer:
                    after = changed_files(shape, work)
                    timed = run_vdirsyncer(server, before, after, tmp)
                    record(kind, "vds", {p: (s, None) for p, (s, _) in timed.items()})
        if args.vdirsyncer:
            for kind, server in servers.items():
                print(f"counting vdirsyncer's requests on {kind} ...", file=sys.stderr)
                shape = settings_for(server, ["/x/"] * work.calendars, tmp, parallel=1)
                before, after = files_per_calendar(shape, work.before), changed_files(shape, work)
                counted = run_vdirsyncer(server, before, after, tmp, count=True)
                for phase, (_, n) in counted.items():
                    reqs[(kind, "vds", phase)].extend([n] if n is not None else [])
        for kind, server in servers.items():
            print(f"counting syncsvc's requests on the wire on {kind} ...", file=sys.stderr)
            with counting_proxy(server) as proxy:
                wire = run_ours(server, work, tmp, proxy=proxy)
            for phase, (_, n) in wire.items():
                reqs[(kind, "wire", phase)].extend([n] if n is not None else [])
    print_tables(secs, reqs, kinds, work)
    startup = oneshot.startup_line(vds if args.vdirsyncer else None)
    if args.json:
        emit(oneshot.json_numbers(secs, reqs, kinds, work.calendars, startup))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--calendars", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--servers", default="radicale,xandikos")
    parser.add_argument(
        "--no-vdirsyncer", dest="vdirsyncer", action="store_false", help="skip vdirsyncer"
    )
    parser.add_argument("--json", action="store_true", help="also print the numbers for run_all")
    args = parser.parse_args(argv)
    # The engine logs every calendar at info level; the tables are the output here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if args.vdirsyncer:
        vds.ensure()
    load = os.getloadavg()
    print(
        f"## CalDAV: {args.events:,} events in {args.calendars} calendars, "
        f"{args.repeats} runs; load average at start {load[0]:.2f} ({os.cpu_count()} cores)"
    )
    began = time.perf_counter()
    measure(args)
    print(
        f"\ntotal {time.perf_counter() - began:.0f} s; load average at end {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
