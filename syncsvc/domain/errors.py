"""Error types of syncsvc and the one place that maps them to messages and exit codes.

Every error a user can cause or fix is a `SyncsvcError`; the CLI prints `str(err)` as one line
(never a traceback) and exits with `err.exit_code`. Anything else is a bug and exits with 70.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; documented in README.md ("Exit codes")."""

    OK = 0
    PLAN_PROBLEMS = 1  # `plan check` found errors in the plan
    USAGE = 2  # bad command line
    CONFIG = 3  # configuration file or environment is invalid
    PLAN = 4  # the plan could not be read
    GUARD = 5  # the deletion guard refused the run (re-run with --force)
    TARGET = 6  # every calendar failed (server down, auth, ...)
    PARTIAL = 7  # some calendars synced, some failed
    INTERNAL = 70  # a bug: please report it


@dataclass(frozen=True, slots=True)
class Where:
    """Where in an input a problem is: file, line/row and column (cell), each optional."""

    file: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
        if self.column:
            out += f" (column {self.column})"
        return out


class SyncsvcError(Exception):
    """Base of all errors that are reported to the user as one line."""

    exit_code: ExitCode = ExitCode.INTERNAL
    label = "error"

    def __init__(self, message: str, *, where: Where | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return f"{prefix}{self.message}"


class ConfigError(SyncsvcError):
    """The configuration (file, environment, secrets) is invalid."""

    exit_code = ExitCode.CONFIG
    label = "config error"


class PlanError(SyncsvcError):
    """The plan could not be read: unreadable file, unknown format, no table, no year."""

    exit_code = ExitCode.PLAN
    label = "plan error"


class TargetError(SyncsvcError):
    """A calendar target failed: unreachable, unauthorised, rejected a write."""

    exit_code = ExitCode.TARGET
    label = "target error"

    def __init__(
        self, message: str, *, calendar: str | None = None, where: Where | None = None
    ) -> None:
        super().__init__(message, where=where)
        self.calendar = calendar

    def __str__(self) -> str:
        base = super().__str__()
        return f"calendar {self.calendar}: {base}" if self.calendar else base


class AuthError(TargetError):
    """The server refused our credentials (401/403)."""


class ConflictError(TargetError):
    """A conditional write failed (412): someone changed the event since we read it."""


class GuardError(SyncsvcError):
    """The deletion guard refused to apply a run; `--force` overrides it."""

    exit_code = ExitCode.GUARD
    label = "refused"


class PartialFailure(SyncsvcError):
    """Some calendars failed while others synced; the report lists which."""

    exit_code = ExitCode.PARTIAL
    label = "partial failure"


def describe(err: BaseException) -> tuple[str, int]:
    """Map any exception to (one-line message, exit code). The single mapping point."""
    if isinstance(err, SyncsvcError):
        return f"syncsvc: {err.label}: {err}", int(err.exit_code)
    if isinstance(err, KeyboardInterrupt):
        return "syncsvc: interrupted", 130
    return (
        f"syncsvc: internal error: {type(err).__name__}: {err} (this is a bug; please report it)",
        int(ExitCode.INTERNAL),
    )
