"""Bad plans against a populated calendar: a one-line PlanError that says where, or a safe
reading; never a crash, never a deletion.

Each case first syncs the real seed plan into a folder calendar, then replaces the plan file
with something bad and syncs again through the settings (the engine reads the file itself).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncsvc.domain.changes import ChangeKind
from syncsvc.domain.errors import PlanError
from syncsvc.domain.plan import PlanItem
from syncsvc.engine.run import run_sync
from syncsvc.pipeline.ical import observe_ical
from syncsvc.plan.load import read_plan_bytes
from syncsvc.present.plan import plan_to_yaml
from syncsvc.settings import FolderCalendar, PlanSettings, Settings
from syncsvc.state.memory import MemoryState
from tests import builders
from tests.plan_docs import SEED_NAME, SEED_TEXT, seed_html
from tests.reliability import folder_objects, uids_in

NOW = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)  # before every seed event
SEED_TITLE = "Biblioteksjefmøte i Tromsø"
BIG_CELL = "END:VCALENDAR\r\n" + "ø" * 400_000 + "x" * 200_000  # 1 MB of UTF-8
INJECTION = "Fagdag X\r\nBEGIN:VEVENT\r\nUID:evil@example.org\r\nSUMMARY:Injisert\r\nEND:VEVENT"


def settings_for(tmp_path: Path, plan: Path, fmt: str = "auto") -> Settings:
    return builders.settings(
        tmp_path / "var",
        FolderCalendar(name="org", target="folder", path="org"),
        plan=PlanSettings(source=str(plan), format=fmt, max_bytes=2_000_000),
    )


@pytest.fixture
def populated(tmp_path: Path) -> tuple[Path, MemoryState, dict[str, bytes]]:
    plan = tmp_path / SEED_NAME
    plan.write_text(SEED_TEXT, encoding="utf-8")
    state = MemoryState()
    report = run_sync(settings_for(tmp_path, plan), state=state, now=NOW)
    assert report.outcome == "ok"
    files = folder_objects(tmp_path / "var" / "org")
    assert len(files) >= 15  # the seed has 18 dated occurrences
    return plan, state, files


def _no_date_column() -> bytes:
    return SEED_TEXT.replace("DATO/TID", "MERKNAD").encode()


def _nested_html() -> bytes:
    inner = seed_html()
    body = inner[inner.index("<table") : inner.rindex("</table>") + len("</table>")]
    nested = body.replace("Sommerles", "<table><tr><td>Sommerles<table><tr><td>x</td></tr></table>")
    return f"<html><body><table><tr><td>{nested}</td></tr></table></body></html>".encode()


def _script_html() -> bytes:
    page = seed_html().replace("Sommerles", "Sommerles<script>alert('pwned')</script>", 1)
    return page.replace(
        "<body>", "<body><script>document.write('Årsplan 1999')</script>", 1
    ).encode()


BAD: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "whitespace": lambda: b" \r\n\t\n",
    "binary": lambda: bytes(range(256)) * 64,
    "nul-in-text": lambda: SEED_TEXT.encode()[:500] + b"\x00" * 40,
    "huge": lambda: SEED_TEXT.encode() + b"x" * 2_100_000,
    "no-date-column": _no_date_column,
    "only-header": lambda: SEED_TEXT[: SEED_TEXT.index("Etablere mentorordning")].encode(),
    "nested-html-tables": _nested_html,
    "script-in-html": _script_html,
    "truncated-utf8": lambda: SEED_TEXT.encode()[:3001] + "ø".encode()[:1],
    "utf16-without-bom": lambda: SEED_TEXT.encode("utf-16-le"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_plan_is_a_clear_error_or_safe_and_never_deletes(
    case: str, populated: tuple[Path, MemoryState, dict[str, bytes]], tmp_path: Path
) -> None:
    plan, state, before = populated
    suffix = ".html" if "html" in case else ".txt"
    bad = plan.with_suffix(suffix)
    bad.write_bytes(BAD[case]())
    settings = settings_for(tmp_path, bad)
    error: PlanError | None = None
    try:
        report = run_sync(settings, state=state, now=NOW)
    except PlanError as err:
        error = err
    if error is not None:
        text = str(error)
        assert "\n" not in text
        assert "\r" not in text
        assert error.where is not None
        assert error.where.file == str(bad)
        assert text.startswith(str(bad))
        assert len(text) < 400
    else:
        org = report.calendars[0]
        applied_deletes = [c for c in org.changes if c.kind is ChangeKind.DELETE and c.applied]
        assert applied_deletes == [], case
        assert report.outcome in ("ok", "refused"), case
        if case == "script-in-html":
            summaries = b"".join(folder_objects(tmp_path / "var" / "org").values())
            assert b"alert(" not in summaries
            assert b"document.write" not in summaries
    after = folder_objects(tmp_path / "var" / "org")
    assert set(before) <= set(after)  # nothing deleted


def test_latin1_plan_reads_like_the_utf8_one_and_changes_nothing(
    populated: tuple[Path, MemoryState, dict[str, bytes]], tmp_path: Path
) -> None:
    plan, state, before = populated
    plan.write_bytes(SEED_TEXT.encode("cp1252", errors="replace"))
    report = run_sync(settings_for(tmp_path, plan), state=state, now=NOW)
    assert report.outcome == "ok"
    org = report.calendars[0]
    assert org.count(ChangeKind.DELETE) == 0
    assert org.count(ChangeKind.CREATE) == 0
    assert folder_objects(tmp_path / "var" / "org") == before
    assert report.plan_problems >= 1  # the cp1252 warning is reported


def _seed_with(change: Callable[[PlanItem], PlanItem]) -> str:
    """The seed plan as canonical YAML with one item changed."""
    plan = read_plan_bytes(SEED_TEXT.encode(), name=SEED_NAME)
    items = tuple(change(i) if i.title == SEED_TITLE else i for i in plan.items)
    assert items != plan.items
    return plan_to_yaml(dataclasses.replace(plan, items=items))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda i: dataclasses.replace(i, title=INJECTION), id="ical-in-title"),
        pytest.param(lambda i: dataclasses.replace(i, notes=BIG_CELL), id="1mb-cell"),
    ],
)
def test_hostile_text_stays_inside_its_event(
    change: Callable[[PlanItem], PlanItem],
    populated: tuple[Path, MemoryState, dict[str, bytes]],
    tmp_path: Path,
) -> None:
    _, state, before = populated
    hostile = tmp_path / "plan.yaml"
    hostile.write_text(_seed_with(change), encoding="utf-8")
    report = run_sync(settings_for(tmp_path, hostile, "canonical"), state=state, now=NOW)
    assert report.outcome == "ok"
    org = report.calendars[0]
    assert org.count(ChangeKind.DELETE) == 0
    assert org.count(ChangeKind.UPDATE) >= 1
    after = folder_objects(tmp_path / "var" / "org")
    assert set(after) == set(before)
    for name, data in after.items():
        lines = data.split(b"\r\n")
        assert lines.count(b"BEGIN:VEVENT") == 1, name
        assert lines.count(b"END:VCALENDAR") == 1, name
        assert b"UID:evil@example.org" not in lines
        assert len(uids_in(data)) == 1
        assert observe_ical(data, remote_id=name) is not None
