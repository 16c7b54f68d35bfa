"""The fast paths of plan reading give what the plain paths give.

Reading a big table memoizes pure readings (the date grammar per text, a row's dates, the
people of a cell, a word's token kind, a slug), gathers an item's cells once, and lets the
date lexer try only the rules that can start at a character. Each property here compares the
fast path with the plain computation it replaces, over generated text.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from syncsvc.domain.errors import Where
from syncsvc.domain.plan import Person, Status
from syncsvc.plan import document, rowdates
from syncsvc.plan.columns import Column, Header
from syncsvc.plan.dates import grammar, lexer
from syncsvc.plan.dates.grammar import DateReading, find_dates, read_dates
from syncsvc.plan.document import Row, clean
from syncsvc.plan.load import read_plan_bytes
from syncsvc.plan.people import Directory, people_of_cells, people_of_texts
from syncsvc.plan.rowdates import read_row_dates
from syncsvc.plan.scan import RawItem
from tests.plan_docs import SEED_TEXT
from tests.plan_text import plan_texts

SETTINGS = settings(max_examples=300, deadline=None)

# Pieces of dates and of their neighbours, and characters that case-fold to the letters the
# lexer dispatches on (Kelvin sign, long s, dotted I) or are whitespace \s and str agree on.
FRAGMENTS = (
    "januar", "mars", "des.", "uke", "veke", "kl.", "Kl", "KLOKKEN", "\u212al. 10", "klokka",
    "t.o.m.", "T.o.m", "til og med", "Til  og med", "f.o.m.", "fra og med", "Frå og med", "fra",
    "og", "&", ",", "-", "–", "?", "OK", "Gjennomført", "mandag", "ti.", "Ma", "den", ".", "/",
    ":", "2024", "1800", "10.00", "10:30", "16.01.24", "27.2", "1/3", "31", "\u017f", "\u0130",
    "\u00a0", "\u200b", "\ufeff", "\x1c", "\u3000", "\t", "\n", " ", "_", "٣", "AVLYST", "ca.",
    "v/Linda", "v/ Tone og Marit", "Ansvarlig: Ellen", "Team: Linda, Trine", "ved", "leder",
)  # fmt: skip
texts = plan_texts(FRAGMENTS)
years = st.integers(1990, 2100)


def _plain_tokenize(text: str) -> list[lexer.Token]:
    """The lexer's loop without its dispatch: every rule, in order, at every position."""
    tokens: list[lexer.Token] = []
    pos = 0
    while pos < len(text):
        space = re.compile(r"\s+").match(text, pos)
        if space:
            pos = space.end()
            continue
        token = None
        for pattern, build in lexer._RULES:
            m = pattern.match(text, pos)
            if m and m.end() > pos:
                token = build(m)
                if token is not None:
                    break
        if token is None:
            token = lexer._single_char(text, pos)
        tokens.append(token)
        pos = token.end
    return tokens


@SETTINGS
@given(text=texts)
def test_tokenize_tries_only_rules_that_can_match_and_finds_the_same_tokens(text: str) -> None:
    assert lexer.tokenize(text) == _plain_tokenize(text)


@SETTINGS
@given(text=texts)
def test_clean_collapses_whitespace_as_the_pattern_did(text: str) -> None:
    plain = re.sub(r"\s+", " ", text.replace("\u200b", "").replace("\ufeff", "")).strip()
    assert clean(text) == plain


@SETTINGS
@given(text=texts, year=years, other=years)
def test_date_readings_from_the_cache_are_the_plain_readings(
    text: str, year: int, other: int
) -> None:
    read_dates(text, other)  # the same text in another year is another entry
    occurrences, problems = grammar._read_text(text, year, "Europe/Oslo")
    plain = DateReading(occurrences, None if occurrences else (text.strip() or "empty"), problems)
    assert read_dates(text, year) == plain
    assert read_dates(text, year) == plain  # from the cache now
    assert find_dates(text, year) == tuple(replace(o, topic=None) for o in occurrences)


@SETTINGS
@given(
    dates=texts,
    year=years,
    week=st.sampled_from(("", "36", "37-38", "uke 12")),
    month=st.sampled_from(("", "August", "desember")),
    time=st.sampled_from(("", "18.00 – 20.00", "kl 19", "ca. 16:00")),
    status=st.sampled_from((None, Status.CANCELLED, Status.TENTATIVE)),
)
def test_row_dates_from_the_cache_are_the_plain_row_dates(
    dates: str, year: int, week: str, month: str, time: str, status: Status | None
) -> None:
    plain = rowdates._row_dates(dates, year, week, month, time, status, "Europe/Oslo")
    for _ in range(2):
        got = read_row_dates(
            dates, year, week=week, month=month, time=time, status=status, tz="Europe/Oslo"
        )
        assert got == plain


_PEOPLE = (
    Person("Linda M. Tindholm", "linda@x.no"),
    Person("Tone Mikkelsen", "tone@x.no"),
    Person("Tone Hansen", "tone.h@x.no"),
    Person("Marit Somby", "marit@x.no"),
)
_SHARED = Directory.build(_PEOPLE)  # remembers every cell it has read, across examples


@SETTINGS
@given(cells=st.lists(st.tuples(texts, st.booleans()), max_size=6))
def test_people_from_a_remembering_directory_are_those_of_a_fresh_one(
    cells: list[tuple[str, bool]],
) -> None:
    placed = [(text, Where("plan.txt", n + 1), resp) for n, (text, resp) in enumerate(cells)]
    fresh = people_of_cells(placed, Directory.build(_PEOPLE))
    assert people_of_cells(placed, _SHARED) == fresh
    emails, problems = people_of_texts(cells, _SHARED)
    assert emails == fresh.emails
    assert tuple((p, placed[k][1]) for p, k in problems) == fresh.problems


def test_an_items_texts_see_rows_added_after_they_were_gathered() -> None:
    header = Header({Column.TITLE: 0, Column.DATES: 1}, {}, 1)
    raw = RawItem(header, None, None, [Row.of("Møte", "3. mars", line=2)])
    assert [t for t, _ in raw.texts(Column.DATES)] == ["3. mars"]
    raw.rows.append(Row.of("", "4. mars", line=3))
    assert [t for t, _ in raw.texts(Column.DATES)] == ["3. mars", "4. mars"]
    assert raw.joined(Column.DATES) == "3. mars\n4. mars"
    assert raw.texts(Column.NOTES) == ()


def test_a_plan_reads_the_same_with_cold_and_warm_caches() -> None:
    data = SEED_TEXT.encode()
    warm = read_plan_bytes(data, name="arsplan-2024.txt")
    for cache in (
        grammar._read_cached,
        rowdates._row_dates_cached,
        lexer._word_kind,
        document._slug,
    ):
        cache.cache_clear()
    lexer._RULES_AT.clear()
    cold = read_plan_bytes(data, name="arsplan-2024.txt")
    assert cold == warm
    assert read_plan_bytes(data, name="arsplan-2024.txt") == warm
