"""Run every benchmark script, one after the other, and print all their tables.

Run from the repository root: .venv/bin/python -m bench.run_all [--quick] [--json]

Each script runs as its own process (`python -m bench.<name>`), so one script's imports,
threads or servers never affect the next one's numbers. A script that is missing is listed
as skipped; one that fails is reported with its exit code and the run goes on.
`--quick` passes small sizes to the benches that take them (a smoke run, not numbers to publish).
`--json` prints the tables to stderr and one JSON object to stdout with exactly the keys in
`KEYS` (numbers; null for one whose bench failed, and then the exit code is 1). With --quick
the keys are the same, measured at the small sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench._json import collect

BENCH_DIR = Path(__file__).resolve().parent
SCRIPTS = (
    "bench_read",
    "bench_core",
    "bench_ceiling",
    "bench_caldav",
    "bench_graph",
    "bench_feed",
)
TIMEOUT = 3 * 3600.0  # a bound, not an expectation: the CalDAV bench takes the longest
QUICK_ARGS = {
    "bench_read": ["--rows", "1000"],
    "bench_core": ["10000"],
    "bench_ceiling": ["--events", "60", "--repeats", "1"],
    "bench_caldav": ["--events", "100", "--repeats", "1"],
    "bench_graph": ["--events", "100", "--repeats", "1"],
    "bench_feed": ["--requests", "300"],
}
# With --json: the sizes the keys name (bench_caldav's defaults: 1,000 events in 10 calendars).
JSON_ARGS = {"bench_graph": ["--events", "1000", "--repeats", "3"]}
KEYS = (
    "caldav.radicale.initial_vs_bare",
    "caldav.xandikos.initial_vs_bare",
    "caldav.radicale.oneshot_noop_vs_vdirsyncer",
    "caldav.xandikos.oneshot_noop_vs_vdirsyncer",
    "caldav.noop_requests_per_calendar",
    "read.rows_10k_s",
    "read.rows_10k_distinct_s",  # beside the keys: rows that do not repeat
    "render.events_100k_s",
    "core.route_diff_100k_s",
    "core.peak_mb",
    "graph.initial_1000_requests",
    "graph.initial_1000_s",
)
# bench_ceiling prints no key, but its table explains the CalDAV ratios: it runs with --json too.
_JSON_SCRIPTS = ("bench_read", "bench_core", "bench_ceiling", "bench_caldav", "bench_graph")


def run(name: str, extra: list[str], *, capture: bool) -> tuple[int, str]:
    command = [sys.executable, "-m", f"bench.{name}", *extra]
    shown = sys.stderr if capture else sys.stdout
    print(f"\n{'=' * 80}\n# {name}: {' '.join(command[1:])}\n{'=' * 80}", file=shown, flush=True)
    began = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=BENCH_DIR.parent,
            timeout=TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else None,
            text=True,
        )
        code, out = done.returncode, done.stdout or ""
    except subprocess.TimeoutExpired:
        print(f"{name}: stopped after {TIMEOUT:.0f} s", file=shown, flush=True)
        code, out = -1, ""
    if capture:
        sys.stderr.write(out)  # the tables, beside the JSON the caller reads
    print(f"# {name}: exit {code}, {time.perf_counter() - began:.0f} s", file=shown, flush=True)
    return code, out


def main() -> None:
    parser = argparse.ArgumentParser(description="Run every benchmark and print its tables.")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--json", action="store_true", help="one JSON object of the key numbers")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    shown = sys.stderr if args.json else sys.stdout
    print(
        f"{os.cpu_count()} cores, load average {load:.2f}, Python {sys.version.split()[0]}",
        file=shown,
    )
    failed = []
    numbers: dict[str, float | None] = {}
    for name in SCRIPTS:
        if args.json and name not in _JSON_SCRIPTS:
            continue
        if not (BENCH_DIR / f"{name}.py").exists():
            print(f"\n# {name}: skipped (bench/{name}.py does not exist)", file=shown)
            continue
        if args.quick:
            extra = QUICK_ARGS.get(name, [])
        else:
            extra = JSON_ARGS.get(name, []) if args.json else []
        code, out = run(name, [*extra, *(["--json"] if args.json else [])], capture=args.json)
        if code != 0:
            failed.append(name)
        numbers.update(collect(out))
    print(f"\nfailed: {', '.join(failed)}" if failed else "\nall benchmarks ran", file=shown)
    if args.json:
        print(json.dumps({key: numbers.get(key) for key in KEYS}, indent=2))
    sys.exit(1 if failed or (args.json and any(numbers.get(k) is None for k in KEYS)) else 0)


if __name__ == "__main__":
    main()
