"""The SYNLIGGJØRING rule: public only when the plan clearly says so."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncsvc.plan.visibility import Verdict, read_visibility

PUBLIC = [
    'Temaoversikt i "Hva skjer"-kalender',
    "Temaoversikt i “Hva skjer”-kalender",
    "Kalender Hva skjer",
    "Legges i Hva skjer",
    "Nettside og Hva skjer",
    "Hva skjer, ikke Facebook",  # the negation is about Facebook
    "Hva skjer? - Troms fylkesbibliotek",  # the calendar's own name has a question mark
    "HVA SKJER",
    "Hva skjer – ja",
]
PRIVATE = [
    "Skal IKKE i Hva skjer-kalenderen",
    "Ikke i Hva skjer",
    "Hva skjer: nei",
    "Hva skjer-kalender, nei",
    "Nei til Hva skjer",
    "not in Hva skjer",
    "Don't publish in Hva skjer",
    "Ingen Hva skjer-sak",
    "Nettsak",  # does not name the calendar at all
    "",
    "Programrådet skal medvirke til synliggjøring",
]
UNCLEAR = [
    "Hva skjer: ikke avklart",
    "Kanskje Hva skjer",
    "Hva skjer-kalender?",
    "Evt. Hva skjer",
    "Vurderes for Hva skjer",
    "Hva skjer\nIkke i Hva skjer",  # two rows that disagree
    "Kun internt, Hva skjer",
]


@pytest.mark.parametrize("text", PUBLIC)
def test_public(text: str) -> None:
    assert read_visibility(text).verdict is Verdict.PUBLIC


@pytest.mark.parametrize("text", PRIVATE)
def test_private(text: str) -> None:
    seen = read_visibility(text)
    assert seen.verdict is Verdict.PRIVATE
    assert not seen.public


@pytest.mark.parametrize("text", UNCLEAR)
def test_unclear_is_private_with_a_reason(text: str) -> None:
    seen = read_visibility(text)
    assert seen.verdict is Verdict.UNCLEAR
    assert not seen.public
    assert seen.reason


def test_topics_only_when_the_cell_says_topics() -> None:
    assert read_visibility("Temaoversikt i Hva skjer").topics
    assert not read_visibility("Kalender Hva skjer").topics


NEGATIONS = ["ikke", "IKKE", "skal ikke", "nei", "Nei", "not", "ikkje", "aldri"]
FILLER = st.sampled_from(["", "i ", "inn i ", "med i ", "i kalenderen ", "på "])
NAME = st.sampled_from(["Hva skjer", "«Hva skjer»", '"Hva skjer"-kalenderen', "hva skjer"])


@given(st.sampled_from(NEGATIONS), FILLER, NAME, st.sampled_from(["", ".", "!", " (nettside)"]))
def test_negated_mentions_are_never_public(neg: str, filler: str, name: str, end: str) -> None:
    for text in (f"{neg} {filler}{name}{end}", f"{name}: {neg}{end}", f"Skal {neg} {filler}{name}"):
        assert not read_visibility(text).public, text


@given(st.text(max_size=60))
def test_text_without_the_calendar_is_private(text: str) -> None:
    if "skjer" not in text.casefold():
        assert read_visibility(text).verdict is Verdict.PRIVATE
