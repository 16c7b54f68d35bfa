"""Read 10,000-line plans in the other layouts (list, grid, week, CSV with roles from content);
print lines per second for each (no asserts). The plan table is bench_read.py.

.venv/bin/python bench/bench_read_layouts.py [LINES]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syncsvc.plan.load import read_plan_bytes

_MONTHS = ("Januar", "Februar", "Mars", "April", "Mai", "Juni")


def _list(lines: int) -> str:
    out = ["Aktivitetsplan 2024"]
    for k in range(lines):
        if k % 20 == 0:
            out.append(_MONTHS[k // 20 % 6])
        out.append(f" {1 + k % 28}. {_MONTHS[k // 20 % 6].lower()}  Møte {k} kl. 18.00 – AVLYST?")
    return "\n".join(out)


def _grid(lines: int) -> str:
    head = "Utval\t" + "\t".join(m[:3] + "." for m in _MONTHS)
    rows = [f"Utval {k}\t{1 + k % 28}.\t\t3. og 17.\t\t4.\t" for k in range(lines)]
    return "\n".join(["Møteplan 2024", head, *rows])


def _week(lines: int) -> str:
    head = "Veke\tMåndag\tTysdag\tOnsdag\tTorsdag\tFredag"
    rows = [f"{1 + k % 52}\tTur\tForming\t\tSamling kl. 10.00\tLeik" for k in range(lines)]
    return "\n".join(["Månadsplan 2024", head, *rows])


def _csv(lines: int) -> str:
    return "\n".join(f"{1 + k % 28:02d}.03.2024;18:00;Møte {k};Grendahuset" for k in range(lines))


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for name, make, file in (
        ("list", _list, "plan.txt"),
        ("grid", _grid, "plan.txt"),
        ("week", _week, "plan.txt"),
        ("csv roles", _csv, "plan.csv"),
    ):
        data = make(lines).encode()
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            plan = read_plan_bytes(data, name=file, year=2024)
            best = min(best, time.perf_counter() - start)
        occurrences = sum(len(i.occurrences) for i in plan.items)
        print(
            f"{name:9} {lines} lines ({plan.extra['format']}, {occurrences} occurrences) "
            f"in {best:.3f} s: {lines / best:,.0f} lines/s"
        )


if __name__ == "__main__":
    main()
