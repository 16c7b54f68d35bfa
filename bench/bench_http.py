"""Requests per second and latency (p50, p99) of the daemon's HTTP server on loopback.

    .venv/bin/python bench/bench_http.py [--seconds 3] [--clients 1,8,64] [--events 200]

The server runs alone in a child process (tests/http_child.py), so the client threads here do
not share its interpreter lock. Each row: N keep-alive clients for a fixed time against the
feed (full 200 and 304 revalidation) and the agenda page, the latter with a fixed Host header
and with a different Host on every request (which must not change the rate: the page does not
depend on Host). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _client(
    port: int,
    path: str,
    headers: dict[str, str],
    rotate: bool,
    until: float,
    out: list[float],
    errors: list[str],
) -> None:
    try:
        _requests(port, path, headers, rotate, until, out)
    except (OSError, http.client.HTTPException, RuntimeError) as err:
        errors.append(type(err).__name__)


def _requests(
    port: int, path: str, headers: dict[str, str], rotate: bool, until: float, out: list[float]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while time.perf_counter() < until:
        h = dict(headers)
        if rotate:
            n += 1
            h["Host"] = f"h{threading.get_ident() % 997}-{n}.example:8080"
        start = time.perf_counter()
        conn.request("GET", path, headers=h)
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - start)
        if response.status not in (200, 304):
            raise RuntimeError(f"{path}: HTTP {response.status}")
    conn.close()


def run(
    port: int, path: str, headers: dict[str, str], clients: int, seconds: float, rotate: bool
) -> tuple[float, float, float, int]:
    lats: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    until = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=_client, args=(port, path, headers, rotate, until, lats[i], errors))
        for i in range(clients)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    all_lat = sorted(x for xs in lats for x in xs)
    if not all_lat:
        return 0.0, 0.0, 0.0, len(errors)
    p50 = all_lat[len(all_lat) // 2]
    p99 = all_lat[min(len(all_lat) - 1, int(len(all_lat) * 0.99))]
    return len(all_lat) / elapsed, p50 * 1000, p99 * 1000, len(errors)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", default="1,8,64")
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.http_child", tmp, "--events", str(args.events)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdin is not None
        port = int(json.loads(child.stdout.readline())["port"])
        etag = ""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/hva-skjer.ics")
        first = conn.getresponse()
        size = len(first.read())
        etag = first.getheader("ETag") or ""
        conn.close()
        cases = [
            ("feed 200", "/hva-skjer.ics", {}, False),
            ("feed 304 If-None-Match", "/hva-skjer.ics", {"If-None-Match": etag}, False),
            ("agenda, one Host", "/", {"Host": "bibliotek.example:8080"}, False),
            ("agenda, rotating Host", "/", {}, True),
        ]
        print(f"feed {size:,} bytes; {args.seconds:g} s per row; server in a child process")
        print(
            f"{'answer':28} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
            f" {'failed clients':>15}"
        )
        try:
            for label, path, headers, rotate in cases:
                for clients in counts:
                    rate, p50, p99, failed = run(port, path, headers, clients, args.seconds, rotate)
                    print(
                        f"{label:28} {clients:7} {rate:8,.0f} {p50:8.2f} {p99:8.2f} {failed:15}",
                        flush=True,
                    )
        finally:
            child.stdin.close()
            child.wait(20)


if __name__ == "__main__":
    main()
