"""The full reading of the real plan (Årsplan 2024), pinned by hand from reading the seed."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from syncsvc.domain.plan import Plan, PlanItem, ProblemKind, Severity, Status
from syncsvc.plan.load import read_plan_bytes
from tests.plan_docs import SEED_NAME, SEED_PATH, SEED_TEXT

ELLEN = "ellen.larsen@tromsfylke.no"
TRINE = "trine.mellem@tromsfylke.no"
LINDA = "linda.m.tindholm@tromsfylke.no"
EDEL = "edel.olsen@tromsfylke.no"
TONE = "tone.mikkelsen@tromsfylke.no"
MARIT = "marit.andersen.somby@tromsfylke.no"

V, H = "varen-2024/", "hosten-2024/"
TIRSDAG = "temamoter-mellom-folkebibliotekene-og-fylkesbiblioteket-tirsdagsmoter"
LEDERTEMA = "ledertema-pa-tirsdagsmote-en-gang-i-semesteret"
KOMPETANSE = "kompetansetiltak-kunnskapsaktor-en-gang-i-semesteret"
MENTOR = V + "etablere-mentorordning-kollegaveiledning-for-nytilsatte-biblioteksjefer"
RUTINER = V + "etablere-rutiner-for-faste-moter-med-kommunene"
LIVSLANG = V + "prosjektet-livslang-lesing"

ONE_DAY = timedelta(days=1)
D = Status.DONE
P = Status.PLANNED

# key -> (title start, seed line, [(first day, last day, status)], people, measures, public)
EXPECTED: dict[
    str, tuple[str, int, list[tuple[date, date, Status]], tuple[str, ...], tuple[int, ...], bool]
] = {
    MENTOR: ("Etablere mentorordning", 16, [], (LINDA, MARIT), (12,), False),
    RUTINER: ("Etablere rutiner", 17, [], (), (1, 5), False),
    V + "styrke-de-regionale-samarbeidene": (
        "Styrke de",
        18,
        [],
        (TONE, ELLEN, TRINE),
        (6,),
        False,
    ),
    V + "opprette-programrad": ("Opprette programråd", 20, [], (ELLEN, EDEL), (10,), False),
    V + TIRSDAG: (
        "Temamøter mellom",
        23,
        [
            (date(2024, 1, 16), date(2024, 1, 16), D),
            (date(2024, 2, 20), date(2024, 2, 20), D),
            (date(2024, 3, 19), date(2024, 3, 19), P),
            (date(2024, 4, 16), date(2024, 4, 16), P),
            (date(2024, 5, 21), date(2024, 5, 21), P),
            (date(2024, 6, 18), date(2024, 6, 18), P),
        ],
        (TRINE,),
        (4,),
        False,
    ),
    V + LEDERTEMA: (
        "«Ledertema»",
        24,
        [(date(2024, 1, 16), date(2024, 1, 16), D)],
        (),
        (4, 12),
        False,
    ),
    V + KOMPETANSE: (
        "Kompetansetiltak",
        25,
        [(date(2024, 2, 20), date(2024, 2, 20), D)],
        (),
        (15,),
        False,
    ),
    V + "biblioteksjefmote": (
        "Biblioteksjefmøte",
        26,
        [(date(2024, 4, 10), date(2024, 4, 11), P)],
        (LINDA, TRINE, TONE),
        (2, 7, 15, 16),
        False,
    ),
    V + "sommerles": (
        "Sommerles",
        29,
        [(date(2024, 6, 1), date(2024, 6, 1), P)],
        (LINDA,),
        (22,),
        False,
    ),
    LIVSLANG: ("Prosjektet «Livslang", 30, [], (ELLEN, MARIT), (19, 21, 22, 23, 24, 25), False),
    V + "oppstartsmote-livslang-lesing": (
        "Oppstartsmøte",
        31,
        [(date(2024, 3, 7), date(2024, 3, 7), P)],
        (ELLEN, MARIT),
        (),
        False,
    ),
    V + "stimulere-til-okt-samarbeid-med-barnehager-og-helsestasjoner-for-a-fremme": (
        "Stimulere til økt",
        32,
        [],
        (ELLEN,),
        (20, 22),
        False,
    ),
    V + "rekruttere-studenter-til-studium-pa-oslo-met-forskningsbasert-kunnskap-i": (
        "Rekruttere studenter",
        33,
        [],
        (TONE,),
        (11, 15, 16),
        False,
    ),
    V + "viderefore-satsingen-pa-a-utvikle-folkebibliotekene-som-kunnskapsaktorer": (
        "Videreføre satsingen",
        35,
        [],
        (TONE,),
        (15,),
        False,
    ),
    V + "opprette-ressursbank": ("Opprette ressursbank", 36, [], (TRINE,), (13,), False),
    V + "revitalisere-arbeidet-med-bibliotekromutvikling-bibliotekrom-2-0": (
        "Revitalisere arbeidet",
        37,
        [],
        (MARIT,),
        (27,),
        False,
    ),
    H + TIRSDAG: (
        "Temamøter mellom",
        42,
        [
            (date(2024, 8, 20), date(2024, 8, 20), P),
            (date(2024, 9, 17), date(2024, 9, 17), P),
            (date(2024, 10, 15), date(2024, 10, 15), P),
            (date(2024, 11, 19), date(2024, 11, 19), P),
            (date(2024, 12, 17), date(2024, 12, 17), P),  # the continuation row "\t17. desember"
        ],
        (TRINE,),
        (4,),
        True,
    ),
    H + LEDERTEMA: ("«Ledertema»", 45, [], (), (12,), True),
    H + KOMPETANSE: ("Kompetansetiltak", 46, [], (), (15,), True),
    H + "biblioteksjefmote-i-tromso": (
        "Biblioteksjefmøte i Tromsø",
        47,
        [(date(2024, 10, 8), date(2024, 10, 9), P)],
        (),
        (2, 3, 12),
        False,
    ),
    H + "livslang-lesing-prosjekt": (
        "«Livslang lesing»-prosjekt",
        48,
        [],
        (ELLEN, MARIT),
        (19, 21, 22, 23, 24, 25),
        False,
    ),
    H + "samisk-sprakuke": (
        "Samisk språkuke",
        49,
        [(date(2024, 10, 21), date(2024, 10, 27), P)],
        (),
        (24,),
        False,
    ),
    H + "ibby": ("IBBY", 50, [], (), (22,), False),
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return read_plan_bytes(SEED_TEXT.encode(), name=SEED_NAME)


def _item(plan: Plan, key: str) -> PlanItem:
    return next(i for i in plan.items if i.key == key)


# sha256 of ../shared/seeds/arsplan-2024.txt as the county library gave it (2024).
SEED_SHA256 = "36ed69312b79687f1a0e7e43b4713640f29313dd91613b2f4f860ec14954efc2"


def test_example_plan_is_the_real_seed_unchanged() -> None:
    """config/arsplan-2024.txt is a verbatim copy of the shared seed: byte for byte the
    seed's hash, and equal to the seed itself where the shared folder is beside the checkout
    (a plain clone elsewhere has only the hash to go by)."""
    assert hashlib.sha256(SEED_PATH.read_bytes()).hexdigest() == SEED_SHA256
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "arsplan-2024.txt"
    if shared.exists():
        assert shared.read_text("utf-8") == SEED_TEXT


def test_title_year_and_directory(plan: Plan) -> None:
    assert plan.title == "Årsplan 2024 (oppdatert 01.03.24)"
    assert plan.year == 2024
    assert [(p.name, p.email) for p in plan.people] == [
        ("Ellen Berg Larsen", ELLEN),
        ("Trine Mellem", TRINE),
        ("Linda M. Tindholm", LINDA),
        ("Edel Olsen", EDEL),
        ("Tone Mikkelsen", TONE),
        ("Marit Andersen Somby", MARIT),
    ]


def test_every_item_in_order(plan: Plan) -> None:
    assert [i.key for i in plan.items] == list(EXPECTED)


@pytest.mark.parametrize("key", list(EXPECTED))
def test_item(plan: Plan, key: str) -> None:
    title, line, occurrences, people, measures, public = EXPECTED[key]
    item = _item(plan, key)
    assert item.title.startswith(title)
    assert item.where is not None
    assert (item.where.file, item.where.line) == (SEED_NAME, line)
    assert item.semester == ("Våren 2024" if key.startswith(V) else "Høsten 2024")
    got = [(o.first_day, o.end - ONE_DAY, o.status) for o in item.occurrences]
    assert got == occurrences
    assert all(o.all_day for o in item.occurrences)
    assert item.people == people
    assert item.measures == measures
    assert item.public is public


def test_topics_and_text(plan: Plan) -> None:
    ledertema = _item(plan, V + LEDERTEMA)
    assert ledertema.occurrences[0].topic == "Kartleggingen"
    assert _item(plan, V + KOMPETANSE).occurrences[0].topic == "Kompetansebanken"
    autumn = _item(plan, H + TIRSDAG)
    assert autumn.date_text == "20. august 17. september 15. oktober 19. november\n17. desember"
    sjefmote = _item(plan, V + "biblioteksjefmote")
    # Inline markup stripped; the continuation row's cells appended to the item above.
    assert sjefmote.competence == (
        "Dag1: Biblioteksjefmøte med diverse saker Dag 2:\n"
        "Forskningsbasert kunnskap i folkebibliotek Ansvarlig Tone"
    )
    assert sjefmote.notes.endswith("fram til møtet er gjennomført.")
    assert _item(plan, V + KOMPETANSE).notes == (
        "Kompetansebank - Kompetansebank (bibliotekutvikling.no)"
    )


def test_problems(plan: Plan) -> None:
    undated = {k for k, v in EXPECTED.items() if not v[2]}
    expected = {(ProblemKind.UNDATED, Severity.WARNING, k) for k in undated} | {
        (ProblemKind.ROLE, Severity.WARNING, RUTINER),  # "v/leder"
        (ProblemKind.DATE_HINT, Severity.INFO, RUTINER),  # "1. februar 2024" in KOMPETANSE
        (ProblemKind.DATE_HINT, Severity.INFO, LIVSLANG),  # "7. mars", "23. og 24.mai" in notes
    }
    got = [(p.kind, p.severity, p.item_key) for p in plan.problems]
    assert set(got) == expected
    assert len(got) == len(undated) + 1 + 1 + 3  # the notes mention three days
    hints = sorted(p.message for p in plan.problems if p.kind is ProblemKind.DATE_HINT)
    assert sorted(h[-12:] for h in hints) == [
        "(2024-02-01)",
        "(2024-03-07)",
        "(2024-05-23)",
        "(2024-05-24)",
    ]
    role = next(p for p in plan.problems if p.kind is ProblemKind.ROLE)
    assert role.where is not None
    assert (role.where.line, role.where.column) == (17, "SAMARBEID/ANSVAR")
    undated_ibby = next(p for p in plan.problems if p.item_key == H + "ibby")
    assert undated_ibby.where is not None
    assert (undated_ibby.where.line, undated_ibby.where.column) == (50, "DATO/TID")
    assert not plan.has_errors
