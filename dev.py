#!/usr/bin/env python3
"""Developer entry point that needs nothing but python3 and pip.

    python3 dev.py run [SYNCSVC ARGS...]   sync the calendars of the default configuration once
                                          (any syncsvc arguments may follow, e.g. `plan show`)
    python3 dev.py test [PYTEST ARGS...]   lint, format check, type check, layer contracts and
                                          the whole test suite

A virtual environment is created in .venv on first use and refreshed whenever pyproject.toml
or constraints.txt change. `test` also installs what the tests need that PyPI does not carry
(Debian's chromium, node and npm, and the Cyrus and DAViCal CalDAV servers) when it is missing
and this is a root shell with apt.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".syncsvc-installed"


def _run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, **kwargs)  # type: ignore[call-overload]


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(extras: str) -> None:
    wanted = _fingerprint(extras)
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    constraints = ROOT / "constraints.txt"
    if constraints.exists():
        pip += ["-c", str(constraints)]
    _run([*pip, "-e", f".[{extras}]" if extras else "."])
    STAMP.write_text(wanted + "\n")


# What the tests need that PyPI cannot provide, as (what shows it is there, Debian packages):
# chromium for the browser test, node and npm for the ical.js check, and the Cyrus and DAViCal
# CalDAV servers the server tests start.
SYSTEM_TOOLS: list[tuple[str, tuple[str, ...]]] = [
    ("chromium", ("chromium",)),
    ("node", ("nodejs",)),
    ("npm", ("npm",)),
    ("/usr/lib/cyrus/bin/master", ("cyrus-imapd", "cyrus-caldav", "sasl2-bin")),
    ("/usr/share/davical/dba/create-database.sh", ("davical", "apache2", "libapache2-mod-php")),
    ("/usr/lib/postgresql/*/bin/initdb", ("postgresql",)),  # the client alone has no initdb
]
# Installed only to be started by the tests: never left running or enabled system-wide.
_SERVICES = {"cyrus-imapd": "cyrus-imapd", "apache2": "apache2", "postgresql": "postgresql"}
_POLICY = Path("/usr/sbin/policy-rc.d")


def _present(check: str) -> bool:
    if check.startswith("/"):
        return any(Path("/").glob(check[1:]))
    return shutil.which(check) is not None


def ensure_system_tools() -> None:
    """Install the missing SYSTEM_TOOLS with apt when this is a root shell."""
    missing = [pkg for check, pkgs in SYSTEM_TOOLS if not _present(check) for pkg in pkgs]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"warning: missing {', '.join(missing)} and cannot install them; tests will fail")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=900"]
    # A policy that forbids starting services while the packages install (as Docker images
    # ship), so the servers' postinst scripts do not start system-wide daemons.
    own_policy = not _POLICY.exists()
    if own_policy:
        _POLICY.write_text("#!/bin/sh\nexit 101\n")
        _POLICY.chmod(0o755)
    try:
        _run([*apt, "update", "-qq"], env=env)
        _run([*apt, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)
    finally:
        if own_policy:
            _POLICY.unlink()
    for pkg in missing:
        if pkg in _SERVICES:
            _disable_service(_SERVICES[pkg])


def _disable_service(name: str) -> None:
    """Stop the system's copy of a server we installed for the tests and keep it off at boot."""
    if Path("/run/systemd/system").exists() and shutil.which("systemctl"):
        subprocess.run(["systemctl", "disable", "--now", name], check=False)
    elif shutil.which("update-rc.d") and Path(f"/etc/init.d/{name}").exists():
        subprocess.run(["update-rc.d", name, "disable"], check=False, capture_output=True)


def cmd_run(args: list[str]) -> int:
    ensure_venv("")
    command = args or ["sync"]
    print(f"+ syncsvc {' '.join(command)}", flush=True)
    code = subprocess.run([str(BIN / "syncsvc"), *command], cwd=ROOT).returncode
    if not args and code == 0:
        print(
            "\nCalendars: var/calendars/ (one .ics per event); public feed: "
            "var/public/hva-skjer.ics\n"
            "More: python3 dev.py run plan show | sync --dry-run | status | run (the daemon)"
        )
    return code


def cmd_test(args: list[str]) -> int:
    ensure_venv("dev")
    ensure_system_tools()
    steps = [
        [str(BIN / "ruff"), "check", "syncsvc", "tests", "bench", "dev.py"],
        [str(BIN / "ruff"), "format", "--check", "syncsvc", "tests", "bench", "dev.py"],
        [str(BIN / "mypy"), "--strict", "syncsvc"],
        [str(BIN / "lint-imports"), "--no-cache"],
        [str(BIN / "python"), "-m", "pytest", *args],
    ]
    for step in steps:
        print("+", " ".join(Path(step[0]).name if i == 0 else s for i, s in enumerate(step)))
        code = subprocess.run(step, cwd=ROOT).returncode
        if code != 0:
            print(f"dev.py: step failed with exit code {code}", file=sys.stderr)
            return code
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    try:
        return cmd_run(rest) if command == "run" else cmd_test(rest)
    except subprocess.CalledProcessError as err:
        print(f"dev.py: {' '.join(map(str, err.cmd))} failed ({err.returncode})", file=sys.stderr)
        return err.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
