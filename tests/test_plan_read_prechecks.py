"""Cheap prechecks of plan reading skip only work that would have found nothing.

Each property compares a precheck's answer with what the full computation finds, over
generated text that is near the precheck's edges (month and week words in any case, glued
to other words, letters that lower to ASCII, names that start like months).
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from syncsvc.domain.plan import Person
from syncsvc.plan import columns, people
from syncsvc.plan.columns import Column
from syncsvc.plan.dates import grammar, lexer
from syncsvc.plan.dates.lexer import Kind
from syncsvc.plan.document import fold
from syncsvc.plan.people import Directory
from tests.plan_text import plan_texts

SETTINGS = settings(max_examples=400, deadline=None)

FRAGMENTS = (
    "januar", "Jan", "FEBR", "mars", "marsKvinesdal", "Marit", "mail", "desto", "des.", "sept",
    "o\u212atober", "OKTOBER", "juniDesember", "uke", "UKA", "veke", "Veka", "week", "ukene",
    "bruker", "\u03a3uke", "\u0130", "\u017f", "kl.", "kl. 10.00–11.30", "10:30", "16.01.24",
    "27.2", "1/3", "1.", "16.", "31", "2024", "٣", "-", "–", "og", "?", "OK", "/", ".", " ",
    "\u00a0", "\t", "v/Linda", "sak", "Oppstart", "Tirsdagsmøtet",
)  # fmt: skip
texts = plan_texts(FRAGMENTS)


@SETTINGS
@given(text=texts)
def test_a_text_without_a_date_hint_has_no_date_token_pair(text: str) -> None:
    tokens = lexer.tokenize(text)
    kinds = {t.kind for t in tokens}
    has_date_word = bool({Kind.MONTH, Kind.WEEK} & kinds)
    has_digit = any(c in "0123456789" for c in text)
    if not lexer.may_have_dates(text):
        assert Kind.NUMDATE not in kinds
        assert not (has_date_word and has_digit)
    else:  # the test is not trivially "maybe": a hint names something the tokens show
        assert Kind.NUMDATE in kinds or has_digit


@SETTINGS
@given(text=texts, year=st.integers(1990, 2100))
def test_find_dates_skips_only_texts_the_grammar_finds_no_date_in(text: str, year: int) -> None:
    occurrences, _ = grammar._read_text(text, year, "Europe/Oslo")
    if not lexer.may_have_dates(text):
        assert occurrences == ()
    assert grammar.find_dates(text, year) == tuple(replace(o, topic=None) for o in occurrences)


def test_the_date_hint_sees_months_weeks_and_numeric_dates_in_prose() -> None:
    assert lexer.may_have_dates("Oppstartseminar 7. mars")
    assert lexer.may_have_dates("Nedsettes i uke 12")
    assert lexer.may_have_dates("møte 16.01")
    assert lexer.may_have_dates("1. marsKvinesdal")  # a month glued to the next word
    assert lexer.may_have_dates("7. o\u212atober")  # a Kelvin sign lowers to k
    assert not lexer.may_have_dates("Team: Linda, Marit og Tone; sak 12")
    assert not lexer.may_have_dates("kompetanse 12, ring kl. 10")


_PEOPLE = (
    Person("Linda M. Tindholm", "linda@x.no"),
    Person("Tone Mikkelsen", "tone@x.no"),
    Person("Tone Hansen", "tone.h@x.no"),
)
NAME_FRAGMENTS = (
    "v/", "V/", "v /", "ved", "Ved", "ansvarlig", "Ansvarlige:", "Team:", "team :", "Kontaktperson",
    "kontaktpersoner i regionene:", "Linda", "Tone", "Marit", "leder", "Fylkesbiblioteket", "og",
    "Linda M. Tindholm", "Ellen Berg-Larsen", "O'Neil", "Ø.", "Åse\tÅsen", "  ", "\u00a0",
    ",", "–", "-", "/", "gjennomført", "i", "\u212aontaktperson", "Ansvar", "UB",
)  # fmt: skip
cells = st.one_of(
    texts,
    st.lists(st.sampled_from(NAME_FRAGMENTS), max_size=8).map(" ".join),
    st.lists(st.sampled_from(NAME_FRAGMENTS), max_size=8).map("".join),
)


@SETTINGS
@given(text=cells, responsible=st.booleans())
@example(text="Kontaktpersoner i regionene: Linda – Marit", responsible=False)
@example(text="Fylkesbiblioteket v/ Linda og Tone", responsible=False)
@example(text="Tone og Linda", responsible=True)
def test_find_people_skips_only_cells_where_the_scan_finds_no_one(
    text: str, responsible: bool
) -> None:
    directory = Directory.build(_PEOPLE)
    assert people.find_people(text, directory, responsible_column=responsible) == (
        people._scan_cell(text, Directory.build(_PEOPLE), responsible)
    )


HEADER_FRAGMENTS = (
    "ARBEIDSOPPGAVER AKTIVITETER", "DATO/TID", "KNYTTE T TIL TILTAK NR", "SAMARBEID/ANSVAR",
    "KOMPETANSE", "SYNLIGGJØRING", "ANNET EGNE NOTATER", "Når", "Tidsrom", "Periode", "Hva",
    "Uke", "Måned", "Sted", "Ansv.", "Merknad", "Kommentar", "Gjelder", "Oppgave", "Tiltaksnr",
    "Arrangement", "\ufb00", "\uff24ato", "Æ", "Ø", "é", "-", "/", " ",
)  # fmt: skip


def _plain_column_of(text: str) -> Column | None:
    f = fold(text)
    if not f or len(f) > 60:
        return None
    return columns._EXACT.get(f) or columns._by_parts(f)


@SETTINGS
@given(
    text=st.one_of(
        texts,
        st.lists(st.sampled_from(HEADER_FRAGMENTS), max_size=5).map(" ".join),
        st.lists(st.sampled_from(HEADER_FRAGMENTS), max_size=5).map("".join),
    )
)
def test_a_header_cell_names_the_column_it_named_without_the_precheck(text: str) -> None:
    assert columns.column_of.__wrapped__(text) == _plain_column_of(text)


@SETTINGS
@given(given_cells=st.lists(st.tuples(cells, st.booleans()), max_size=6))
def test_people_of_texts_skips_only_cells_where_the_scan_finds_no_one(
    given_cells: list[tuple[str, bool]],
) -> None:
    directory = Directory.build(_PEOPLE)
    emails: list[str] = []
    problems: list[tuple[people.PersonProblem, int]] = []
    seen = set()
    for k, (text, responsible) in enumerate(given_cells):
        mentions, found = people._scan_cell(text, directory, responsible) if text else ([], [])
        emails.extend(email for _, email in mentions)
        for p in found:
            if (p.kind, p.name.casefold()) not in seen:
                seen.add((p.kind, p.name.casefold()))
                problems.append((p, k))
    got = people.people_of_texts(given_cells, Directory.build(_PEOPLE))
    assert got == (tuple(dict.fromkeys(emails)), tuple(problems))
