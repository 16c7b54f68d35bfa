"""HTML, DOCX, activity list and canonical YAML/TOML read to the same Plan as the text form."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from syncsvc.domain.errors import PlanError
from syncsvc.domain.plan import Plan, ProblemKind, Status
from syncsvc.plan.load import read_plan_bytes
from syncsvc.present.plan import format_plan, plan_to_dict, plan_to_toml, plan_to_yaml
from tests.plan_docs import SEED_NAME, SEED_TEXT, seed_docx, seed_html


@pytest.fixture(scope="module")
def text_plan() -> Plan:
    return read_plan_bytes(SEED_TEXT.encode(), name=SEED_NAME)


def _comparable(plan: Plan) -> tuple[Any, ...]:
    """Everything but positions (lines in text, rows in HTML/DOCX) and the format."""
    return (
        plan.title,
        plan.year,
        [replace(i, where=None) for i in plan.items],
        plan.people,
        [(p.kind, p.severity, p.message, p.item_key) for p in plan.problems],
    )


def test_html_form_reads_like_the_text(text_plan: Plan) -> None:
    page = seed_html()
    assert all(s in page for s in ("<th>", "<br>", "<i>", 'rowspan="2"', "colspan="))
    plan = read_plan_bytes(page.encode(), name="arsplan.html")
    assert plan.extra["format"] == "table-html"
    assert _comparable(plan) == _comparable(text_plan)


def test_docx_form_reads_like_the_text(text_plan: Plan) -> None:
    data = seed_docx()
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert "w:vMerge" in xml
    assert "w:gridSpan" in xml
    assert "<w:i/>" in xml
    plan = read_plan_bytes(data, name="arsplan.docx")
    assert plan.extra["format"] == "table-docx"
    assert _comparable(plan) == _comparable(text_plan)


def test_format_is_sniffed_without_extension(text_plan: Plan) -> None:
    assert read_plan_bytes(seed_docx(), name="plan").extra["format"] == "table-docx"
    assert read_plan_bytes(seed_html().encode(), name="plan").extra["format"] == "table-html"
    assert read_plan_bytes(SEED_TEXT.encode(), name="plan").extra["format"] == "table-text"


def test_html_rowspan_over_two_items_gives_the_cell_to_both() -> None:
    page = """<h1>Årsplan 2025</h1><table>
    <tr><th>Aktivitet</th><th>Dato</th><th>Ansvar</th></tr>
    <tr><td>Møte A</td><td rowspan="2">3. mars</td><td>v/Tone</td></tr>
    <tr><td>Møte B</td><td>v/Tone</td></tr>
    <tr><td></td><td>4. mars</td></tr>
    </table><p>Kontaktpersoner ved spørsmål:</p><p>Tone Mikkelsen tone@x.no</p>"""
    plan = read_plan_bytes(page.encode(), name="p.html")
    a, b = plan.items
    assert [o.first_day for o in a.occurrences] == [date(2025, 3, 3)]
    assert [o.first_day for o in b.occurrences] == [date(2025, 3, 3), date(2025, 3, 4)]
    assert a.people == b.people == ("tone@x.no",)


def test_nested_layout_table_still_finds_the_plan_table() -> None:
    page = """<table><tr><td><h1>Årsplan 2024</h1>
    <table><tr><th>ARBEIDSOPPGAVER</th><th>DATO/TID</th></tr>
    <tr><td>Sommerles</td><td>1. juni</td></tr></table></td></tr></table>"""
    plan = read_plan_bytes(page.encode(), name="p.html")
    assert [(i.title, i.occurrences[0].first_day) for i in plan.items] == [
        ("Sommerles", date(2024, 6, 1))
    ]


ACTIVITY = """Aktivitetsliste 2024

Januar
9. januar: Samarbeidsmøte i Nord-Troms?
  Ansvarlig Tone
Februar
21, februar: Morsmålsdagen
April
10. - 11. april: Biblioteksjefmøte
Mai 2025
3.: Vårmøte

Kontaktpersoner ved spørsmål:
Tone Mikkelsen tone.mikkelsen@tromsfylke.no
"""


def test_activity_list() -> None:
    plan = read_plan_bytes(ACTIVITY.encode(), name="aktiviteter.txt")
    assert plan.extra["format"] == "list-text"  # "activity-list" is its old name
    assert plan.title == "Aktivitetsliste 2024"
    got = [
        (i.title, [(o.first_day, o.end, o.status) for o in i.occurrences], i.people)
        for i in plan.items
    ]
    assert got == [
        (
            "Samarbeidsmøte i Nord-Troms",
            [(date(2024, 1, 9), date(2024, 1, 10), Status.TENTATIVE)],
            ("tone.mikkelsen@tromsfylke.no",),
        ),
        ("Morsmålsdagen", [(date(2024, 2, 21), date(2024, 2, 22), Status.PLANNED)], ()),
        ("Biblioteksjefmøte", [(date(2024, 4, 10), date(2024, 4, 12), Status.PLANNED)], ()),
        ("Vårmøte", [(date(2025, 5, 3), date(2025, 5, 4), Status.PLANNED)], ()),
    ]
    assert plan.items[0].notes == "Ansvarlig Tone"
    assert not plan.problems


@pytest.mark.parametrize("export", [plan_to_yaml, plan_to_toml])
@pytest.mark.parametrize("source", ["text", "activity"])
def test_canonical_round_trip(export: Any, source: str) -> None:
    data = SEED_TEXT if source == "text" else ACTIVITY
    plan = read_plan_bytes(data.encode(), name="plan.txt")
    suffix = ".yaml" if export is plan_to_yaml else ".toml"
    again = read_plan_bytes(export(plan).encode(), name="plan" + suffix)
    assert again == plan
    assert plan_to_dict(again) == plan_to_dict(plan)


def test_timed_occurrence_round_trip_keeps_the_zone() -> None:
    text = "Årsplan 2024\nAKTIVITET\tDATO\nKurs\t5. mars kl. 10.00-11.30\n"
    plan = read_plan_bytes(text.encode(), name="p.txt")
    (occ,) = plan.items[0].occurrences
    assert not occ.all_day
    again = read_plan_bytes(plan_to_yaml(plan).encode(), name="p.yaml")
    assert again == plan
    assert str(again.items[0].occurrences[0].start.tzinfo) == "Europe/Oslo"  # type: ignore[union-attr]


def test_hand_written_canonical_yaml_is_read_with_the_date_grammar() -> None:
    text = """title: Årsplan 2025
year: 2025
people:
  - {name: Tone Mikkelsen, email: Tone.Mikkelsen@x.no}
items:
  - title: Sommerles
    semester: Våren 2025
    dates: Oppstart 1.juni
    people: [Tone]
  - title: IBBY
    dates: "?"
"""
    plan = read_plan_bytes(text.encode(), name="plan.yaml")
    sommerles, _ = plan.items
    assert sommerles.key == "varen-2025/sommerles"
    assert [o.first_day for o in sommerles.occurrences] == [date(2025, 6, 1)]
    assert sommerles.people == ("tone.mikkelsen@x.no",)
    assert [(p.kind, p.item_key) for p in plan.problems] == [(ProblemKind.UNDATED, "plan/ibby")]


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("p.yaml", "year: 2024\nitems:\n  - title: A\n  - titel: B\n", 4),
        ("p.yaml", "year: 2024\nitems:\n  - title: A\n    measures: [x]\n", 4),
        ("p.yaml", "year: 2024\nitems: [\n", 3),
        ("p.yaml", "title: x\nyear: nineteen\n", 2),
        ("p.toml", 'year = 2024\n[[items]]\ntitle = "A"\n\n[[items]]\ntitle = 5\n', 6),
        ("p.toml", 'year = 2024\n[[items]]\ntitle = "A"\n[[items]]\nnotes = "x"\n', 4),
        ("p.toml", "year = 2024\ntitle = \n", 2),
    ],
)
def test_canonical_errors_name_the_line(name: str, text: str, line: int) -> None:
    with pytest.raises(PlanError) as err:
        read_plan_bytes(text.encode(), name=name)
    assert err.value.where is not None
    assert (err.value.where.file, err.value.where.line) == (name, line)


def test_yaml_aliases_are_refused() -> None:
    text = "year: 2024\nx: &a [1, 2]\nitems: []\ny: *a\n"
    with pytest.raises(PlanError, match="aliases"):
        read_plan_bytes(text.encode(), name="p.yaml")


def test_format_plan_groups_by_semester_then_lists_problems(text_plan: Plan) -> None:
    shown = format_plan(text_plan)
    assert shown.index("Våren 2024") < shown.index("Høsten 2024") < shown.index("Problems:")
    assert "16.01.2024 (done) – Kartleggingen" in shown
    assert "10.04.2024–11.04.2024" in shown
    assert "people: Linda M. Tindholm, Trine Mellem, Tone Mikkelsen" in shown
    assert "role" in shown.split("Problems:")[1]
