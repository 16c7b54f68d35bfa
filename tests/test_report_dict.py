"""The stored run report: `RunReport.to_dict` is written out by hand for speed and must give
what the asdict-based form gave (the stored history and the admin page read it)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from syncsvc.domain.changes import (
    CalendarReport,
    Change,
    ChangeKind,
    ChangeStatus,
    Outcome,
    RunReport,
)


def reference(report: RunReport) -> dict[str, Any]:
    """The old form: dataclasses.asdict, then dates as ISO text and enums as values."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, StrEnum):
            return value.value
        return value

    data = asdict(report)
    data["outcome"] = report.outcome
    data["counts"] = report.tally.as_dict()
    for cal, raw in zip(report.calendars, data["calendars"], strict=True):
        raw["counts"] = cal.tally.as_dict()
    out: dict[str, Any] = plain(data)
    return out


def test_to_dict_is_the_asdict_form() -> None:
    changes = [
        Change(ChangeKind.CREATE, "a@x", "Fagdag", date(2024, 3, 4), "new in plan", "k/a"),
        Change(
            ChangeKind.UPDATE,
            "b@x",
            "Tirsdagsmøte",
            datetime(2024, 8, 20, 10, tzinfo=UTC),
            "date moved",
            "k/b",
            status=ChangeStatus.FAILED,
            error="412 Precondition Failed",
            maybe_applied=True,
            fields=(("start", "2024-08-20 10:00", "2024-08-27 10:00"),),
        ),
        Change(ChangeKind.DELETE, "c@x", "", None, "removed from plan"),
        Change(ChangeKind.UNCHANGED, "d@x", "Møte", date(2024, 1, 2), "unchanged"),
    ]
    report = RunReport(
        run_id="r1",
        started=datetime(2024, 5, 1, 12, tzinfo=UTC),
        finished=datetime(2024, 5, 1, 12, 1, tzinfo=UTC),
        plan_source="arsplan.txt",
        plan_items=3,
        calendars=[
            CalendarReport("org", "caldav", Outcome.FAILED, changes, requests=7, error="x"),
            CalendarReport("p", "folder", notes=["a note"], duration_seconds=0.5),
        ],
        notes=["override unmatched"],
    )
    assert report.to_dict() == reference(report)
    assert report.to_dict()["calendars"][0]["changes"][1]["fields"] == [
        ["start", "2024-08-20 10:00", "2024-08-27 10:00"]
    ]
