"""Overrides: what a plan document cannot say (time of day, location, public text, skip).

A TOML file of `[[override]]` tables, applied in file order. A rule matches an item by
`item = "<key>"` (exact) or `title = "<text>"`: case-insensitive, a substring of the item
title, or a glob over the whole title when the text holds `*`, `?` or `[`. Every matching rule
applies; for each field, the last rule that sets it wins.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from syncsvc.domain import tomltext
from syncsvc.domain.errors import ConfigError, Where
from syncsvc.domain.plan import Plan, Problem, ProblemKind, Severity

_FIELDS = {
    "item": str,
    "title": str,
    "start_time": str,
    "end_time": str,
    "duration_minutes": int,
    "location": str,
    "public": bool,
    "public_title": str,
    "public_description": str,
    "skip": bool,
}
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Adjustments:
    """The merged effect of every rule matching one item; None = not overridden."""

    start_time: time | None = None
    end_time: time | None = None
    duration: timedelta | None = None
    location: str | None = None
    public: bool | None = None
    public_title: str | None = None
    public_description: str | None = None
    skip: bool = False

    def merged(self, later: Adjustments) -> Adjustments:
        changes = {
            f.name: getattr(later, f.name)
            for f in fields(later)
            if getattr(later, f.name) is not None and f.name != "skip"
        }
        if later.start_time is not None:  # a new start resets the old way of ending
            changes.setdefault("end_time", None)
            changes.setdefault("duration", None)
        return replace(self, **changes, skip=self.skip or later.skip)


NO_ADJUSTMENTS = Adjustments()


@dataclass(frozen=True, slots=True)
class Rule:
    item: str | None
    title: str | None
    adjust: Adjustments
    where: Where | None = None

    def matches(self, key: str, title: str) -> bool:
        if self.item is not None:
            return key == self.item
        pattern = (self.title or "").casefold()
        text = title.casefold()
        if any(ch in pattern for ch in "*?["):
            return fnmatch.fnmatchcase(text, pattern)
        return pattern in text

    def describe(self) -> str:
        """How the rule names its items, as written: 'item = "x"' or 'title = "x"'."""
        if self.item is not None:
            return f'item = "{self.item}"'
        return f'title = "{self.title}"'


@dataclass(frozen=True, slots=True)
class Overrides:
    rules: tuple[Rule, ...] = ()
    source: str = ""

    def for_item(self, key: str, title: str) -> Adjustments:
        result = NO_ADJUSTMENTS
        for rule in self.rules:
            if rule.matches(key, title):
                result = result.merged(rule.adjust)
        return result


def unmatched_rules(overrides: Overrides, items: Iterable[tuple[str, str]]) -> list[Rule]:
    """Rules that match none of the (key, title) items: a typo or a renamed item, whose
    effect (a time, a place, "public") silently goes missing otherwise."""
    pending = list(overrides.rules)
    for key, title in items:
        pending = [rule for rule in pending if not rule.matches(key, title)]
        if not pending:
            break
    return pending


def unmatched_problems(overrides: Overrides, plan: Plan) -> list[Problem]:
    """One warning per rule of `overrides` that matches no item of `plan`, with its line."""
    problems = []
    for rule in unmatched_rules(overrides, ((i.key, i.title) for i in plan.items)):
        hint = " (`syncsvc plan show` lists the keys)" if rule.item is not None else ""
        problems.append(
            Problem(
                kind=ProblemKind.UNMATCHED_OVERRIDE,
                severity=Severity.WARNING,
                message=f"override {rule.describe()} matches no plan item{hint}",
                where=rule.where,
            )
        )
    return problems


def parse_overrides(text: str, *, source: str = "overrides.toml") -> Overrides:
    try:
        data = tomltext.loads(text)
    except tomltext.TomlSyntaxError as err:
        raise ConfigError(err.message, where=Where(source, err.line)) from None
    for key in data:
        if key != "override":
            raise ConfigError(
                f"unknown key {key!r} (expected [[override]] tables)",
                where=Where(source, tomltext.key_line(text, key)),
            )
    tables = data.get("override", [])
    if not isinstance(tables, list):
        raise ConfigError("'override' must be [[override]] tables", where=Where(source))
    starts = _table_lines(text)
    rules = []
    for index, table in enumerate(tables):
        header = starts[index] if index < len(starts) else None
        rules.append(_rule(table, text, source, header))
    return Overrides(tuple(rules), source)


def _rule(table: dict[str, Any], text: str, source: str, header: int | None) -> Rule:
    def fail(message: str, key: str | None = None) -> ConfigError:
        # Not found: the rule's own [[override]] line.
        line = (tomltext.key_line(text, key, after=header or 0) or header) if key else header
        return ConfigError(f"override: {message}", where=Where(source, line))

    for key, value in table.items():
        if key not in _FIELDS:
            raise fail(f"unknown key {key!r}", key)
        if not isinstance(value, _FIELDS[key]) or (isinstance(value, bool) and _FIELDS[key] is int):
            raise fail(f"{key} must be a {_FIELDS[key].__name__}", key)
    if ("item" in table) == ("title" in table):
        raise fail("give exactly one of 'item' (a plan key) or 'title' (text to match)")
    if "title" in table and not table["title"].strip():
        raise fail("title must not be empty", "title")
    start = _time(table, "start_time", fail)
    end = _time(table, "end_time", fail)
    duration = None
    if "duration_minutes" in table:
        if table["duration_minutes"] <= 0:
            raise fail("duration_minutes must be positive", "duration_minutes")
        duration = timedelta(minutes=table["duration_minutes"])
    if (end is not None or duration is not None) and start is None:
        raise fail("end_time/duration_minutes need a start_time")
    if end is not None and duration is not None:
        raise fail("give end_time or duration_minutes, not both", "duration_minutes")
    if start is not None and end is not None and end <= start:
        raise fail("end_time must be after start_time", "end_time")
    adjust = Adjustments(
        start_time=start,
        end_time=end,
        duration=duration,
        location=table.get("location"),
        public=table.get("public"),
        public_title=table.get("public_title"),
        public_description=table.get("public_description"),
        skip=bool(table.get("skip", False)),
    )
    return Rule(table.get("item"), table.get("title"), adjust, Where(source, header))


def _time(table: dict[str, Any], key: str, fail: Any) -> time | None:
    if key not in table:
        return None
    match = _TIME.match(table[key].strip())
    if not match:
        raise fail(f"{key} must look like 10:00", key)
    return time(int(match.group(1)), int(match.group(2)))


def _table_lines(text: str) -> list[int]:
    header = re.compile(r"^\s*\[\[\s*override\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), start=1) if header.match(line)]


def apply_time(
    start: date | datetime, end: date | datetime, adjust: Adjustments, tz: ZoneInfo
) -> tuple[date | datetime, date | datetime]:
    """Give a one-day occurrence its time of day. Multi-day all-day occurrences stay all-day
    (a time of day does not say which day it belongs to)."""
    if adjust.start_time is None:
        return start, end
    day = start.date() if isinstance(start, datetime) else start
    if not isinstance(start, datetime):
        assert not isinstance(end, datetime)
        if (end - start).days > 1:
            return start, end
    new_start = datetime.combine(day, adjust.start_time, tzinfo=tz)
    if adjust.end_time is not None:
        new_end = datetime.combine(day, adjust.end_time, tzinfo=tz)
    elif adjust.duration is not None:
        new_end = new_start + adjust.duration
    elif isinstance(start, datetime):
        new_end = new_start + (end - start)
    else:
        new_end = new_start + timedelta(hours=1)
    return new_start, new_end
