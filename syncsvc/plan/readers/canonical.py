"""The canonical structured plan, YAML or TOML, validated with pydantic.

The schema is the JSON export of `syncsvc.present.plan.plan_to_dict` (documented in
docs/PLAN-FORMATS.md), so `plan_to_yaml` output reads back to an equal Plan. Hand-written files
may leave most fields out: an item needs only a `title`; without `occurrences` its `dates` text
is read with the date grammar; without `key` one is made from semester and title; without a
top-level `problems` list the problems are worked out as for a table. Errors name the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syncsvc.domain import tomltext
from syncsvc.domain.errors import PlanError, Where
from syncsvc.domain.plan import (
    TIMEZONE,
    Occurrence,
    Person,
    Plan,
    PlanItem,
    Problem,
    ProblemKind,
    Severity,
    Status,
)
from syncsvc.plan.dates import grammar as date_grammar
from syncsvc.plan.document import slug
from syncsvc.plan.people import Directory, people_of_cells
from syncsvc.plan.table import measures_of

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WhereModel(_Strict):
    file: str
    line: int | None = None
    column: str | None = None


class PersonModel(_Strict):
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    aliases: list[str] = []


class OccurrenceModel(_Strict):
    start: datetime | date | str
    end: datetime | date | str | None = None  # default: one day, or one hour when timed
    all_day: bool | None = None  # written by the export for readers; ignored here
    status: Status = Status.PLANNED
    topic: str | None = None
    text: str = ""


class ItemModel(_Strict):
    title: str = Field(min_length=1)
    key: str | None = None
    semester: str | None = None
    dates: str = ""
    occurrences: list[OccurrenceModel] | None = None
    people: list[str] = []
    measures: list[int] | str = []
    public: bool = False
    public_topics: bool = False  # the visibility cell also publishes per-date topics
    responsible: str = ""
    competence: str = ""
    visibility: str = ""
    notes: str = ""
    where: WhereModel | None = None


class ProblemModel(_Strict):
    kind: ProblemKind
    severity: Severity
    message: str
    item: str | None = None
    where: WhereModel | None = None


class PlanModel(_Strict):
    version: int = SCHEMA_VERSION
    title: str = ""
    year: int = Field(ge=1900, le=2199)
    source: str | None = None
    extra: dict[str, str] = {}
    people: list[PersonModel] = []
    items: list[ItemModel] = []
    problems: list[ProblemModel] | None = None


# --------------------------------------------------------------------------- parsing + lines


# libyaml's loader when PyYAML was built with it: the pure-Python one is ~10x slower.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_data(text: str, name: str) -> tuple[Any, yaml.Node | None]:
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent):
                # Aliases can multiply a small file into a huge structure ("billion laughs").
                raise PlanError(
                    "YAML anchors and aliases are not supported", where=_at(name, event)
                )
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise PlanError(f"invalid YAML: {err.problem or err}", where=Where(name, line)) from err
    except yaml.YAMLError as err:
        raise PlanError(f"invalid YAML: {err}", where=Where(name)) from err
    return data, node


def _at(name: str, event: yaml.Event) -> Where:
    return Where(name, event.start_mark.line + 1 if event.start_mark else None)


def _yaml_line(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if str(k.value) == str(part)), None)
            if found is None:
                break
            key = next(k for k, v in node.value if v is found)
            node, line = found, key.start_mark.line + 1
            if not isinstance(found, yaml.MappingNode | yaml.SequenceNode):
                line = found.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _toml_data(text: str, name: str) -> dict[str, Any]:
    try:
        return tomltext.loads(text)
    except tomltext.TomlSyntaxError as err:
        raise PlanError(err.message, where=Where(name, err.line)) from None


def _toml_line(text: str, loc: Sequence[int | str]) -> int | None:
    """The line of the key a validation error points at (tomllib keeps no positions)."""
    lines = text.split("\n")
    start, end, best = 0, len(lines), None
    path: list[str] = []
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(part, int):
            i += 1
            continue
        path.append(part)
        if i + 1 < len(parts) and isinstance(parts[i + 1], int):
            n = int(parts[i + 1])
            header = re.compile(rf"^\s*\[\[\s*{re.escape('.'.join(path))}\s*\]\]")
            hits = [j for j in range(start, end) if header.match(lines[j])]
            if n < len(hits):
                start = best = hits[n]
                start += 1
                nxt = [j for j in hits if j > hits[n]]
                end = nxt[0] if nxt else len(lines)
                i += 2
                continue
        key = re.compile(rf'^\s*"?{re.escape(part)}"?\s*=')
        for j in range(start, end):
            if key.match(lines[j]):
                best = j
                break
            if j > start and lines[j].lstrip().startswith("[") and not path[:-1]:
                break
        i += 1
    return best + 1 if best is not None else None


def _error_message(err: ValidationError) -> tuple[str, tuple[int | str, ...]]:
    first = err.errors()[0]
    loc = tuple(first["loc"])
    field = ".".join(str(p) for p in loc) or "plan"
    return f"invalid plan: {field}: {first['msg']}", loc


# --------------------------------------------------------------------------- building


def _when(value: datetime | date | str, tz: str) -> date | datetime:
    if isinstance(value, str):
        value = value.strip()
        try:
            parsed: date | datetime = (
                date.fromisoformat(value) if len(value) <= 10 else datetime.fromisoformat(value)
            )
        except ValueError as err:
            raise ValueError(f"not an ISO date or date-time: {value!r}") from err
        value = parsed
    if isinstance(value, datetime):
        zone = ZoneInfo(tz)
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    return value


def _occurrence(o: OccurrenceModel, tz: str) -> Occurrence:
    start = _when(o.start, tz)
    if o.end is None:
        end: date | datetime = start + (
            timedelta(hours=1) if isinstance(start, datetime) else timedelta(days=1)
        )
    else:
        end = _when(o.end, tz)
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise ValueError("start and end must both be dates or both be date-times")
    if end <= start:
        raise ValueError("end must be after start (the end is exclusive)")
    return Occurrence(start, end, o.status, o.topic, o.text)


@dataclass
class _Builder:
    model: PlanModel
    name: str
    tz: str
    directory: Directory
    line_of: Any  # (loc) -> int | None

    def where(self, *loc: int | str, column: str | None = None) -> Where:
        return Where(self.name, self.line_of(loc), column)

    def build(self) -> Plan:
        problems: list[Problem] = []
        keys: dict[str, int] = {}
        items = []
        taken: dict[str, Where | None] = {}
        for n, m in enumerate(self.model.items):
            item = self.item(n, m, keys, problems)
            if item.key in taken:
                if m.key:  # two items claim one key: one would silently replace the other
                    raise PlanError(
                        f"invalid plan: key {item.key!r} is used by two items: at "
                        f"{taken[item.key] or 'an earlier item'} and here",
                        where=item.where,
                    )
                while item.key in taken:  # a made-up key that another item has: next free
                    keys[item.key] = keys.get(item.key, 1) + 1
                    item = replace(item, key=f"{item.key}-{keys[item.key]}")
            taken[item.key] = item.where
            items.append(item)
        if self.model.problems is not None:
            problems = [
                Problem(
                    p.kind,
                    p.severity,
                    p.message,
                    Where(p.where.file, p.where.line, p.where.column) if p.where else None,
                    p.item,
                )
                for p in self.model.problems
            ]
        return Plan(
            title=self.model.title,
            year=self.model.year,
            items=tuple(items),
            people=self.directory.people,
            problems=tuple(problems),
            source=self.model.source if self.model.source is not None else self.name,
            extra=dict(self.model.extra) if self.model.extra else {"format": "canonical"},
        )

    def item(self, n: int, m: ItemModel, keys: dict[str, int], problems: list[Problem]) -> PlanItem:
        key = m.key
        if not key:
            base = f"{slug(m.semester or 'plan')}/{slug(m.title)}"
            keys[base] = keys.get(base, 0) + 1
            key = base if keys[base] == 1 else f"{base}-{keys[base]}"
        where = (
            Where(m.where.file, m.where.line, m.where.column) if m.where else self.where("items", n)
        )
        if m.occurrences is not None:
            occurrences: list[Occurrence] = []
            for k, o in enumerate(m.occurrences):
                try:
                    occurrences.append(_occurrence(o, self.tz))
                except ValueError as err:
                    raise PlanError(
                        f"invalid plan: items.{n}.occurrences.{k}: {err}",
                        where=self.where("items", n, "occurrences", k),
                    ) from err
        else:
            occurrences = self.read_dates(n, m, key, problems)
        people = self.people(n, m, key, problems)
        measures = tuple(m.measures) if isinstance(m.measures, list) else measures_of(m.measures)
        return PlanItem(
            key=key,
            title=m.title,
            occurrences=tuple(occurrences),
            date_text=m.dates,
            semester=m.semester,
            people=people,
            measures=measures,
            public=m.public,
            public_topics=m.public and m.public_topics,
            responsible_text=m.responsible,
            competence=m.competence,
            visibility=m.visibility,
            notes=m.notes,
            where=where,
        )

    def read_dates(
        self, n: int, m: ItemModel, key: str, problems: list[Problem]
    ) -> list[Occurrence]:
        year = self.model.year
        sem_year = re.search(r"(?:19|20)\d\d", m.semester or "")
        if sem_year:
            year = int(sem_year.group())
        out: list[Occurrence] = []
        where = self.where("items", n, "dates", column="dates")
        for text in filter(None, (t.strip() for t in m.dates.split("\n"))):
            reading = date_grammar.read_dates(text, year, tz=self.tz)
            out.extend(reading.occurrences)
            problems.extend(Problem(k, s, msg, where, key) for k, s, msg in reading.problems)
        if not out:
            problems.append(
                Problem(
                    ProblemKind.UNDATED,
                    Severity.WARNING,
                    f"not scheduled: {m.dates.strip() or 'no date'}",
                    where,
                    key,
                )
            )
        return out

    def people(self, n: int, m: ItemModel, key: str, problems: list[Problem]) -> tuple[str, ...]:
        emails: list[str] = []
        for k, entry in enumerate(m.people):
            where = self.where("items", n, "people", k, column="people")
            if "@" in entry:
                emails.append(entry.strip().lower())
                continue
            found = self.directory.lookup(entry)
            if len(found) == 1:
                emails.append(found[0])
            else:
                kind = ProblemKind.AMBIGUOUS_PERSON if found else ProblemKind.UNKNOWN_PERSON
                problems.append(
                    Problem(kind, Severity.WARNING, f"{entry!r}: no single person", where, key)
                )
        if not m.people and m.responsible:
            found_people = people_of_cells(
                [(m.responsible, self.where("items", n, "responsible"), True)], self.directory
            )
            emails.extend(found_people.emails)
            problems.extend(
                Problem(p.kind, p.severity, p.message, w, key) for p, w in found_people.problems
            )
        return tuple(dict.fromkeys(emails))


def read_canonical(
    text: str,
    name: str,
    *,
    syntax: str | None = None,
    year: int | None = None,
    people: Iterable[Person] = (),
    aliases: Mapping[str, str] | None = None,
    tz: str = TIMEZONE,
) -> Plan:
    """Read a canonical plan; `syntax` is 'yaml' or 'toml' (guessed from the text if None)."""
    if syntax is None:
        syntax = "toml" if _looks_like_toml(text) else "yaml"
    if syntax == "toml":
        data: Any = _toml_data(text, name)

        def line_of(loc: Sequence[int | str]) -> int | None:
            return _toml_line(text, loc)
    else:
        data, node = _yaml_data(text, name)

        def line_of(loc: Sequence[int | str]) -> int | None:
            return _yaml_line(node, loc)

    if not isinstance(data, dict):
        raise PlanError(
            "a canonical plan is a mapping with `year` and `items`", where=Where(name, 1)
        )
    if year is not None:
        data = {**data, "year": year}
    try:
        model = PlanModel.model_validate(data)
    except ValidationError as err:
        message, loc = _error_message(err)
        raise PlanError(message, where=Where(name, line_of(loc))) from err
    directory = Directory.build(
        (Person(p.name, p.email, tuple(p.aliases)) for p in model.people), people, aliases
    )
    return _Builder(model, name, tz, directory, line_of).build()


_TOML_HINT = re.compile(r"^\s*(?:\[\[?[\w.\"-]+\]\]?\s*$|[\w\"-]+\s*=)", re.M)
_YAML_HINT = re.compile(r"^\s*[\w\"-]+\s*:(?:\s|$)", re.M)


def _looks_like_toml(text: str) -> bool:
    toml, yml = _TOML_HINT.search(text), _YAML_HINT.search(text)
    if toml and yml:
        return toml.start() < yml.start()
    return toml is not None
