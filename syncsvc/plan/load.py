"""The entry point of plan reading: a source spec in, a `Plan` out.

`load_plan` fetches (file or URL) and reads; `read_plan_bytes` is the pure part, from bytes.
Any input gives a Plan or a `PlanError` (with `Where`), never another exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

from syncsvc.domain.errors import PlanError, Where
from syncsvc.domain.plan import TIMEZONE, Person, Plan
from syncsvc.plan.formats import FORMS, is_format
from syncsvc.plan.reading_cache import cached_reading, keep_reading, reading_key
from syncsvc.plan.source import decode_text, read_source, suffix_of

_NO_ALIASES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class PlanSourceSpec:
    """Where the plan is and how to read it (the settings object maps onto this)."""

    location: str  # file path or http(s) URL
    format: str = "auto"  # auto, a form (pdf), layout-form (table-xlsx), canonical: registry
    year: int | None = None  # wins over the year in the plan
    people: tuple[Person, ...] = ()  # extra directory entries
    aliases: Mapping[str, str] = field(default_factory=lambda: _NO_ALIASES)  # alias -> email
    max_bytes: int = 10_000_000
    timeout_seconds: float = 30.0
    cache_dir: Path | None = None  # a URL's body + ETag/Last-Modified, for conditional GET
    tz: str = TIMEZONE  # the plan's zone (settings: plan.timezone)


def load_plan(spec: PlanSourceSpec, *, today: date | None = None) -> Plan:
    """Fetch and read the plan; `today` (default: the date now) is only needed by plans
    that write no year at all, whose weekdays choose it. With a `cache_dir`, an unchanged
    plan's last reading is reused (plan.reading_cache)."""
    fetched = read_source(
        spec.location,
        max_bytes=spec.max_bytes,
        timeout_seconds=spec.timeout_seconds,
        cache_dir=spec.cache_dir,
    )
    today = today or date.today()
    options = (
        fetched.name,
        spec.format,
        spec.year,
        spec.people,
        sorted(spec.aliases.items()),
        fetched.content_type,
        spec.tz,
        today,
    )
    key = reading_key(fetched.data, options) if spec.cache_dir else ""
    plan = cached_reading(spec.cache_dir, spec.location, key) if spec.cache_dir else None
    if plan is None:
        plan = read_plan_bytes(
            fetched.data,
            name=fetched.name,
            format=spec.format,
            year=spec.year,
            people=spec.people,
            aliases=spec.aliases,
            content_type=fetched.content_type,
            tz=spec.tz,
            today=today,
        )
        if spec.cache_dir:
            keep_reading(spec.cache_dir, spec.location, key, plan)
    if fetched.extra:
        plan = replace(plan, extra={**plan.extra, **fetched.extra})
    return plan


def read_plan_bytes(
    data: bytes,
    *,
    name: str,
    format: str = "auto",
    year: int | None = None,
    people: tuple[Person, ...] = (),
    aliases: Mapping[str, str] | None = None,
    content_type: str | None = None,
    tz: str = TIMEZONE,
    today: date | None = None,
) -> Plan:
    """Read a plan from bytes (pure). Raises PlanError for unreadable input."""
    if not is_format(format):
        raise PlanError(
            f"unknown plan format {format!r} (use auto, a file form ({', '.join(FORMS)}), "
            f"a layout and form such as table-xlsx or list-pdf, or canonical)",
            where=Where(name),
        )
    if not data.strip():
        raise PlanError("the plan is empty", where=Where(name))
    try:
        return _read(data, name, format, year, people, aliases, tz, content_type, today)
    except RecursionError as err:
        raise PlanError("the document is nested too deeply to read", where=Where(name)) from err


def _read(
    data: bytes,
    name: str,
    fmt: str,
    year: int | None,
    people: tuple[Person, ...],
    aliases: Mapping[str, str] | None,
    tz: str,
    content_type: str | None,
    today: date | None,
) -> Plan:
    # The readers load here, not at import: a run that reuses a cached reading needs none.
    from syncsvc.plan.registry import detect_form, read_document
    from syncsvc.plan.table import build_plan

    if fmt == "canonical" or (
        fmt == "auto" and detect_form(data, name, content_type) == "canonical"
    ):
        text, problems = decode_text(data, name)
        suffix = suffix_of(name)
        syntax = "toml" if suffix == ".toml" else "yaml" if suffix in (".yaml", ".yml") else None
        from syncsvc.plan.readers.canonical import read_canonical  # YAML: on demand

        plan = read_canonical(
            text, name, syntax=syntax, year=year, people=people, aliases=aliases, tz=tz
        )
        return replace(plan, problems=(*problems, *plan.problems)) if problems else plan
    doc, _ = read_document(data, name, fmt, content_type)
    return build_plan(doc, year=year, people=people, aliases=aliases, tz=tz, today=today)
