"""Plan documents built to explode (tests/bombs.py) are refused with a PlanError that names
the limit, in a child process held to 1 GiB of address space and a generous time bound.
How fast and how small each refusal is, is printed by bench/bench_bombs.py, not asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from syncsvc.domain.errors import PlanError
from syncsvc.plan.load import read_plan_bytes
from tests import bombs
kind = sys.argv[1]
data = {
    "html": lambda: bombs.html_span_bomb(),
    "html-tall": lambda: bombs.html_span_bomb(cells=2, rows=20_000),
    "html-elements": lambda: bombs.html_element_bomb(),
    "docx": lambda: bombs.docx_paragraph_bomb(),
    "docx-small": lambda: bombs.docx_bytes(b"<w:p/>", 3_000_000),
}[kind]()
name = "bomb.docx" if kind.startswith("docx") else "bomb.html"
began = time.monotonic()
try:
    read_plan_bytes(data, name=name, year=2024)
    out = {"error": None}
except PlanError as err:
    out = {"error": str(err)}
except MemoryError:
    out = {"error": "MemoryError"}
out["bytes"] = len(data)
out["seconds"] = round(time.monotonic() - began, 2)
out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps(out))
"""


def refuse(kind: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(
    ("kind", "limit"),
    [
        ("html", "columns"),
        ("html-tall", "cells"),
        ("html-elements", "elements"),
        ("docx", "MB of XML"),
        ("docx-small", "paragraphs"),
    ],
)
def test_bombs_are_refused_naming_the_limit(kind: str, limit: str) -> None:
    result = refuse(kind)
    assert result["error"] is not None, result
    assert "limit" in str(result["error"]), result
    assert limit in str(result["error"]), result
