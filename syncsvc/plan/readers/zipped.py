"""Office files are zip archives: checked before a library opens them. Pure (bytes in)."""

from __future__ import annotations

import io
import zipfile
import zlib

from syncsvc.domain.errors import PlanError, Where

MAX_UNPACKED = 200_000_000  # a zip bomb is refused before the reading library opens it

# What zipfile raises on a damaged or unsupported archive: bad structure, truncation, bad
# compressed data, an unknown method or zip version (NotImplementedError), an encrypted
# member (RuntimeError).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
)


def members(data: bytes, name: str) -> set[str]:
    """The names in the archive; PlanError for a damaged one or one that unpacks too large."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if sum(i.file_size for i in infos) > MAX_UNPACKED:
                raise PlanError("the file unpacks to more than 200 MB", where=Where(name))
            found = {i.filename for i in infos}
            if "mimetype" in found:
                found.add("mimetype:" + z.read("mimetype")[:100].decode("ascii", "replace"))
            return found
    except ZIP_ERRORS as err:
        raise PlanError(f"not a valid zip-based office file: {err}", where=Where(name)) from err
