"""vdirsyncer from PyPI in its own virtual environment, for the comparison in bench_caldav.

The environment lives in bench/.venv-vdirsyncer (gitignored) and is created on first use with
`python3 -m venv` + `pip install vdirsyncer==VERSION`, so vdirsyncer's dependencies never mix
with the project's. Run `python -m bench.vdirsyncer_env` to create it ahead of time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

VERSION = "0.21.0"
VENV = Path(__file__).resolve().parent / ".venv-vdirsyncer"
INSTALL_TIMEOUT = 600.0
SYNC_TIMEOUT = 600.0


def executable() -> Path:
    return VENV / "bin" / "vdirsyncer"


def installed_version() -> str | None:
    if not executable().exists():
        return None
    out = subprocess.run(
        [str(executable()), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    # "vdirsyncer, version 0.21.0"
    return out.stdout.strip().rsplit(" ", 1)[-1] if out.returncode == 0 else None


def ensure() -> Path:
    """The vdirsyncer executable, creating the environment when it is missing or outdated."""
    if installed_version() == VERSION:
        return executable()
    python = shutil.which("python3")
    if python is None:
        raise RuntimeError("python3 not found: cannot create the vdirsyncer environment")
    subprocess.run([python, "-m", "venv", "--clear", str(VENV)], check=True, timeout=120)
    subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "--quiet", f"vdirsyncer=={VERSION}"],
        check=True,
        timeout=INSTALL_TIMEOUT,
    )
    if installed_version() != VERSION:
        raise RuntimeError(f"vdirsyncer {VERSION} did not install into {VENV}")
    return executable()


@dataclass(frozen=True, slots=True)
class Pair:
    """One local vdir folder synced with one CalDAV calendar collection."""

    name: str
    folder: Path
    url: str
    username: str | None = None
    password: str | None = None


def write_config(path: Path, pairs: Sequence[Pair], status_dir: Path) -> Path:
    """A vdirsyncer config with one pair per calendar (`collections = null`: no discovery of
    other collections, the URLs are used as given). Values are JSON strings, as vdirsyncer
    expects."""
    lines = ["[general]", f"status_path = {json.dumps(str(status_dir) + '/')}", ""]
    for pair in pairs:
        a, b = f"{pair.name}_local", f"{pair.name}_dav"
        lines += [
            f"[pair {pair.name}]",
            f"a = {json.dumps(a)}",
            f"b = {json.dumps(b)}",
            "collections = null",
            "",
            f"[storage {a}]",
            'type = "filesystem"',
            f"path = {json.dumps(str(pair.folder) + '/')}",
            'fileext = ".ics"',
            "",
            f"[storage {b}]",
            'type = "caldav"',
            f"url = {json.dumps(pair.url)}",
        ]
        if pair.username and pair.password:
            lines += [f"username = {json.dumps(pair.username)}"]
            lines += [f"password = {json.dumps(pair.password)}"]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run(config: Path, *args: str) -> float:
    """Run `vdirsyncer -c config <args>`; wall seconds. Raises with its output on failure."""
    began = time.perf_counter()
    done = subprocess.run(
        [str(executable()), "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=SYNC_TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(
            f"vdirsyncer {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}"
        )
    return seconds


def startup_seconds() -> float:
    """Wall time of `vdirsyncer --version`: the interpreter and import cost in every run."""
    began = time.perf_counter()
    subprocess.run([str(executable()), "--version"], capture_output=True, timeout=60, check=True)
    return time.perf_counter() - began


if __name__ == "__main__":
    print(ensure())
