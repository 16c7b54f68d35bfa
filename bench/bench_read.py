"""Read the seed plan table replicated to 10,000 rows; print rows per second (no asserts).

.venv/bin/python -m bench.bench_read [--rows 10000] [--json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._json import emit
from syncsvc.plan.load import read_plan_bytes
from tests.plan_docs import SEED_LINES

ROWS = 10_000


def replicated(rows: int) -> str:
    """The seed's title and first header, then its table rows over and over."""
    table = [line for line in SEED_LINES if "\t" in line and "DATO/TID" not in line]
    header = next(line for line in SEED_LINES if "DATO/TID" in line)
    body = [table[i % len(table)] for i in range(rows)]
    return "\n".join(["Årsplan 2024", "Våren 2024", header, *body, *SEED_LINES[-12:]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--json", action="store_true", help="also print the number for run_all")
    args = parser.parse_args()
    data = replicated(args.rows).encode()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        plan = read_plan_bytes(data, name="bench.txt")
        best = min(best, time.perf_counter() - start)
    print(
        f"{args.rows} rows ({len(plan.items)} items, {len(plan.problems)} problems) "
        f"in {best:.3f} s: {args.rows / best:,.0f} rows/s"
    )
    if args.json:
        emit({"read.rows_10k_s": best})


if __name__ == "__main__":
    main()
