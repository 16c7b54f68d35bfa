"""What a CalDAV server can take at best: bare conditional PUTs, one stream against several.

Run from the repository root: .venv/bin/python -m bench.bench_ceiling [--events 400]

No syncsvc code on the write path: one niquests session per stream, `PUT` with
`If-None-Match: *`, the bytes syncsvc would send, rendered beforehand. The events are split
over C calendars and written by one stream (calendar after calendar) or by several at once:
C streams, one per calendar (what syncsvc's `max_parallel` can gain), or S streams into
each calendar (what `max_in_flight` can gain). Only shapes with the same split are compared:
a PUT costs more in a fuller collection on both servers, so a split alone would look like a
gain. A client cannot beat these numbers. It prints a table (seconds, PUTs per second, and
the gain over one stream with the same split; median of the repetitions), asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import niquests

from bench._json import emit
from bench._servers import DavServer, running_servers
from bench.bench_caldav import _ICAL, files_per_calendar, fresh_calendars, make_plan, settings_for

# (label, calendars the events are split over, streams per calendar, calendars at once)
SHAPES = (
    ("1 calendar, 1 stream", 1, 1, 1),
    ("1 calendar, 2 in flight", 1, 2, 1),
    ("1 calendar, 4 in flight", 1, 4, 1),
    ("4 calendars, 1 stream", 4, 1, 1),
    ("4 calendars, 2 at once", 4, 1, 2),
    ("4 calendars, 4 at once", 4, 1, 4),
)
BASE = {1: "1 calendar, 1 stream", 4: "4 calendars, 1 stream"}


def _stream(server: DavServer, work: list[tuple[str, str, bytes]], failed: list[str]) -> None:
    auth = (server.username, server.password) if server.username and server.password else None
    with niquests.Session() as session:
        session.trust_env = False
        for url, name, body in work:
            reply = session.put(url + name, data=body, headers=_ICAL, auth=auth, timeout=30)
            if reply.status_code not in (201, 204):
                failed.append(f"{url}{name}: HTTP {reply.status_code}")
                return


def timed(
    server: DavServer, objects: list[tuple[str, bytes]], calendars: int, each: int, at_once: int
) -> float:
    """Seconds to PUT `objects` split over `calendars`, `each` streams per calendar and
    `at_once` calendars written at the same time (a stream takes its calendars in turn)."""
    urls = fresh_calendars(server, f"ceiling-{time.monotonic_ns()}-", calendars)
    split = [(urls[c], objects[c::calendars]) for c in range(calendars)]
    work = [
        [(url, name, body) for url, part in split[lane::at_once] for name, body in part[k::each]]
        for lane in range(at_once)
        for k in range(each)
    ]
    failed: list[str] = []
    threads = [threading.Thread(target=_stream, args=(server, w, failed)) for w in work]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if failed:
        raise RuntimeError(f"bare PUT failed on {server.kind}: {failed[0]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--servers", default="radicale,xandikos")
    parser.add_argument("--json", action="store_true", help="also print the gains as numbers")
    args = parser.parse_args()
    print(
        f"## CalDAV server ceiling: {args.events} bare PUTs, {args.repeats} runs; "
        f"load average at start {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)\n"
    )
    kinds = tuple(args.servers.split(","))
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    with running_servers(kinds) as servers, tempfile.TemporaryDirectory() as tmp:
        for kind, server in servers.items():
            shape = settings_for(server, ["/x/"], Path(tmp), parallel=1)
            objects = list(files_per_calendar(shape, make_plan(args.events, 1))[0].items())
            for _ in range(args.repeats):
                for label, calendars, each, at_once in SHAPES:  # in turns: load hits all alike
                    spent = timed(server, objects, calendars, each, at_once)
                    seconds[(kind, label)].append(spent)
    gains: dict[str, float | None] = {}
    print("| server | " + " | ".join(label for label, *_ in SHAPES) + " |")
    print("|---|" + "---|" * len(SHAPES))
    for kind in kinds:
        cells = []
        for label, calendars, *_ in SHAPES:
            base = statistics.median(seconds[(kind, BASE[calendars])])
            mid = statistics.median(seconds[(kind, label)])
            cells.append(f"{mid:.2f} s, {args.events / mid:.0f}/s, {base / mid:.2f}×")
            gains[f"ceiling.{kind}.{label.replace(' ', '_').replace(',', '')}"] = base / mid
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        emit(gains)


if __name__ == "__main__":
    main()
