"""Table rules: header detection, separators, blank and continuation rows, semesters, keys."""

from __future__ import annotations

from datetime import date

import pytest

from syncsvc.domain.plan import ProblemKind
from syncsvc.plan.columns import Column, column_of, semester_of
from syncsvc.plan.document import slug
from syncsvc.plan.load import read_plan_bytes
from syncsvc.plan.table import is_public, measures_of


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("ARBEIDSOPPGAVER AKTIVITETER", Column.TITLE),
        ("Arbeidsoppgave", Column.TITLE),
        ("aktivitet", Column.TITLE),
        ("DATO/TID", Column.DATES),
        ("Dato", Column.DATES),
        ("KNYTTET TIL TILTAK NR", Column.MEASURES),
        ("KNYTTE T TIL TILTAK NR", Column.MEASURES),
        ("Tiltak", Column.MEASURES),
        ("SAMARBEID/ANSVAR", Column.RESPONSIBLE),
        ("ansvar", Column.RESPONSIBLE),
        ("KOMPETANSE", Column.COMPETENCE),
        ("SYNLIGGJØRING", Column.VISIBILITY),
        ("Synliggjoring", Column.VISIBILITY),
        ("ANNET EGNE NOTATER", Column.NOTES),
        ("Notat", Column.NOTES),
        ("Sommerles", None),
        ("", None),
    ],
)
def test_column_of(header: str, column: Column | None) -> None:
    assert column_of(header) is column


def test_slug() -> None:
    assert slug("Våren 2024") == "varen-2024"
    assert slug("Særlig økt «Bibliotekrom 2.0»") == "saerlig-okt-bibliotekrom-2-0"
    assert len(slug("ord " * 100)) <= 80
    assert slug("???") == "item"


def test_semester_measures_public() -> None:
    assert semester_of("Våren 2024") == ("Våren 2024", 2024)
    assert semester_of("HØSTEN 2025:") == ("HØSTEN 2025", 2025)
    assert semester_of("Høsten") == ("Høsten", None)
    assert semester_of("Våren er her") is None
    assert measures_of("2 7 15 16") == (2, 7, 15, 16)
    assert measures_of("1, 5") == (1, 5)
    for text in (
        'Temaoversikt i "Hva skjer"-kalender',
        "i “Hva skjer”",
        "«hva skjer»",
        "HVA SKJER",
    ):
        assert is_public(text)
    assert not is_public("Hvor skjer det")


def _plan(text: str, **kw: object):  # type: ignore[no-untyped-def]
    return read_plan_bytes(text.encode(), name="p.txt", format="table-text", **kw)  # type: ignore[arg-type]


def test_columns_by_header_text_not_position() -> None:
    text = (
        "Årsplan 2025\nHøsten 2025\n"
        "Notat\tSamarbeid/ansvar\tDato\tAktivitet\n"
        "husk\tv/Tone\t3. september\tKurs\n"
        "Kontaktpersoner ved spørsmål:\nTone Mikkelsen tone@x.no\n"
    )
    (item,) = _plan(text).items
    assert (item.title, item.notes, item.people) == ("Kurs", "husk", ("tone@x.no",))
    assert item.occurrences[0].first_day == date(2025, 9, 3)
    assert item.key == "hosten-2025/kurs"


def test_separators_blank_lines_repeated_headers_and_continuations() -> None:
    text = (
        "Årsplan 2024\n"
        "AKTIVITET\tDATO\tNOTAT\n"
        "A\t1. mars\t\n"
        "----\t--\t--\n"
        "\n"
        "\t2. mars\tmer\n"
        "AKTIVITET\tDATO\tNOTAT\n"
        "B\t?\t\n"
    )
    a, b = _plan(text).items
    assert [o.first_day for o in a.occurrences] == [date(2024, 3, 1), date(2024, 3, 2)]
    assert (a.date_text, a.notes) == ("1. mars\n2. mars", "mer")
    assert not b.occurrences


def test_semester_year_applies_to_its_rows_and_config_year_wins() -> None:
    text = "Plan\nHøsten 2024\nAKTIVITET\tDATO\nA\t3. mars\nVåren 2025\nB\t3. mars\n"
    a, b = _plan(text).items
    assert a.occurrences[0].first_day == date(2024, 3, 3)
    assert b.occurrences[0].first_day == date(2025, 3, 3)
    assert _plan(text, year=2030).year == 2030


def test_duplicate_titles_get_numbered_keys() -> None:
    text = (
        "Årsplan 2024\nVåren 2024\nAKTIVITET\tDATO\nMøte\t1. mars\nMøte\t2. mars\nMøte\t3. mars\n"
    )
    plan = _plan(text)
    assert [i.key for i in plan.items] == [
        "varen-2024/mote",
        "varen-2024/mote-2",
        "varen-2024/mote-3",
    ]
    dups = [p.item_key for p in plan.problems if p.kind is ProblemKind.DUPLICATE_ITEM]
    assert dups == ["varen-2024/mote-2", "varen-2024/mote-3"]


def test_row_without_title_and_nothing_above_is_reported() -> None:
    plan = _plan("Årsplan 2024\nAKTIVITET\tDATO\n\t1. mars\nA\t2. mars\n")
    assert [i.title for i in plan.items] == ["A"]
    assert [p.kind for p in plan.problems] == [ProblemKind.OTHER]


def test_inline_markup_is_stripped() -> None:
    text = (
        "Årsplan 2024\nAKTIVITET\tDATO\tNOTAT\n"
        "<b>A</b>\t1. mars\t<i>x</i> [lenke](http://e) &amp; **y**\n"
    )
    (item,) = _plan(text).items
    assert (item.title, item.notes) == ("A", "x lenke & y")


def test_table_without_header_is_an_error() -> None:
    from syncsvc.domain.errors import PlanError

    with pytest.raises(PlanError, match="no plan table"):
        _plan("Årsplan 2024\nA\tB\n")


def test_continuation_rows_that_go_back_in_the_calendar_roll_into_next_year() -> None:
    text = (
        "Årsplan 2024\n"
        "AKTIVITET\tDATO\n"
        "Tirsdagsmøter\t20. august 17. desember\n"
        "\t14. januar\n"
        "\t11. februar\n"
        "Sommerles\t1. juni\n"
        "\t3. juni\n"
    )
    meetings, summer = _plan(text).items
    assert [o.first_day for o in meetings.occurrences] == [
        date(2024, 8, 20),
        date(2024, 12, 17),
        date(2025, 1, 14),
        date(2025, 2, 11),
    ]
    assert [o.first_day for o in summer.occurrences] == [date(2024, 6, 1), date(2024, 6, 3)]
