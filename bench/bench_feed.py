"""Requests per second for the public feed on loopback: full 200 answers and 304 revalidations.

    .venv/bin/python bench/bench_feed.py [--requests 3000] [--events 200]

Starts the real HTTP server in-process on a free port with a generated feed, then runs a
bounded number of keep-alive GETs from 1 and from 8 client threads. Prints a table; no asserts.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syncsvc.settings import HttpSettings, Settings, SyncSettings
from syncsvc.web import WebContext, make_server, serve_in_thread


def make_feed(events: int) -> bytes:
    cal = icalendar.Calendar()
    cal.add("PRODID", "-//syncsvc bench//NO")
    cal.add("VERSION", "2.0")
    oslo = ZoneInfo("Europe/Oslo")
    for n in range(events):
        ev = icalendar.Event()
        ev.add("UID", f"bench-{n}@syncsvc.local")
        ev.add("DTSTAMP", datetime(2024, 1, 1, tzinfo=oslo))
        ev.add("SUMMARY", f"Arrangement nr. {n} – biblioteket")
        if n % 3:
            start = date(2024, 1, 1) + timedelta(days=n)
            ev.add("DTSTART", start)
            ev.add("DTEND", start + timedelta(days=1))
        else:
            start_dt = datetime(2024, 1, 1, 10, tzinfo=oslo) + timedelta(days=n)
            ev.add("DTSTART", start_dt)
            ev.add("DTEND", start_dt + timedelta(hours=2))
        ev.add("DESCRIPTION", "Åpent for alle. " * 5)
        cal.add_component(ev)
    data: bytes = cal.to_ical()
    return data


def worker(port: int, path: str, headers: dict[str, str], count: int, codes: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    seen = []
    for _ in range(count):
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        seen.append(response.status)
    conn.close()
    codes.extend(seen)


def measure(
    port: int, path: str, headers: dict[str, str], total: int, threads: int
) -> tuple[float, set[int]]:
    codes: list[int] = []
    per = max(1, total // threads)
    pool = [
        threading.Thread(target=worker, args=(port, path, headers, per, codes))
        for _ in range(threads)
    ]
    began = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began
    return per * threads / elapsed, set(codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per measurement")
    parser.add_argument("--events", type=int, default=200, help="events in the feed")
    args = parser.parse_args()
    # The server logs each request at debug level; the bench measures serving, not logging.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(sync=SyncSettings(data_dir=tmp), http=HttpSettings(port=0))
        feed = settings.data_path(settings.feed.path)
        feed.parent.mkdir(parents=True)
        feed.write_bytes(make_feed(args.events))
        server = make_server(WebContext(settings))
        thread = serve_in_thread(server)
        port = int(server.server_address[1])
        path = settings.feed.url_path

        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", path)
        first = conn.getresponse()
        body = first.read()
        etag = first.getheader("ETag") or ""
        modified = first.getheader("Last-Modified") or ""
        conn.close()

        cases = [
            ("200 full body", {}),
            ("304 If-None-Match", {"If-None-Match": etag}),
            ("304 If-Modified-Since", {"If-Modified-Since": modified}),
        ]
        print(f"feed: {args.events} events, {len(body):,} bytes; {args.requests} requests each")
        print(f"{'answer':<24}{'clients':>8}{'req/s':>10}  codes")
        for label, headers in cases:
            for threads in (1, 8):
                rate, codes = measure(port, path, headers, args.requests, threads)
                print(f"{label:<24}{threads:>8}{rate:>10,.0f}  {sorted(codes)}")
        server.shutdown()
        server.server_close()
        thread.join(5)


if __name__ == "__main__":
    main()
