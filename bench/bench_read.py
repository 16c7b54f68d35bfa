"""Read the seed plan table replicated to 10,000 rows; print rows per second (no asserts).

.venv/bin/python bench/bench_read.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    data = replicated(ROWS).encode()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        plan = read_plan_bytes(data, name="bench.txt")
        best = min(best, time.perf_counter() - start)
    print(
        f"{ROWS} rows ({len(plan.items)} items, {len(plan.problems)} problems) "
        f"in {best:.3f} s: {ROWS / best:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
