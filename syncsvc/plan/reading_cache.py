"""Reusing the reading of a plan whose bytes have not changed.

A one-shot `syncsvc sync` (cron) reads the same document every run, and reading is most of a
no-op run's work after start-up (1,000 rows: ~0.2 s, and the readers' imports). The reading
is kept in the data folder's cache, keyed by everything it depends on: the bytes, every
reading option, the day (plans without a year take it from the weekdays and today), and the
code that reads (syncsvc's version and the size and time of each file of the plan reader and
model), so an upgrade or an edited reader reads afresh. A reading that fails is never kept:
its error is reported every run.

The file is JSON of the plan's values (no pickle: a file in the data folder must not be able
to run code); a file that cannot be loaded (torn, another format, edited) is ignored and the
plan read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from syncsvc import __version__
from syncsvc.atomic import write_atomic
from syncsvc.domain.errors import Where
from syncsvc.domain.plan import (
    Occurrence,
    Person,
    Plan,
    PlanItem,
    Problem,
    ProblemKind,
    Severity,
    Status,
)

_FORMAT = 1  # of the cache file: part of the key


def reading_key(data: bytes, options: tuple[object, ...]) -> str:
    """The key of a reading of `data` with `options` (plain values with a stable repr)."""
    digest = hashlib.sha256(_code_fingerprint().encode())
    digest.update(repr(options).encode())
    digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


@cache
def _code_fingerprint() -> str:
    package = Path(__file__).resolve().parent.parent
    files = sorted(p for folder in ("plan", "domain") for p in (package / folder).rglob("*.py"))
    stamps = [
        f"{p.relative_to(package)}:{s.st_size}:{s.st_mtime_ns}" for p in files if (s := p.stat())
    ]
    return f"{__version__}|{_FORMAT}|" + "|".join(stamps)


def cached_reading(cache_dir: Path, location: str, key: str) -> Plan | None:
    """The plan read last time from `location`, if it was read under this `key`."""
    try:
        stored = json.loads(_path(cache_dir, location).read_bytes())
        if not isinstance(stored, dict) or stored.get("key") != key:
            return None
        return plan_from_json(stored["plan"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # no file, or one we cannot use: read the plan


def keep_reading(cache_dir: Path, location: str, key: str, plan: Plan) -> None:
    """Keep `plan` as the reading of `location` under `key` (one file per location)."""
    body = json.dumps({"key": key, "plan": plan_to_json(plan)}, ensure_ascii=False)
    with contextlib.suppress(OSError):  # the cache only saves time: not being kept is fine
        write_atomic(_path(cache_dir, location), body.encode())


def _path(cache_dir: Path, location: str) -> Path:
    # A hash: the location may be a URL with credentials in it.
    return cache_dir / f"reading-{hashlib.sha256(location.encode()).hexdigest()[:24]}.json"


# --- the plan as JSON values ----------------------------------------------------------------


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "title": plan.title,
        "year": plan.year,
        "items": [_item_out(i) for i in plan.items],
        "people": [[p.name, p.email, list(p.aliases)] for p in plan.people],
        "problems": [_problem_out(p) for p in plan.problems],
        "source": plan.source,
        "extra": plan.extra,
    }


def plan_from_json(data: dict[str, Any]) -> Plan:
    return Plan(
        title=str(data["title"]),
        year=int(data["year"]),
        items=tuple(_item_in(i) for i in data["items"]),
        people=tuple(Person(n, e, tuple(a)) for n, e, a in data["people"]),
        problems=tuple(_problem_in(p) for p in data["problems"]),
        source=str(data["source"]),
        extra={str(k): str(v) for k, v in data["extra"].items()},
    )


def _item_out(item: PlanItem) -> dict[str, Any]:
    return {
        "key": item.key,
        "title": item.title,
        "occurrences": [
            [_when_out(o.start), _when_out(o.end), o.status.value, o.topic, o.text]
            for o in item.occurrences
        ],
        "date_text": item.date_text,
        "semester": item.semester,
        "people": list(item.people),
        "measures": list(item.measures),
        "public": item.public,
        "public_topics": item.public_topics,
        "responsible_text": item.responsible_text,
        "competence": item.competence,
        "visibility": item.visibility,
        "notes": item.notes,
        "where": _where_out(item.where),
    }


def _item_in(data: dict[str, Any]) -> PlanItem:
    return PlanItem(
        key=data["key"],
        title=data["title"],
        occurrences=tuple(
            Occurrence(_when_in(s), _when_in(e), Status(st), topic, text)
            for s, e, st, topic, text in data["occurrences"]
        ),
        date_text=data["date_text"],
        semester=data["semester"],
        people=tuple(data["people"]),
        measures=tuple(int(m) for m in data["measures"]),
        public=bool(data["public"]),
        public_topics=bool(data["public_topics"]),
        responsible_text=data["responsible_text"],
        competence=data["competence"],
        visibility=data["visibility"],
        notes=data["notes"],
        where=_where_in(data["where"]),
    )


def _problem_out(problem: Problem) -> list[Any]:
    return [
        problem.kind.value,
        problem.severity.value,
        problem.message,
        _where_out(problem.where),
        problem.item_key,
    ]


def _problem_in(data: list[Any]) -> Problem:
    kind, severity, message, where, item_key = data
    return Problem(ProblemKind(kind), Severity(severity), message, _where_in(where), item_key)


def _where_out(where: Where | None) -> list[Any] | None:
    return None if where is None else [where.file, where.line, where.column]


def _where_in(data: list[Any] | None) -> Where | None:
    return None if data is None else Where(data[0], data[1], data[2])


def _when_out(value: date | datetime) -> list[Any]:
    """[ISO text, zone]: a date ("date"); a floating time (None); a named zone (its key and
    the fold, which tells the two 02:30s of a night the clocks go back); or a fixed offset
    in seconds."""
    if not isinstance(value, datetime):
        return [value.isoformat(), "date"]
    tz = value.tzinfo
    naive = value.replace(tzinfo=None).isoformat()
    if tz is None:
        return [naive, None]
    if isinstance(tz, ZoneInfo):
        return [naive, tz.key, value.fold]
    offset = value.utcoffset()
    return [naive, int(offset.total_seconds()) if offset is not None else None]


def _when_in(data: list[Any]) -> date | datetime:
    text, zone = data[0], data[1]
    if zone == "date":
        return date.fromisoformat(text)
    naive = datetime.fromisoformat(text)
    if zone is None:
        return naive
    if isinstance(zone, str):
        return naive.replace(tzinfo=ZoneInfo(zone), fold=int(data[2]))
    return naive.replace(tzinfo=timezone(timedelta(seconds=int(zone))))
