"""Builders shared by the tests: one way to make settings, one plan time zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syncsvc.settings import CalendarConfig, FeedSettings, PlanSettings, Settings, SyncSettings

TZ = "Europe/Oslo"  # the seed plan's zone; settings default to it too


def settings(
    data_dir: Path | str,
    *calendars: CalendarConfig | Mapping[str, Any],
    plan: PlanSettings | Path | str | None = None,
    feed: FeedSettings | str | None = None,
    sync: Mapping[str, Any] | None = None,
    **sections: Any,
) -> Settings:
    """The settings most tests need: state and calendars under `data_dir`, these calendars
    (config models or their TOML tables as dicts), and only what a test names on top.

    `plan`: a plan source (overrides off, the default) or full `PlanSettings`.
    `feed`: the public calendar that makes the feed, or full `FeedSettings`; none by default,
    so a test without a public calendar needs no feed settings.
    `sync`: more `[sync]` fields (delete_threshold, interval_minutes, ...).
    `sections`: other top-level sections as `Settings` takes them (servers, graph, http,
    person_calendars, logging).
    """
    if plan is not None:
        sections["plan"] = (
            plan if isinstance(plan, PlanSettings) else PlanSettings(source=str(plan))
        )
    return Settings(
        sync=SyncSettings(data_dir=str(data_dir), **(sync or {})),
        calendars=calendars,
        feed=feed if isinstance(feed, FeedSettings) else FeedSettings(calendar=feed),
        **sections,
    )


STAMP = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)  # a fixed DTSTAMP for rendered test events


class Sleeps(list[float]):
    """An injected sleep for retry loops: records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
