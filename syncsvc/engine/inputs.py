"""A run's inputs from the settings: the plan source, the plan and the overrides.

The one place that maps settings onto a plan source (the CLI adds its command-line
overrides on top), and the only place the overrides file is read.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from syncsvc.domain.errors import ConfigError, Where
from syncsvc.domain.plan import Person, Plan, Problem
from syncsvc.engine.collector import collector_paused
from syncsvc.pipeline.overrides import Overrides, parse_overrides, unmatched_problems
from syncsvc.settings import Settings

if TYPE_CHECKING:
    from syncsvc.plan.load import PlanSourceSpec


def plan_source_spec(
    settings: Settings,
    *,
    location: str | None = None,
    format: str | None = None,
    year: int | None = None,
) -> PlanSourceSpec:
    """The plan source the settings name; arguments override location, format and year.

    A location given here is another document, so it is read with format detection unless a
    format is given too."""
    from syncsvc.plan.load import PlanSourceSpec  # readers load only when needed

    plan = settings.plan
    return PlanSourceSpec(
        location=location or settings.plan_location(),
        format=format or (plan.format if not location else "auto"),
        year=year or plan.year,
        people=tuple(Person(p.name, p.email.lower(), p.aliases) for p in plan.people),
        aliases={k: v.lower() for k, v in plan.aliases.items()},
        max_bytes=plan.max_bytes,
        timeout_seconds=plan.timeout_seconds,
        cache_dir=settings.data_dir / "cache",
        tz=plan.timezone,
    )


def load_plan_for(settings: Settings) -> Plan:
    """Read the plan the settings name (PlanError when it cannot be read)."""
    from syncsvc.plan.load import load_plan

    with collector_paused():  # a URL's fetch is inside too: it is short and allocates little
        return load_plan(plan_source_spec(settings))


def overrides_for(settings: Settings) -> Overrides:
    if not settings.plan.overrides:
        return Overrides()
    return load_overrides(settings.resolve(settings.plan.overrides))


def load_overrides(path: Path) -> Overrides:
    """Read an overrides file; a missing file or bad entry is a ConfigError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("overrides file not found", where=Where(str(path))) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read overrides: {err}", where=Where(str(path))) from None
    return parse_overrides(text, source=str(path))


def with_override_problems(plan: Plan, overrides: Overrides) -> tuple[Plan, list[Problem]]:
    """The plan with a warning for every override rule that matches none of its items (kept
    once however often this is called), and those warnings."""
    found = unmatched_problems(overrides, plan)
    extra = tuple(p for p in found if p not in set(plan.problems))
    return (replace(plan, problems=plan.problems + extra) if extra else plan), found
