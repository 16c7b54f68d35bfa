"""The entry point of plan reading: a source spec in, a `Plan` out.

`load_plan` fetches (file or URL) and reads; `read_plan_bytes` is the pure part, from bytes.
Any input gives a Plan or a `PlanError` (with `Where`), never another exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from syncsvc.domain.errors import PlanError, Where
from syncsvc.domain.plan import TIMEZONE, Person, Plan
from syncsvc.plan.readers.activity import read_activity_list
from syncsvc.plan.readers.canonical import read_canonical
from syncsvc.plan.readers.docx import read_docx_table
from syncsvc.plan.readers.html import read_html_table
from syncsvc.plan.readers.text import read_text_table
from syncsvc.plan.source import FORMATS, decode_text, detect_format, read_source, suffix_of
from syncsvc.plan.table import build_plan

_NO_ALIASES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class PlanSourceSpec:
    """Where the plan is and how to read it (the settings object maps onto this)."""

    location: str  # file path or http(s) URL
    format: str = "auto"  # auto|table-text|table-html|table-docx|activity-list|canonical
    year: int | None = None  # wins over the year in the plan
    people: tuple[Person, ...] = ()  # extra directory entries
    aliases: Mapping[str, str] = field(default_factory=lambda: _NO_ALIASES)  # alias -> email
    max_bytes: int = 10_000_000
    timeout_seconds: float = 30.0
    cache_dir: Path | None = None  # a URL's body + ETag/Last-Modified, for conditional GET
    tz: str = TIMEZONE  # the plan's zone (settings: plan.timezone)


def load_plan(spec: PlanSourceSpec) -> Plan:
    fetched = read_source(
        spec.location,
        max_bytes=spec.max_bytes,
        timeout_seconds=spec.timeout_seconds,
        cache_dir=spec.cache_dir,
    )
    plan = read_plan_bytes(
        fetched.data,
        name=fetched.name,
        format=spec.format,
        year=spec.year,
        people=spec.people,
        aliases=spec.aliases,
        content_type=fetched.content_type,
        tz=spec.tz,
    )
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
) -> Plan:
    """Read a plan from bytes (pure). Raises PlanError for unreadable input."""
    if format != "auto" and format not in FORMATS:
        raise PlanError(
            f"unknown plan format {format!r} (use auto or one of {', '.join(FORMATS)})",
            where=Where(name),
        )
    if not data.strip():
        raise PlanError("the plan is empty", where=Where(name))
    fmt = detect_format(data, name, content_type) if format == "auto" else format
    try:
        return _read(data, name, fmt, year, people, aliases, tz)
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
) -> Plan:
    if fmt == "table-docx":
        doc = read_docx_table(data, name)
        return build_plan(doc, year=year, people=people, aliases=aliases, tz=tz)
    text, problems = decode_text(data, name)
    if fmt == "canonical":
        suffix = suffix_of(name)
        syntax = "toml" if suffix == ".toml" else "yaml" if suffix in (".yaml", ".yml") else None
        plan = read_canonical(
            text, name, syntax=syntax, year=year, people=people, aliases=aliases, tz=tz
        )
        return replace(plan, problems=(*problems, *plan.problems)) if problems else plan
    reader = {
        "table-text": read_text_table,
        "table-html": read_html_table,
        "activity-list": read_activity_list,
    }[fmt]
    doc = replace(reader(text, name), problems=problems)
    return build_plan(doc, year=year, people=people, aliases=aliases, tz=tz)
