"""Logging: structlog for our lines and, through the same pipeline, the stdlib loggers of
caldav, apscheduler and the HTTP stack. JSON lines in production, readable on a terminal.

A redaction step runs last, after tracebacks are rendered to text, so no configured secret,
token, Authorization header or `user:password@` in a URL is ever printed.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

MASK = "***"

# Keys whose values are secret whatever they hold.
_SECRET_KEYS = re.compile(
    r"(pass(word)?|passwd|secret|token|authorization|api[_-]?key|credential|cookie)", re.I
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/\s:@]*):[^/\s@]*@", re.I)
_AUTH_HEADER = re.compile(r"\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=,\"-]{6,}", re.I)
_KEY_VALUE = re.compile(
    r"(?P<key>\b(?:password|passwd|client_secret|secret|access_token|refresh_token|token)\b"
    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+",
    re.I,
)


class Redactor:
    """Masks secrets in strings and nested structures. Secrets can be added at any time."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            merged = set(self._secrets) | {s for s in secrets if s and len(s) >= 3}
            # Longest first, so a secret that contains another is masked whole.
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        value = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", value)
        value = _AUTH_HEADER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        return _KEY_VALUE.sub(lambda m: f"{m['key']}{MASK}", value)

    def value(self, value: Any, key: str | None = None) -> Any:
        if key is not None and _SECRET_KEYS.search(key) and value not in (None, "", False):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self.text(repr(value) if not isinstance(value, Exception) else str(value))

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        for key in list(event):
            event[key] = self.value(event[key], key if key != "event" else None)
        return event


REDACTOR = Redactor()

_FOREIGN_LOGGERS = (
    *("caldav", "apscheduler", "httpx", "httpcore", "niquests", "urllib3", "msal"),
    *("uvicorn", "asyncio"),  # the HTTP server: its errors, never raw on stderr
)


def _drop_color_message(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    event.pop("color_message", None)
    return event


def configure_logging(
    *,
    fmt: str = "auto",
    level: str = "info",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Set up structlog and route stdlib logging through it. Safe to call more than once."""
    REDACTOR.add(secrets)
    out = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not _isatty(out))
    numeric = getattr(logging, level.upper(), logging.INFO)

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_color_message,
    ]
    renderer: Processor
    if use_json:
        # Dict tracebacks without locals: locals may hold passwords.
        exc: Processor = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        exc = structlog.processors.format_exc_info
        renderer = structlog.dev.ConsoleRenderer(
            colors=_isatty(out), exception_formatter=structlog.dev.plain_traceback
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            exc,
            REDACTOR,  # last before rendering: sees rendered tracebacks too
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in _FOREIGN_LOGGERS:
        # Their debug output includes request headers; keep it at warning unless we debug.
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


def redact(text: str) -> str:
    """Mask secrets in a message that is printed outside logging (CLI errors)."""
    return REDACTOR.text(text)
