"""Admin login for the web page: the admin token or a password (scrypt hash in the settings)
is exchanged for a session cookie; every form carries the session's CSRF token.

Sessions live in memory: a restart logs everyone out, which is what a small daemon wants.
Cookies are HttpOnly and SameSite=Strict, and Secure when the page is served over TLS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SESSION_COOKIE = "syncsvc_admin"
LOGIN_COOKIE = "syncsvc_login"  # the CSRF token of the login form, before there is a session
LANG_COOKIE = "syncsvc_lang"
SESSION_LIFETIME = timedelta(hours=8)
MAX_SESSIONS = 64  # oldest dropped beyond this: a flood of logins cannot grow memory

# scrypt cost: 2^15 x 8 x 1 is about 32 MiB and 50-100 ms, once per login.
_N, _R, _P = 2**15, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """'scrypt$N$r$p$salt$hash' (base64 without padding), for http.admin_password_hash."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024, dklen=32
    )
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check against `hash_password` output; anything malformed is False."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt" or int(n) > 2**20 or int(r) > 32 or int(p) > 16:
            return False
        expected = _unb64(digest)
        found = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=256 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def valid_hash(encoded: str) -> bool:
    """Whether `encoded` has the shape `hash_password` writes (for the settings check)."""
    parts = encoded.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(p.isdigit() for p in parts[1:4])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def same(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of two optional secrets; None or empty never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    csrf: str
    expires: datetime


class Sessions:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def new(self) -> Session:
        session = Session(
            secrets.token_urlsafe(32), secrets.token_urlsafe(24), self._clock() + SESSION_LIFETIME
        )
        with self._lock:
            self._expire()
            while len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: s.expires)
                del self._sessions[oldest.token]
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            self._expire()
            # A dict lookup by the secret itself: timing reveals nothing an attacker can use
            # (the keys are 256-bit random), and compare_digest on each would be O(n).
            return self._sessions.get(token)

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[token]


def cookie(
    name: str, value: str, *, secure: bool, max_age: int | None = None, path: str = "/admin"
) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Strict, Secure over TLS."""
    parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
