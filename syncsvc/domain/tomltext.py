"""TOML text with line numbers: one reader for settings, overrides and canonical plans.

tomllib keeps no positions, and on Python 3.11 its errors carry the line only in their text
("... (at line 3, column 7)"; 3.14 adds `lineno`), so both are read here once.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)")


class TomlSyntaxError(ValueError):
    """Text that is not TOML: the message without the position, and the line when known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def loads(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = _AT_LINE.search(str(err))
        message = str(err)[: found.start()] if found else str(err)
        line = getattr(err, "lineno", None) or (int(found.group(1)) if found else None)
        raise TomlSyntaxError(f"invalid TOML: {message}", line) from None


def key_line(text: str, key: str, *, after: int = 0) -> int | None:
    """The first line after `after` where `key` is assigned or opens a table (dotted and quoted
    keys included): good enough to point a person at it."""
    pattern = re.compile(rf"^\s*(\[\[?\s*)?([\w.\"-]*\.)?\"?{re.escape(key)}\"?\s*(=|\]|\.)")
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after and pattern.match(line):
            return number
    return None
