"""The plan corpus (tests/corpus/): every document reads to its hand-made expected reading.

Each document is read as a user would (`format = "auto"`), and the reading is compared with
`NAME.expected.yaml`: the reader chosen, the plan year, every dated occurrence (title, first
and last day or start and end time, status), every undated item, and every error and
warning (kind, severity, item title) with its place in the document.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from syncsvc.plan.load import read_plan_bytes
from tests.corpus_forms import BINARY_FORMS, build

CORPUS = Path(__file__).resolve().parent / "corpus"
OSLO = ZoneInfo("Europe/Oslo")


def _documents() -> list[Path]:
    return sorted(CORPUS.glob("*.expected.yaml"))


def _source(expected: Path) -> tuple[str, bytes]:
    stem = expected.name.removesuffix(".expected.yaml")
    for form in BINARY_FORMS:
        src = CORPUS / f"{stem}{form}.txt"
        if src.exists():
            return build(src)
    found = [p for p in CORPUS.glob(f"{stem}.*") if not p.name.endswith((".yaml", ".txt"))]
    found += list(CORPUS.glob(f"{stem}.txt"))
    assert len(found) == 1, f"no single document for {expected.name}: {found}"
    return found[0].name, found[0].read_bytes()


def _when(value: Any) -> date | datetime:
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    return (
        datetime.fromisoformat(text).replace(tzinfo=OSLO)
        if " " in text
        else date.fromisoformat(text)
    )


def _expected_events(spec: dict[str, Any]) -> Counter[tuple[str, object, object, str]]:
    out: Counter[tuple[str, object, object, str]] = Counter()
    for entry in spec.get("events") or []:
        title, first = entry[0], _when(entry[1])
        last = _when(entry[2]) if len(entry) > 2 else first
        status = entry[3] if len(entry) > 3 else "planned"
        # All-day: the file gives the last day; the plan's end is exclusive.
        end = last if isinstance(last, datetime) else last + timedelta(days=1)
        out[(str(title), first, end, status)] += 1
    return out


def _read(expected: Path) -> tuple[dict[str, Any], Any, str]:
    spec = yaml.safe_load(expected.read_text(encoding="utf-8"))
    name, data = _source(expected)
    today = spec.get("today")
    plan = read_plan_bytes(data, name=name, today=today if isinstance(today, date) else None)
    return spec, plan, name


@pytest.mark.parametrize("expected", _documents(), ids=lambda p: p.name.split(".")[0])
def test_corpus_document_reads_as_expected(expected: Path) -> None:
    spec, plan, _ = _read(expected)
    assert plan.extra["format"].split("-")[0] == spec["reader"], plan.extra["format"]
    assert plan.year == spec["year"]
    assert plan.title == spec["title"]
    read = Counter(
        (item.title, o.start, o.end, str(o.status)) for item in plan.items for o in item.occurrences
    )
    want = _expected_events(spec)
    assert read - want == Counter(), f"read but not expected: {sorted(read - want, key=str)}"
    assert want - read == Counter(), f"expected but not read: {sorted(want - read, key=str)}"
    assert sorted(i.title for i in plan.items if not i.occurrences) == sorted(
        spec.get("undated") or []
    )
    titles = {i.key: i.title for i in plan.items}
    problems = Counter(
        (str(p.kind), str(p.severity), titles.get(p.item_key or "", ""))
        for p in plan.problems
        if str(p.severity) != "info"
    )
    assert problems == Counter(tuple(p) for p in spec.get("problems") or []), [
        (p.kind, p.severity, p.message) for p in plan.problems if str(p.severity) != "info"
    ]


@pytest.mark.parametrize("expected", _documents(), ids=lambda p: p.name.split(".")[0])
def test_corpus_problems_and_items_say_where(expected: Path) -> None:
    _, plan, name = _read(expected)
    for problem in plan.problems:
        assert problem.where is not None, problem
        assert problem.where.file == name, problem
    for item in plan.items:
        assert item.where is not None
        assert item.where.file == name
        if not name.endswith(".html") and not name.endswith(".docx"):
            # Text, CSV, spreadsheets and PDF text have line (row) numbers for every item.
            assert item.where.line is not None, item


def test_corpus_covers_the_family() -> None:
    specs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in _documents()]
    assert len(specs) >= 12
    assert len({s["kind"] for s in specs}) >= 8
    assert {s["language"] for s in specs} == {"nb", "nn"}
    assert {"text", "html", "docx", "xlsx", "ods", "csv", "pdf"} <= {s["form"] for s in specs}
    assert {"table", "list", "grid", "week"} <= {s["reader"] for s in specs}
    total = sum(len(s.get("events") or []) for s in specs)
    assert total >= 150


@pytest.mark.parametrize("expected", _documents(), ids=lambda p: p.name.split(".")[0])
def test_corpus_reading_survives_the_canonical_export(expected: Path) -> None:
    # Cancelled and tentative dates, unknown-status and year problems: all in the YAML plan.
    from syncsvc.plan.readers.canonical import read_canonical
    from syncsvc.present.plan import plan_to_yaml

    _, plan, _ = _read(expected)
    back = read_canonical(plan_to_yaml(plan), "plan.yaml", syntax="yaml")
    assert back.items == plan.items
    assert back.problems == plan.problems
