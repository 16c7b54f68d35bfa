"""Showing a plan: a readable table for `plan show`, and the JSON/YAML/TOML exports.

`plan_to_dict` is the JSON export and, written as YAML (`plan_to_yaml`) or TOML
(`plan_to_toml`), the canonical plan format that `readers/canonical.py` reads back to an equal
Plan. Field names are documented in docs/PLAN-FORMATS.md.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import yaml

from syncsvc.domain.errors import Where
from syncsvc.domain.plan import Occurrence, Plan, PlanItem, Problem, Severity, Status

SCHEMA_VERSION = 1


# --------------------------------------------------------------------------- export


def _where(where: Where | None) -> dict[str, object] | None:
    if where is None:
        return None
    return {"file": where.file, "line": where.line, "column": where.column}


def _occurrence(o: Occurrence) -> dict[str, object]:
    return {
        "start": o.start.isoformat(),
        "end": o.end.isoformat(),
        "all_day": o.all_day,
        "status": o.status.value,
        "topic": o.topic,
        "text": o.text,
    }


def _item(item: PlanItem) -> dict[str, object]:
    return {
        "key": item.key,
        "title": item.title,
        "semester": item.semester,
        "dates": item.date_text,
        "occurrences": [_occurrence(o) for o in item.occurrences],
        "people": list(item.people),
        "measures": list(item.measures),
        "public": item.public,
        "public_topics": item.public_topics,
        "responsible": item.responsible_text,
        "competence": item.competence,
        "visibility": item.visibility,
        "notes": item.notes,
        "where": _where(item.where),
    }


def _problem(p: Problem) -> dict[str, object]:
    return {
        "kind": p.kind.value,
        "severity": p.severity.value,
        "message": p.message,
        "item": p.item_key,
        "where": _where(p.where),
    }


def plan_to_dict(plan: Plan) -> dict[str, object]:
    """The plan as JSON-ready data (the canonical schema)."""
    return {
        "version": SCHEMA_VERSION,
        "title": plan.title,
        "year": plan.year,
        "source": plan.source,
        "extra": dict(plan.extra),
        "people": [
            {"name": p.name, "email": p.email, "aliases": list(p.aliases)} for p in plan.people
        ],
        "items": [_item(i) for i in plan.items],
        "problems": [_problem(p) for p in plan.problems],
    }


def plan_to_yaml(plan: Plan) -> str:
    """Canonical YAML; reads back (readers/canonical.py) to an equal Plan."""
    return yaml.safe_dump(
        plan_to_dict(plan), allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes; TOML also forbids raw DEL.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def plan_to_toml(plan: Plan) -> str:
    """Canonical TOML (None values are left out; TOML has no null)."""
    data = plan_to_dict(plan)
    out = [f"{k} = {_toml_value(data[k])}" for k in ("version", "title", "year", "source", "extra")]
    for table in ("people", "items", "problems"):
        entries = data[table]
        assert isinstance(entries, list)  # plan_to_dict's tables are lists of dicts
        for entry in entries:
            out.append(f"\n[[{table}]]")
            out.extend(f"{k} = {_toml_value(v)}" for k, v in entry.items() if v is not None)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- human table


def _day(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def format_occurrence(o: Occurrence) -> str:
    if isinstance(o.start, datetime) and isinstance(o.end, datetime):
        same_day = o.start.date() == o.end.date()
        end = o.end.strftime("%H:%M") if same_day else f"{_day(o.end)} {o.end.strftime('%H:%M')}"
        text = f"{_day(o.start)} {o.start.strftime('%H:%M')}–{end}"
    else:
        last = o.end - timedelta(days=1)
        text = _day(o.start) if last == o.start else f"{_day(o.start)}–{_day(last)}"
    if o.status is not Status.PLANNED:
        text += f" ({o.status.value})"
    if o.topic:
        text += f" – {o.topic}"
    return text


def _name(plan: Plan, email: str) -> str:
    person = plan.person(email)
    return person.name if person else email


def _item_lines(plan: Plan, item: PlanItem) -> list[str]:
    lines = [f"  {item.title}"]
    when = ", ".join(format_occurrence(o) for o in item.occurrences) or "(undated)"
    lines.append(f"      when:   {when}")
    names = [_name(plan, e) for e in item.people]
    facts = []
    if names:
        facts.append("people: " + ", ".join(names))
    if item.measures:
        facts.append("tiltak " + " ".join(str(m) for m in item.measures))
    if item.public:
        facts.append("public")
    if facts:
        lines.append("      " + " · ".join(facts))
    lines.append(f"      key:    {item.key}")  # what overrides match with `item = "..."`
    return lines


def format_plan(plan: Plan) -> str:
    """A readable table grouped by semester, then the problems."""
    dated = sum(1 for i in plan.items if i.occurrences)
    out = [
        f"{plan.title or '(untitled plan)'} — year {plan.year}",
        f"{len(plan.items)} items ({dated} dated, {len(plan.items) - dated} undated), "
        f"{len(plan.people)} people; source {plan.source or '-'}"
        + (f"; read as {plan.extra['format']}" if plan.extra.get("format") else ""),
    ]
    semester: object = object()
    for item in plan.items:
        if item.semester != semester:
            semester = item.semester
            out.append("")
            out.append(item.semester or "(no semester)")
        out.extend(_item_lines(plan, item))
    counts = {s: sum(1 for p in plan.problems if p.severity is s) for s in Severity}
    out.append("")
    out.append(
        f"Problems: {counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, "
        f"{counts[Severity.INFO]} info"
    )
    for p in plan.problems:
        where = f"{p.where}: " if p.where else ""
        key = f" [{p.item_key}]" if p.item_key else ""
        out.append(f"  {p.severity.value:<7} {p.kind.value:<16} {where}{p.message}{key}")
    return "\n".join(out) + "\n"
