"""The readers of the plan family, rule by rule: lists, grids, tables read by content, years,
status words, the file forms, and what is reported instead of dropped."""

from __future__ import annotations

import io
import sys
from datetime import date, datetime
from types import FrameType
from zoneinfo import ZoneInfo

import pytest

from syncsvc.domain.errors import PlanError
from syncsvc.domain.ownership import OwnerKey
from syncsvc.domain.plan import Plan, ProblemKind, Severity, Status
from syncsvc.plan.load import read_plan_bytes
from tests.corpus_forms import parse_source, to_ods, to_pdf, to_xlsx

OSLO = ZoneInfo("Europe/Oslo")


def _read(text: str, name: str = "p.txt", **kw: object) -> Plan:
    return read_plan_bytes(text.encode(), name=name, **kw)  # type: ignore[arg-type]


def _dates(plan: Plan) -> list[tuple[str, date, str]]:
    return [(i.title, o.first_day, o.status.value) for i in plan.items for o in i.occurrences]


def test_list_under_month_headings_takes_month_and_rolls_the_year() -> None:
    plan = _read("Møteplan 2024/25\n\nNovember\n12     Formannskap\nJanuar\n7.  Kommunestyre\n")
    assert plan.extra["format"] == "list-text"
    assert _dates(plan) == [
        ("Formannskap", date(2024, 11, 12), "planned"),
        ("Kommunestyre", date(2025, 1, 7), "planned"),
    ]


def test_date_line_then_title_line_and_a_body_heading() -> None:
    plan = _read(
        "Plan 2024\nMars 2024\n4.\nForeldremøte\nStyret\nMandag 11. mars\nMandag 18. mars\n"
    )
    assert _dates(plan) == [
        ("Foreldremøte", date(2024, 3, 4), "planned"),
        ("Styret", date(2024, 3, 11), "planned"),
        ("Styret", date(2024, 3, 18), "planned"),
    ]


def test_week_with_its_days_is_the_days_and_a_shared_time_applies_to_each() -> None:
    plan = _read(
        "Plan 2024\nFebruar\nveke 8, måndag 19.-fredag 23. februar Vinterferie\n"
        "Onsdag 13. og torsdag 14. mars: Lucia, begge dager fra kl 07.30 – 09.00\n"
    )
    ferie, lucia = plan.items
    assert [(o.start, o.end) for o in ferie.occurrences] == [(date(2024, 2, 19), date(2024, 2, 24))]
    assert [o.start for o in lucia.occurrences] == [
        datetime(2024, 3, 13, 7, 30, tzinfo=OSLO),
        datetime(2024, 3, 14, 7, 30, tzinfo=OSLO),
    ]
    assert all(o.end.hour == 9 for o in lucia.occurrences)  # type: ignore[union-attr]


def test_status_words_cancel_and_make_tentative_and_unknown_ones_are_reported() -> None:
    plan = _read(
        "Plan 2024\nMai\n3. mai Vårmøte – AVLYST\nCa. 10. mai: Dugnad\n14. mai Festen?\n"
        "20. mai Årsmøte UTSATT\n"
    )
    assert _dates(plan) == [
        ("Vårmøte", date(2024, 5, 3), "cancelled"),
        ("Dugnad", date(2024, 5, 10), "tentative"),
        ("Festen", date(2024, 5, 14), "tentative"),
        ("Årsmøte UTSATT", date(2024, 5, 20), "planned"),
    ]
    (unknown,) = [p for p in plan.problems if p.kind is ProblemKind.UNKNOWN_STATUS]
    assert unknown.severity is Severity.WARNING
    assert unknown.where is not None
    assert unknown.where.line == 6


def test_misspelt_month_impossible_date_and_backwards_range_are_errors_with_their_line() -> None:
    plan = _read(
        "Aktivitet\tDato\nFagdag\t17. septmber\nAdvent\t31. november\n"
        "Innsamling\t18. des - 2. des\nMøte\t3. mars\n",
        year=2025,
    )
    errors = [
        (p.kind, p.where.line if p.where else None)
        for p in plan.problems
        if p.severity is Severity.ERROR
    ]
    assert errors == [
        (ProblemKind.UNPARSED_DATE, 2),
        (ProblemKind.UNPARSED_DATE, 3),
        (ProblemKind.UNPARSED_DATE, 4),
    ]
    assert [i.title for i in plan.items if not i.occurrences] == ["Fagdag", "Advent", "Innsamling"]
    assert plan.has_errors


def test_month_without_a_day_in_a_list_is_an_undated_item_not_silence() -> None:
    plan = _read("Plan 2024\nMars\n1. mars Skidag\nForeldrekveld i mars/april\n")
    assert [i.title for i in plan.undated] == ["Foreldrekveld i mars/april"]
    assert any(
        p.kind is ProblemKind.UNDATED and p.where and p.where.line == 4 for p in plan.problems
    )


def test_school_year_puts_spring_in_the_second_year() -> None:
    plan = _read("Skoleåret 2023–24\n\nUke\tAktivitet\n36\tOppstart\n2-3\tTurn\n")
    assert [(i.title, i.occurrences[0].first_day) for i in plan.items] == [
        ("Oppstart", date(2023, 9, 4)),
        ("Turn", date(2024, 1, 8)),
    ]


def test_no_year_at_all_weekdays_choose_it_else_one_error_naming_the_settings() -> None:
    text = "Viktige datoer\n- Tirsdag 22.august Foreldremøte\n- Fredag 1.september Plandag\n"
    plan = _read(text, today=date(2023, 5, 1))
    assert plan.year == 2023
    assert any(p.kind is ProblemKind.YEAR for p in plan.problems)
    with pytest.raises(PlanError, match=r"plan\.year.*--year"):
        _read("Viktige datoer\n- 22.august Foreldremøte\n", today=date(2023, 5, 1))


def test_a_heading_year_the_weekdays_contradict_is_reported() -> None:
    plan = _read("Møteplan 2023\nMandag 8. januar Styremøte\nMandag 5. februar Styremøte\n")
    (year,) = [p for p in plan.problems if p.kind is ProblemKind.YEAR]
    assert year.severity is Severity.ERROR
    assert "2024" in year.message


def test_table_without_header_gets_roles_from_content() -> None:
    rows = "".join(
        f"<tr><td>Tirsdag {d}. januar</td><td>{t}</td><td>Grendehuset</td></tr>"
        for d, t in ((9, "Styremøte"), (16, "Medlemsmøte med foredrag"), (23, "Strikkekafé"))
    )
    plan = _read(f"<h1>Aktiviteter 2024</h1><table>{rows}</table>", "p.html")
    assert plan.extra["format"] == "table-html"
    assert [i.title for i in plan.items] == ["Styremøte", "Medlemsmøte med foredrag", "Strikkekafé"]


def test_time_column_without_kl_gives_every_date_its_time() -> None:
    plan = _read("Dato;Tid;Arrangement\n03.09.2023 og 10.09.2023;19.30;Messe\n", "k.csv")
    assert [o.start for o in plan.items[0].occurrences] == [
        datetime(2023, 9, 3, 19, 30, tzinfo=OSLO),
        datetime(2023, 9, 10, 19, 30, tzinfo=OSLO),
    ]


def test_grid_of_bodies_and_months() -> None:
    plan = _read(
        "Møteplan 2023\n\nUtvalg\tJan.\tFeb.\tMar.\tApr.\tMai\tJuni\nKST\t\t16.\t\t\t4. og 25.\t\n"
    )
    assert plan.extra["format"] == "grid-text"
    assert [o.first_day for o in plan.items[0].occurrences] == [
        date(2023, 2, 16),
        date(2023, 5, 4),
        date(2023, 5, 25),
    ]


def test_spreadsheet_forms_read_the_same_plan() -> None:
    source = parse_source("Møteplan 2024\n\nDato\tHva\n12.03.2024\tÅrsmøte\n9. april\tDugnad\n")
    for name, data in (
        ("p.xlsx", to_xlsx(source)),
        ("p.ods", to_ods(source)),
        ("p.pdf", to_pdf(source)),
    ):
        plan = read_plan_bytes(data, name=name)
        assert [(i.title, i.occurrences[0].first_day) for i in plan.items] == [
            ("Årsmøte", date(2024, 3, 12)),
            ("Dugnad", date(2024, 4, 9)),
        ], name


def test_pdf_without_a_text_layer_is_refused_clearly() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)  # a drawing, no text: like a scanned page
    with pytest.raises(PlanError, match="no text layer") as err:
        read_plan_bytes(bytes(pdf.output()), name="scan.pdf")
    assert err.value.where is not None
    assert err.value.where.file == "scan.pdf"


def test_cancelled_occurrences_are_not_routed_and_the_others_keep_their_uids() -> None:
    from syncsvc.pipeline.overrides import Overrides
    from syncsvc.pipeline.route import desired_events

    class Cal:
        name, selector, audience = "staff", "org", "staff"

    before = _read("Plan 2024\nMai\n3. og 10. mai Møte\n")
    after = _read("Plan 2024\nMai\n3. mai Møte AVLYST\n10. mai Møte\n")
    plan = _read("Aktivitet\tDato\nMøte\t3. mai AVLYST\n\t10. mai\n", year=2024)
    assert [o.status for o in plan.items[0].occurrences] == [Status.CANCELLED, Status.PLANNED]
    ev = desired_events(
        plan,
        [Cal()],
        Overrides(()),
        domain="x",
        owner_key=OwnerKey(b"layouts!" * 4),
        timezone="Europe/Oslo",
    )
    assert len(ev["staff"]) == 1
    full = desired_events(
        before,
        [Cal()],
        Overrides(()),
        domain="x",
        owner_key=OwnerKey(b"layouts!" * 4),
        timezone="Europe/Oslo",
    )
    assert ev["staff"][0].uid == full["staff"][1].uid  # 10 May keeps its identity
    assert after.items[0].occurrences[0].status is Status.CANCELLED


def _calls(text: str, name: str) -> int:
    """Python function calls made while reading: a measure of work that does not flake."""
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        read_plan_bytes(text.encode(), name=name, year=2024)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize(
    ("name", "head", "line"),
    [
        ("list.txt", "Plan 2024\nMars\n", "{n}. mars Møte nummer {n} kl. 18.00 – AVLYST?\n"),
        ("table.txt", "Aktivitet\tDato\tAnsvar\n", "Møte {n}\t{n}. mars og uke 12\tv/Tone\n"),
        (
            "roles.html",
            "<table>",
            "<tr><td>Tirsdag {n}. mars</td><td>Møte {n}</td><td>Hus</td></tr>",
        ),
        ("roles.csv", "", "{n}.03.2024;18:00;Møte {n};Hus\n"),
        (
            "grid.txt",
            "Utvalg\tJan\tFeb\tMar\tApr\tMai\tJun\n",
            "Utvalg {n}\t{n}.\t\t3.\t\t4. og 5.\t\n",
        ),
    ],
)
def test_reading_time_grows_linearly_with_the_document(name: str, head: str, line: str) -> None:
    def doc(rows: int) -> str:
        return head + "".join(line.format(n=1 + k % 28) for k in range(rows))

    small, large = _calls(doc(150), name), _calls(doc(600), name)
    # Four times the rows: about four times the work (generous bound; quadratic would be 16).
    assert large / small < 5.0, (small, large)


def test_a_real_world_io_error_in_a_zip_is_a_plan_error() -> None:
    data = io.BytesIO()
    with pytest.raises(PlanError):
        read_plan_bytes(b"PK\x03\x04" + data.getvalue() + b"\x00" * 40, name="p.xlsx")


def test_numbered_list_with_the_title_first_and_a_week_with_its_day() -> None:
    plan = _read(
        "Årshjul 2017\n\n1. Samisk uke, Uke 6 – markering og 6. februar\n"
        "2. Nordisk bibliotekuke, bruker å være uke 46 (13. – 19. november)\n"
    )
    assert [(i.title, o.start, o.status.value) for i in plan.items for o in i.occurrences] == [
        ("Samisk uke – markering", date(2017, 2, 6), "planned"),
        ("Nordisk bibliotekuke", date(2017, 11, 13), "tentative"),
    ]


def test_a_plan_for_one_calendar_year_does_not_roll_over_out_of_order_items() -> None:
    plan = _read(
        "Dette skal vi gjøre i 2022\n\nFylkesbiblioteket har konkretisert det som kom fram på "
        "møtet 12. oktober 2021. Vennligst oppdater kalendere.\n\nBiblioteksjefmøter\n"
        "  • 11.-12. oktober i Tromsø\n\nFagbibliotekuka, uke 11 (14. - 18. mars).\n"
        "  • Samisk nasjonaldag 6. februar. - Planlegges sammen med bibliotekene.\n"
    )
    assert _dates(plan) == [
        ("Biblioteksjefmøter", date(2022, 10, 11), "planned"),
        ("Fagbibliotekuka", date(2022, 3, 14), "planned"),
        ("Samisk nasjonaldag", date(2022, 2, 6), "planned"),
    ]
    hint = next(p for p in plan.problems if p.kind is ProblemKind.DATE_HINT)
    assert hint.where is not None
    assert hint.where.line == 3  # the prose line with its date is reported, not scheduled


def test_week_plan_without_a_week_column_takes_the_month_of_the_title() -> None:
    plan = _read(
        "Månedsplan oktober 2024\n\nMandag\tTirsdag\tOnsdag\tTorsdag\tFredag\n"
        "7.\\nTur\t8.\t9.\\nForming\t10.\\nLek\t11.\\nFrukt\n".replace("\\n", " "),
    )
    assert plan.extra["format"] == "week-text"
    assert [(i.title, i.occurrences[0].first_day) for i in plan.items] == [
        ("Tur", date(2024, 10, 7)),
        ("Forming", date(2024, 10, 9)),
        ("Lek", date(2024, 10, 10)),
        ("Frukt", date(2024, 10, 11)),
    ]
    assert not plan.has_errors  # the weekdays fit the day numbers


def test_a_season_heading_that_goes_back_in_time_is_reported() -> None:
    plan = _read(
        "Aktivitetsplan\nHaust 22\nAugust\n22.august Skulestart\nVår 2022\nMai\n1. mai Fri\n"
    )
    (year,) = [p for p in plan.problems if p.kind is ProblemKind.YEAR]
    assert year.severity is Severity.WARNING
    assert year.where is not None
    assert year.where.line == 5
    assert _dates(plan)[-1] == ("Fri", date(2022, 5, 1), "planned")  # read as written


def test_a_web_pages_own_dates_are_hints_not_activities() -> None:
    page = (
        "<h1>Biblioteksjefmøter</h1><p>Publisert 19.04.2021 13.51</p>"
        "<p>Sist endret 20.06.2025 09.56</p><h2>Våren 2025</h2>"
        "<p>26.-27. april: Biblioteksjefmøte i Alta</p>"
    )
    plan = _read(page, "p.html")
    assert _dates(plan) == [("Biblioteksjefmøte i Alta", date(2025, 4, 26), "planned")]
    assert sum(1 for p in plan.problems if p.kind is ProblemKind.DATE_HINT) == 2


def test_labelled_lines_are_one_event_each() -> None:
    plan = _read(
        "Eldredagen 2024\nSted: Austbo\n  • Dato: 25. september\n  • Tid: 12:00 - 16:00\n"
        "  • Innhold: Godt måltid\n  • Påmeldingsfrist: 16. september\nSted: Hokåsen\n"
        "  • Dato: 29. september\n  • Tid: 14:00\n"
    )
    got = [
        (i.title, o.start, o.end, i.where.line if i.where else None)
        for i in plan.items
        for o in i.occurrences
    ]
    assert got == [
        (
            "Godt måltid",
            datetime(2024, 9, 25, 12, tzinfo=OSLO),
            datetime(2024, 9, 25, 16, tzinfo=OSLO),
            2,
        ),
        (
            "Hokåsen",
            datetime(2024, 9, 29, 14, tzinfo=OSLO),
            datetime(2024, 9, 29, 15, tzinfo=OSLO),
            7,
        ),
    ]
    assert "Påmeldingsfrist: 16. september" in plan.items[0].notes


def test_opendocument_text_with_a_heading_and_a_table() -> None:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Årsplan 2024"))
    doc.text.addElement(P(text="Våren 2024"))
    table = Table(name="Plan")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for cells in (("Aktivitet", "Dato"), ("Årsmøte", "12. mars"), ("Dugnad", "9. april AVLYST")):
        row = TableRow()
        for text in cells:
            cell = TableCell()
            cell.addElement(P(text=text))
            row.addElement(cell)
        table.addElement(row)
    doc.text.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    plan = read_plan_bytes(out.getvalue(), name="plan.odt")
    assert plan.extra["format"] == "table-odt"
    assert plan.title == "Årsplan 2024"
    assert _dates(plan) == [
        ("Årsmøte", date(2024, 3, 12), "planned"),
        ("Dugnad", date(2024, 4, 9), "cancelled"),
    ]


def test_two_letter_weekday_before_its_date_is_checked_and_not_in_the_title() -> None:
    plan = _read("Plan 2023\nMa 21.08 Oppstart\nTo 24.08 Foreldremøte\nFr 24.08 Feil dag\n")
    assert [(i.title, i.occurrences[0].first_day) for i in plan.items] == [
        ("Oppstart", date(2023, 8, 21)),
        ("Foreldremøte", date(2023, 8, 24)),
        ("Feil dag", date(2023, 8, 24)),
    ]
    mismatches = [p for p in plan.problems if p.kind is ProblemKind.WEEKDAY_MISMATCH]
    assert [p.where.line for p in mismatches if p.where] == [4]


def test_month_rows_inside_a_table_give_day_only_dates_their_month() -> None:
    page = (
        "<h1>Årsplan 2023/2024</h1><table><tr><td><b>Dato</b></td><td><b>Aktivitet</b></td></tr>"
        "<tr><td colspan=2>AUGUST</td></tr><tr><td>22.</td><td>Skolestart</td></tr>"
        "<tr><td colspan=2>JANUAR</td></tr>"
        "<tr><td>3.-4.</td><td>Planleggingsdager</td></tr></table>"
    )
    plan = _read(page, "p.html")
    assert [(i.title, o.start, o.end) for i in plan.items for o in i.occurrences] == [
        ("Skolestart", date(2023, 8, 22), date(2023, 8, 23)),
        ("Planleggingsdager", date(2024, 1, 3), date(2024, 1, 5)),
    ]
    assert [i.title for i in plan.items] == ["Skolestart", "Planleggingsdager"]  # no "AUGUST"
