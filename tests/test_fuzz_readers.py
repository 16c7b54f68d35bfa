"""Fuzzing the readers and the date grammar where it matters for the calendars: mutations of
the real seed plan (one cell replaced, or real date cells damaged) must read to a Plan or a
PlanError, and every Plan must route and render to events that read back as themselves.
Bounded: `max_examples`, `deadline=None`, derandomized (same examples every run).
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncsvc.domain.errors import PlanError
from syncsvc.domain.ownership import OwnerKey
from syncsvc.domain.plan import Plan
from syncsvc.pipeline.ical import event_to_ical, observe_ical
from syncsvc.pipeline.overrides import Overrides
from syncsvc.pipeline.route import desired_events
from syncsvc.plan.dates.grammar import read_dates
from syncsvc.plan.load import read_plan_bytes
from syncsvc.settings import FolderCalendar
from tests.builders import STAMP, TZ
from tests.plan_docs import SEED_NAME, SEED_TEXT, seed_html

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
CALENDARS = [
    FolderCalendar(name="org", target="folder", path="org"),
    FolderCalendar(name="pub", target="folder", path="p", selector="public", audience="public"),
]
ROWS = [i for i, line in enumerate(SEED_TEXT.split("\n")) if line.count("\t") >= 6]
DATE_CELLS = sorted(
    {line.split("\t")[1] for line in SEED_TEXT.split("\n") if line.count("\t") >= 6}
)
HOSTILE = st.sampled_from(
    [
        "\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT",
        "<script>alert(1)</script>",
        "\x00",
        "\u202e",
        "\ufeff",
        "ø" * 3000,
        "31. februar",
        "1.-31. desember 2024",
        "Uke 53",
        "kl. 25.00",
        "\t\t\t",
        "'\"\\",
    ]
)
CELL = st.one_of(HOSTILE, st.text(max_size=40), st.lists(HOSTILE, max_size=4).map("".join))


@functools.cache
def _seed_html() -> str:
    return seed_html()


def check_plan(plan: Plan) -> None:
    """Well-formed occurrences; routed events render and read back as themselves."""
    for item in plan.items:
        for occ in item.occurrences:
            assert type(occ.start) is type(occ.end)
            assert occ.end > occ.start, (item.key, occ)
            if isinstance(occ.start, datetime):
                assert occ.start.tzinfo is not None
    routed = desired_events(
        plan,
        CALENDARS,
        Overrides(),
        domain="fuzz.test",
        owner_key=OwnerKey(b"fuzz" * 8),
        timezone=TZ,
    )
    for events in routed.values():
        assert len({e.uid for e in events}) == len(events)
        for event in events:
            data = event_to_ical(event, stamp=STAMP)
            assert data.split(b"\r\n").count(b"BEGIN:VEVENT") == 1
            seen = observe_ical(data, remote_id="x")
            assert seen is not None
            assert seen.uid == event.uid
            assert seen.actual_hash == event.content_hash


def read_or_error(data: bytes, name: str) -> Plan | None:
    error: PlanError | None = None
    try:
        return read_plan_bytes(data, name=name)
    except PlanError as err:
        error = err
    assert error.where is not None
    assert "\n" not in str(error)
    return None


@FUZZ
@given(row=st.sampled_from(ROWS), column=st.integers(0, 6), cell=CELL)
def test_seed_table_with_one_cell_replaced(row: int, column: int, cell: str) -> None:
    lines = SEED_TEXT.split("\n")
    cells = lines[row].split("\t")
    cells[column % len(cells)] = cell
    lines[row] = "\t".join(cells)
    plan = read_or_error("\n".join(lines).encode(), SEED_NAME)
    if plan is not None:
        check_plan(plan)


@FUZZ
@given(title=st.sampled_from(["Sommerles", "IBBY", "Samisk språkuke"]), cell=CELL)
def test_seed_html_with_a_title_replaced(title: str, cell: str) -> None:
    escaped = cell.replace("&", "&amp;").replace("<", "&lt;")
    page = _seed_html().replace(title, escaped if len(cell) % 2 else cell, 1)
    plan = read_or_error(page.encode(), "plan.html")
    if plan is not None:
        check_plan(plan)


@FUZZ
@given(
    cell=st.sampled_from(DATE_CELLS),
    at=st.integers(0, 60),
    cut=st.integers(0, 4),
    insert=st.one_of(HOSTILE, st.text(alphabet="0123456789.-–/ kluemars?OK", max_size=6)),
    year=st.integers(1990, 2100),
)
def test_damaged_real_date_cells(cell: str, at: int, cut: int, insert: str, year: int) -> None:
    at = at % (len(cell) + 1)
    text = cell[:at] + insert + cell[at + cut :]
    reading = read_dates(text, year)
    assert (reading.undated_reason is None) == bool(reading.occurrences)
    for occ in reading.occurrences:
        assert type(occ.start) is type(occ.end)
        assert occ.end > occ.start
        first = occ.start.date() if isinstance(occ.start, datetime) else occ.start
        assert date(year - 1, 1, 1) <= first <= date(year + 2, 12, 31), (text, occ)
    for _, _, message in reading.problems:
        assert re.sub(r"\s", "", message)  # problems say something
