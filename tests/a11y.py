"""axe-core (npm, pinned in tests/a11y/package-lock.json) run inside a Playwright page.

The pages forbid scripts by Content-Security-Policy, so the browser context that runs axe must
be created with `bypass_csp=True`; the CSP itself is checked by the tests that do not inject.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "a11y"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"


def ensure_axe() -> Path:
    """Installs axe-core with npm (from the lock file) when it is not there yet."""
    if not AXE.is_file():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the axe-core check (apt-get install npm)"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG 2.x A/AA and best-practice rules on the page as it is now; each violation
    reduced to its id, impact and the offending elements."""
    page.add_script_tag(path=str(ensure_axe()))
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag',
                      values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                               'best-practice']},
            resultTypes: ['violations'],
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"][:200] for n in v["nodes"]],
        }
        for v in result["violations"]
    ]
