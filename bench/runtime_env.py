"""syncsvc's runtime dependencies alone, for timing one-shot runs the way cron runs them.

The project's .venv also holds the development tools, and some change start-up: structlog
loads `rich` at import when it is installed (import-linter brings it), and the editable
install adds an import finder. A user's `pip install` has neither. This environment,
bench/.venv-runtime (gitignored), holds exactly the runtime dependencies at the pinned
versions (pyproject.toml + constraints.txt); syncsvc itself comes from this checkout through
PYTHONPATH, so it always runs the code under test. It is rebuilt when either file changes.
Run `python -m bench.runtime_env` to create it ahead of time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(__file__).resolve().parent / ".venv-runtime"
STAMP = VENV / "syncsvc-dependencies.sha256"
INSTALL_TIMEOUT = 900.0


def _wanted() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def python() -> Path:
    """The environment's interpreter, creating or refreshing the environment when needed."""
    executable = VENV / "bin" / "python"
    if executable.exists() and STAMP.exists() and STAMP.read_text().strip() == _wanted():
        return executable
    system = shutil.which("python3")
    if system is None:
        raise RuntimeError("python3 not found: cannot create the runtime environment")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    subprocess.run([system, "-m", "venv", "--clear", str(VENV)], check=True, timeout=120)
    pip = [str(VENV / "bin" / "pip"), "install", "--quiet", "-c", str(ROOT / "constraints.txt")]
    subprocess.run(
        [*pip, *project["dependencies"]],
        check=True,
        timeout=INSTALL_TIMEOUT,
    )
    STAMP.write_text(_wanted() + "\n")
    return executable


def environ() -> dict[str, str]:
    """The environment variables a process needs to run this checkout's syncsvc."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


if __name__ == "__main__":
    print(python())
