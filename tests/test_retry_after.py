"""The retry policy, budget and Retry-After reader shared by the CalDAV and Graph targets
(syncsvc/targets/retry.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from syncsvc.targets.graph.client import GRAPH_POLICY
from syncsvc.targets.retry import Retries, RetryPolicy, retry_after_seconds
from tests.builders import Sleeps

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("2.128", 2.128),  # Graph's throttling page and batched sub-requests send decimals
        ("0.249", 0.249),
        ("Mon, 02 Mar 2026 12:00:30 GMT", 30.0),
        ("Mon, 02 Mar 2026 11:59:00 GMT", 0.0),  # in the past: retry now
        ("Mon, 02 Mar 2026 12:01:00 -0000", 60.0),
        (None, None),
        ("", None),
        ("-1", None),
        ("1e3", None),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("2.", None),
    ],
)
def test_retry_after_values(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def test_an_http_date_is_measured_from_now() -> None:
    later = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)
    waited = retry_after_seconds(later)
    assert waited is not None
    assert 0.0 <= waited <= 1.0


def test_backoff_doubles_up_to_its_ceiling_with_jitter_in_the_upper_half() -> None:
    low = RetryPolicy(rand=lambda: 0.0)
    high = RetryPolicy(rand=lambda: 1.0)
    assert [low.backoff(n) for n in range(1, 7)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    assert [high.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    # Graph's: no jitter, no ceiling.
    assert [GRAPH_POLICY.backoff(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_a_budget_ends_at_the_last_try_and_at_its_wait_limits() -> None:
    sleeps = Sleeps()
    tries = Retries(RetryPolicy(attempts=3, max_wait=10.0, max_total_wait=12.0, sleep=sleeps))
    tries.start()
    assert not tries.allows(10.5)  # one wait too long
    assert tries.pause(tries.delay(7.0))  # a server's hint replaces the backoff
    tries.start()
    assert not tries.pause(6.0)  # 7 + 6 would pass the total
    assert tries.pause(5.0)
    tries.start()
    assert tries.last
    assert not tries.pause(0.1)  # no try left
    assert sleeps == [7.0, 5.0]
    assert tries.waited == 12.0
