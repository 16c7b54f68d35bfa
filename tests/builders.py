"""Builders shared by the tests: one way to make settings, one plan time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syncsvc.settings import Settings

TZ = "Europe/Oslo"  # the seed plan's zone; settings default to it too


def settings(data_dir: Path | None = None, **fields: Any) -> Settings:
    """Settings from keyword fields (as in a config file), with `data_dir` set when given."""
    if data_dir is not None:
        fields.setdefault("data_dir", data_dir)
    return Settings(**fields)


STAMP = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)  # a fixed DTSTAMP for rendered test events


class Sleeps(list[float]):
    """An injected sleep for retry loops: records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
