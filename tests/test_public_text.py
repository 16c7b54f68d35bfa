"""Public titles and topics: cut before person references, topics only when allowed."""

from __future__ import annotations

import pytest

from syncsvc.domain.plan import Person
from syncsvc.pipeline.public import PersonWords, public_title, public_topic

PEOPLE = PersonWords.of(
    [
        Person(name="Trine Mellem", email="trine.mellem@tromsfylke.no"),
        Person(name="Marit Andersen Somby", email="marit.andersen.somby@tromsfylke.no",
               aliases=("Masso",)),
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Personalmøte", "Personalmøte"),
        ("Møte v/Trine", "Møte"),
        ("Møte V/ Trine Mellem", "Møte"),
        ("Bokprat ved Marit", "Bokprat"),
        ("Seminar – Trine orienterer", "Seminar"),
        ("Kurs (kontakt: ola@example.org)", "Kurs"),
        ("Lesesirkel med Masso", "Lesesirkel med"),
        ("Strategi for Sommerles", "Strategi for Sommerles"),  # no person: untouched
        ("Vedlikehold av nettsiden", "Vedlikehold av nettsiden"),  # "ved" inside a word
    ],
)
def test_titles_stop_before_a_person(title: str, shown: str) -> None:
    assert public_title(title, PEOPLE) == shown


def test_topics_need_permission_and_no_person() -> None:
    assert public_topic("Lesekampanjen", PEOPLE, allowed=True) == "Lesekampanjen"
    assert public_topic("Lesekampanjen", PEOPLE, allowed=False) is None
    assert public_topic("v/Trine Mellem sykemeldt - hemmelig", PEOPLE, allowed=True) is None
    assert public_topic("Somby presenterer", PEOPLE, allowed=True) is None
    assert public_topic("", PEOPLE, allowed=True) is None
