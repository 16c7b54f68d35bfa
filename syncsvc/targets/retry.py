"""Shared by the HTTP targets: the retry policy, one request's retry budget, and reading a
server's Retry-After hint.

Each target decides what is worth another try (CalDAV: 423/429/5xx, dropped connections,
unreadable replies; Graph: throttling, batch sub-requests) and what its messages say; how
long to wait and when to give up is decided here, the same way for both.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

# RFC 9110 allows whole seconds only, but Microsoft Graph sends decimals ("2.128", "0.249" on
# throttled batch sub-requests). Reading them as seconds is what the server means.
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff (full jitter unless `jitter` is off); a server's
    Retry-After replaces the backoff. `sleep` and `rand` are injectable for tests."""

    attempts: int = 4  # tries in total, the first included
    base_delay: float = 0.5  # the first backoff; it doubles with each try
    max_delay: float = 8.0  # the backoff's ceiling
    jitter: bool = True  # a backoff of d waits between d/2 and d
    max_wait: float = math.inf  # one wait (a Retry-After) longer than this ends the retries
    max_total_wait: float = 30.0  # nor may the waits of one request add up to more
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Delay before try number `attempt + 1` (attempt counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return float(ceiling * (0.5 + 0.5 * self.rand())) if self.jitter else float(ceiling)


@dataclass(slots=True)
class Retries:
    """One request's tries under a policy: `start()` each try; after a transient failure,
    `pause(delay)` waits before the next one, or says the budget is spent."""

    policy: RetryPolicy
    attempt: int = 0
    waited: float = 0.0

    def start(self) -> int:
        self.attempt += 1
        return self.attempt

    @property
    def last(self) -> bool:
        """This try is the last the policy allows."""
        return self.attempt >= self.policy.attempts

    def delay(self, hinted: float | None = None) -> float:
        """The server's hint if it gave one, else the backoff for this try."""
        return self.policy.backoff(self.attempt) if hinted is None else hinted

    def allows(self, delay: float) -> bool:
        """Waiting `delay` stays within the policy's limits on one and on all waits."""
        policy = self.policy
        return delay <= policy.max_wait and self.waited + delay <= policy.max_total_wait

    def pause(self, delay: float) -> bool:
        """Wait `delay` before the next try; False (no wait) when no try or time is left."""
        if self.last or not self.allows(delay):
            return False
        self.policy.sleep(delay)
        self.waited += delay
        return True


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds (decimals allowed) or an HTTP date.

    None if absent or unreadable (negative, not a number, not a date): the caller then backs
    off on its own.
    """
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": GMT too
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
