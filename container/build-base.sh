#!/bin/sh
# Builds a minimal Debian image with python3 and its venv module from Debian packages, for
# `podman build --build-arg BASE_IMAGE=<tag>` where no container registry can be reached.
#   container/build-base.sh [TAG] [SUITE]      (as root; needs debootstrap and podman)
# Defaults: localhost/syncsvc-base:bookworm from bookworm (python3 3.11) at deb.debian.org,
# or $DEBIAN_MIRROR.
set -eu
tag=${1:-localhost/syncsvc-base:bookworm}
suite=${2:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT INT TERM
# minbase: essential packages and apt only; passwd for useradd, ca-certificates for pip's TLS.
debootstrap --variant=minbase --include=python3,python3-venv,passwd,ca-certificates \
    "$suite" "$root" "$mirror"
# Package lists and downloaded .debs belong to the build host, not to the image.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
tar --numeric-owner -C "$root" -c . \
    | podman import --change 'CMD ["/bin/sh"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' - "$tag"
