"""Build the syncsvc image with podman from a locally built Debian base, and run it.

Used by tests/test_container.py and, as a script, by people:

    python3 -m tests.container_image            # build base (if missing) and image, print timings

No container registry is reachable from CI machines, so the base image comes from Debian
packages (container/build-base.sh: debootstrap + `podman import`) and reaches the Dockerfile
as the BASE_IMAGE build argument. Podman runs with container/containers.conf (cgroupfs, no
default ulimits) because the CI host is itself a container.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTAINERS_CONF = ROOT / "container" / "containers.conf"
BUILD_BASE = ROOT / "container" / "build-base.sh"
BASE_TAG = "localhost/syncsvc-base:bookworm"
IMAGE_TAG = "localhost/syncsvc:latest"
APT_PACKAGES = {"podman": "podman", "runc": "runc", "debootstrap": "debootstrap"}


def env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], env=env(), check=check, capture_output=True, text=True, timeout=timeout
    )


def ensure_tools() -> None:
    """podman, runc and debootstrap from Debian when missing (root with apt only)."""
    missing = [pkg for tool, pkg in APT_PACKAGES.items() if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"missing {', '.join(missing)}; install them (apt-get install ...)")
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=900"]
    quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*apt, "update", "-qq"], env=quiet, check=True, timeout=900)
    subprocess.run(
        [*apt, "install", "-y", "-qq", "--no-install-recommends", *missing],
        env=quiet,
        check=True,
        timeout=1800,
    )


def image_exists(tag: str) -> bool:
    return podman("image", "exists", tag, check=False).returncode == 0


def build_base(tag: str = BASE_TAG) -> float:
    """The Debian base image; kept between runs (it depends on Debian, not on our code).
    Returns the seconds spent (0 when it was already there)."""
    if image_exists(tag):
        return 0.0
    started = time.monotonic()
    subprocess.run(
        ["sh", str(BUILD_BASE), tag], env=env(), check=True, capture_output=True, timeout=1800
    )
    return time.monotonic() - started


def build_image(tag: str = IMAGE_TAG, base: str = BASE_TAG) -> float:
    """`podman build` of the repository's Dockerfile. The build stage fetches wheels from
    PyPI, so it shares the host's network (the only network a CI host has)."""
    started = time.monotonic()
    done = subprocess.run(
        [
            "podman",
            "build",
            "--network=host",
            "--build-arg",
            f"BASE_IMAGE={base}",
            *pip_cert(),
            "--layers=false",
            "-t",
            tag,
            str(ROOT),
        ],
        env=env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"podman build failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return time.monotonic() - started


def pip_cert() -> list[str]:
    """The CA bundle the host's pip trusts (PIP_CERT), for a build behind a TLS-intercepting
    proxy like CI's; passed as a build secret so it stays out of the image's layers."""
    cert = os.environ.get("PIP_CERT")
    return ["--secret", f"id=pip_cert,src={cert}"] if cert and Path(cert).is_file() else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    ensure_tools()
    base = build_base()
    print(f"base image {BASE_TAG}: {base:.1f} s" + (" (existed)" if base == 0 else ""))
    image = build_image()
    size = podman("image", "inspect", "--format", "{{.Size}}", IMAGE_TAG).stdout.strip()
    print(f"image {IMAGE_TAG}: {image:.1f} s, {int(size) / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
