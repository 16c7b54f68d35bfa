"""Numbers a bench script hands to `run_all --json`: one line `BENCH-JSON {...}` on stdout."""

from __future__ import annotations

import json
import math

PREFIX = "BENCH-JSON "


def emit(values: dict[str, float | None]) -> None:
    """Print `values` (key -> number, None when it could not be measured) for run_all."""
    clean = {k: (None if v is None or math.isnan(v) else round(v, 4)) for k, v in values.items()}
    print(PREFIX + json.dumps(clean, sort_keys=True), flush=True)


def collect(stdout: str) -> dict[str, float | None]:
    found: dict[str, float | None] = {}
    for line in stdout.splitlines():
        if line.startswith(PREFIX):
            found.update(json.loads(line.removeprefix(PREFIX)))
    return found
