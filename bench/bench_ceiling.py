"""What a CalDAV server can take at best: bare conditional PUTs, one stream against several.

Run from the repository root: .venv/bin/python -m bench.bench_ceiling [--events 400]

No syncsvc code on the write path: one niquests session per stream, `PUT` with
`If-None-Match: *`, the bytes syncsvc would send, rendered beforehand. On each server it
times the same events written by 1 stream; by N streams into N calendars (what writing
several calendars at once can gain); and by N streams into one calendar (what several writes
in flight per calendar can gain). A client cannot beat these numbers, so they tell which of
syncsvc's knobs (`max_parallel`, `max_in_flight`) can pay on a server and machine. It
prints a table (seconds and PUTs per second, median of the repetitions) and asserts nothing.
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

from bench._servers import DavServer, running_servers
from bench.bench_caldav import _ICAL, files_per_calendar, fresh_calendars, make_plan, settings_for

SHAPES = (("one stream", 1, False), *((f"{n} calendars at once", n, False) for n in (2, 4)))
SHAPES += tuple((f"{n} in flight, one calendar", n, True) for n in (2, 4))


def _stream(server: DavServer, work: list[tuple[str, str, bytes]], failed: list[str]) -> None:
    auth = (server.username, server.password) if server.username and server.password else None
    with niquests.Session() as session:
        session.trust_env = False
        for url, name, body in work:
            reply = session.put(url + name, data=body, headers=_ICAL, auth=auth, timeout=30)
            if reply.status_code not in (201, 204):
                failed.append(f"{url}{name}: HTTP {reply.status_code}")
                return


def timed(server: DavServer, objects: list[tuple[str, bytes]], streams: int, shared: bool) -> float:
    """Seconds to PUT `objects` with `streams` threads, into one calendar or one each."""
    urls = fresh_calendars(server, f"ceiling-{time.monotonic_ns()}-", 1 if shared else streams)
    parts = [
        [(urls[0 if shared else k], name, body) for name, body in objects[k::streams]]
        for k in range(streams)
    ]
    failed: list[str] = []
    threads = [threading.Thread(target=_stream, args=(server, p, failed)) for p in parts]
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
                for label, streams, shared in SHAPES:  # in turns, so load hits all alike
                    seconds[(kind, label)].append(timed(server, objects, streams, shared))
    print("| server | " + " | ".join(label for label, _, _ in SHAPES) + " |")
    print("|---|" + "---|" * len(SHAPES))
    for kind in kinds:
        base = statistics.median(seconds[(kind, "one stream")])
        cells = []
        for label, _, _ in SHAPES:
            mid = statistics.median(seconds[(kind, label)])
            cells.append(f"{mid:.2f} s, {args.events / mid:.0f}/s, {base / mid:.2f}×")
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
