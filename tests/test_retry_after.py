"""The one Retry-After reader shared by the CalDAV and Graph targets (syncsvc/targets/retry.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from syncsvc.targets.retry import retry_after_seconds

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
