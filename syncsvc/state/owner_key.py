"""The installation's owner key: created once, kept with the state, never shown.

`<data_dir>/owner.key` holds 32 random bytes as hex, mode 0600. It is created on first use
and linked into place whole, so a daemon and a CLI run starting together agree on one key.
Containers whose data directory is not kept set `sync.owner_key` instead (the secret file
`sync__owner_key` or `SYNCSVC_SYNC__OWNER_KEY`). Losing it makes every event we wrote foreign
(docs/IDENTITY.md says how to recover).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from syncsvc.domain.errors import ConfigError, Where
from syncsvc.domain.ownership import KEY_BYTES, OwnerKey

if TYPE_CHECKING:
    from syncsvc.settings import Settings

KEY_FILE = "owner.key"
_HEX = re.compile(r"^[0-9a-fA-F]{32,128}$")


def owner_key_for(settings: Settings, *, create: bool = True) -> OwnerKey:
    """The configured key (`sync.owner_key`), else the one in the data directory, created
    there on first use (when `create`)."""
    if settings.sync.owner_key is not None:
        return _parse(settings.sync.owner_key.get_secret_value(), Where("sync.owner_key"))
    return load_owner_key(settings.data_dir, create=create)


def load_owner_key(data_dir: Path, *, create: bool = True) -> OwnerKey:
    """The key in `data_dir`, created when none exists (without `create`: an unsaved one).
    ConfigError (naming the file, never the value) when it cannot be read or is not a key."""
    path = data_dir / KEY_FILE
    if path.exists():
        return _read(path)
    if not create:
        # A dry run before the first real one writes nothing: a key nobody keeps, under
        # which nothing verifies, which is exactly the truth until a key exists.
        return OwnerKey(secrets.token_bytes(KEY_BYTES))
    return _create(path)


def _read(path: Path) -> OwnerKey:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as err:
        detail = err.strerror if isinstance(err, OSError) else "not a key file"
        raise ConfigError(f"cannot read the owner key: {detail}", where=Where(str(path))) from None
    return _parse(text, Where(str(path)))


def _parse(text: str, where: Where) -> OwnerKey:
    value = text.strip()
    if not _HEX.match(value) or len(value) % 2:
        raise ConfigError(
            "the owner key must be 32 to 64 bytes written as hex (syncsvc creates one itself)",
            where=where,
        )
    return OwnerKey(bytes.fromhex(value))


def _create(path: Path) -> OwnerKey:
    # Written in full to a private temporary file, then linked into place: a concurrent
    # reader never sees a half-written key, and link(2) fails if someone else won the race.
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".owner-key-", suffix=".tmp")
    except OSError as err:
        raise ConfigError(
            f"cannot create the owner key: {err.strerror}", where=Where(str(path))
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:  # mkstemp makes it 0600
            out.write(secret.hex() + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, path)
    except FileExistsError:
        return _read(path)  # another process created it first: use theirs
    except OSError as err:
        raise ConfigError(
            f"cannot write the owner key: {err.strerror}", where=Where(str(path))
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return OwnerKey(secret)
