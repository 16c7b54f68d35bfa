"""Run every benchmark script, one after the other, and print all their tables.

Run from the repository root: .venv/bin/python -m bench.run_all [--quick]

Each script runs as its own process (`python -m bench.<name>`), so one script's imports,
threads or servers never affect the next one's numbers. A script that is missing is listed
as skipped; one that fails is reported with its exit code and the run goes on.
`--quick` passes small sizes to the benches that take them (a smoke run, not numbers to publish).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SCRIPTS = ("bench_read", "bench_core", "bench_caldav", "bench_feed")
TIMEOUT = 3 * 3600.0  # a bound, not an expectation: the CalDAV bench takes the longest
QUICK_ARGS = {
    "bench_core": ["10000"],
    "bench_caldav": ["--events", "100", "--repeats", "1"],
    "bench_feed": ["--requests", "300"],
}


def run(name: str, extra: list[str]) -> int:
    command = [sys.executable, "-m", f"bench.{name}", *extra]
    print(f"\n{'=' * 80}\n# {name}: {' '.join(command[1:])}\n{'=' * 80}", flush=True)
    began = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=BENCH_DIR.parent, timeout=TIMEOUT, check=False, stdin=subprocess.DEVNULL
        )
        code = done.returncode
    except subprocess.TimeoutExpired:
        print(f"{name}: stopped after {TIMEOUT:.0f} s", flush=True)
        code = -1
    print(f"# {name}: exit {code}, {time.perf_counter() - began:.0f} s", flush=True)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description="Run every benchmark and print its tables.")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f}, Python {sys.version.split()[0]}")
    failed = []
    for name in SCRIPTS:
        if not (BENCH_DIR / f"{name}.py").exists():
            print(f"\n# {name}: skipped (bench/{name}.py does not exist)")
            continue
        if run(name, QUICK_ARGS.get(name, []) if args.quick else []) != 0:
            failed.append(name)
    print(f"\nfailed: {', '.join(failed)}" if failed else "\nall benchmarks ran")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
