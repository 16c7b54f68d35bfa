"""How fast and in how much memory the plan readers refuse generated bombs (tests/bombs.py).

    .venv/bin/python bench/bench_bombs.py

Each bomb is read in a child process (1 GiB address-space cap) through `read_plan_bytes`;
prints input size, seconds to the refusal, peak RSS and the message. Asserts nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_plan_bombs import CHILD  # noqa: E402  (the same child the tests run)

KINDS = ("html", "html-tall", "html-elements", "docx", "docx-small")


def main() -> None:
    print(f"{'bomb':14} {'bytes':>10} {'seconds':>8} {'peak MB':>8}  refusal")
    for kind in KINDS:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, kind], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode != 0:
            print(f"{kind:14} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout)
        print(f"{kind:14} {r['bytes']:>10,} {r['seconds']:>8} {r['max_rss_mb']:>8}  {r['error']}")


if __name__ == "__main__":
    main()
