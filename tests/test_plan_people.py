"""The directory and who a cell names: first names, full names, aliases, roles, unknowns."""

from __future__ import annotations

import pytest

from syncsvc.domain.plan import Person, ProblemKind
from syncsvc.plan.people import Directory, find_people, parse_contacts

DIRECTORY = Directory.build(
    [
        Person("Ellen Berg Larsen", "ellen@x.no"),
        Person("Linda M. Tindholm", "linda@x.no"),
        Person("Marit Andersen Somby", "marit@x.no"),
        Person("Tone Mikkelsen", "tone@x.no"),
        Person("Tone Hansen", "tone.h@x.no"),
        Person("Trine Mellem", "trine@x.no"),
    ],
    [Person("Edel Olsen", "EDEL@x.no")],
    {"Kari": "marit@x.no"},
)


def _who(text: str, responsible: bool = False) -> tuple[list[str], list[tuple[ProblemKind, str]]]:
    mentions, problems = find_people(text, DIRECTORY, responsible_column=responsible)
    return [e.split("@")[0] for _, e in mentions], [(p.kind, p.name) for p in problems]


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("Fylkesbiblioteket v/Linda/Marit (pluss annen kontaktperson)", ["linda", "marit"]),
        ("Fylkesbiblioteket v/ Ellen og Marit", ["ellen", "marit"]),
        ("Fylkesbiblioteket V/Ellen og Marit", ["ellen", "marit"]),
        (
            "v/Ellen og Edel inngår i team De regionale samarbeidene UB (ved behov) Andre?",
            ["ellen", "edel"],
        ),
        ("Fylkesbiblioteket v/Tone Mikkelsen UB Senja", ["tone"]),
        ("v/Trine i samarbeid med Finnmark", ["trine"]),
        ("Team: Linda, Trine og Tone Hansen", ["linda", "trine", "tone.h"]),
        ("Forskningsbasert kunnskap Ansvarlig Linda", ["linda"]),
        ("ved Kari", ["marit"]),
        ("v/linda m. tindholm", []),  # lower case after v/ is a role word, not a name
        ("Fylkesbiblioteket UB ved UIT", []),
        ("Marit har laget forslag", []),  # a bare name outside the responsible column
    ],
)
def test_people_named(text: str, people: list[str]) -> None:
    assert _who(text)[0] == people


def test_kontaktpersoner_list() -> None:
    text = (
        "Kontaktpersoner på fylkesbiblioteket: "
        "Nord-Troms – Linda Midt-Troms – Ellen Sør-Troms - Trine"
    )
    assert _who(text) == (["linda", "ellen", "trine"], [])


def test_roles_unknowns_and_ambiguity_are_reported_never_guessed() -> None:
    assert _who("Fylkesbiblioteket v/leder Hvem deltar?") == ([], [(ProblemKind.ROLE, "leder")])
    assert _who("v/rådgiver") == ([], [(ProblemKind.ROLE, "rådgiver")])
    assert _who("v/Petter og Linda") == (["linda"], [(ProblemKind.UNKNOWN_PERSON, "Petter")])
    assert _who("Team: Ola, Linda") == (["linda"], [(ProblemKind.UNKNOWN_PERSON, "Ola")])
    assert _who("v/Tone") == ([], [(ProblemKind.AMBIGUOUS_PERSON, "Tone")])
    assert _who("v/Fylkesbiblioteket og Folkebibliotekene, UB") == ([], [])
    assert _who("ved Tromsø og Harstad") == ([], [])


def test_bare_names_count_in_the_responsible_column() -> None:
    assert _who("Linda og Edel", responsible=True)[0] == ["linda", "edel"]


def test_directory_merges_config_and_aliases() -> None:
    emails = [p.email for p in DIRECTORY.people]
    assert "edel@x.no" in emails
    marit = next(p for p in DIRECTORY.people if p.email == "marit@x.no")
    assert marit.aliases == ("Kari",)
    assert DIRECTORY.lookup("linda tindholm") == ("linda@x.no",)
    assert DIRECTORY.lookup("MARIT ANDERSEN SOMBY") == ("marit@x.no",)
    assert DIRECTORY.lookup("Tone") == ("tone@x.no", "tone.h@x.no")


def test_parse_contacts() -> None:
    assert parse_contacts("Linda M. Tindholm linda.m.tindholm@tromsfylke.no") == [
        Person("Linda M. Tindholm", "linda.m.tindholm@tromsfylke.no")
    ]
    assert parse_contacts("Tone Mikkelsen <Tone@X.no>, Ellen Berg: ellen@x.no") == [
        Person("Tone Mikkelsen", "tone@x.no"),
        Person("Ellen Berg", "ellen@x.no"),
    ]
