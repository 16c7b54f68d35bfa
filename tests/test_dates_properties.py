"""Properties of the date grammar over generated text: total, well-formed, round-trips."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from syncsvc.plan.dates.grammar import DateReading, find_dates, read_dates

MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip

# Pieces of the grammar, so that generated text often *almost* parses: the interesting case.
FRAGMENTS = (
    *MONTHS, "jan.", "sept", "des", "uke", "veke", "kl.", "klokken", "til", "til og med",
    "t.o.m.", "f.o.m.", "fra", "frå", "og", "&", ",", "-", "–", "?", "OK", "Gjennomført",
    "mandag", "tirsdag", "ti.", "lør.", "den", ".", "/", ":", "nr.", "2024", "1800", "10.00",
    "16.01.24", "27.2", "1/3", "31", "29", "0", "53", "99999999999999999999", "\n", " ",
)  # fmt: skip

SETTINGS = settings(max_examples=300, deadline=None)

texts = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.integers(0, 60).map(str), st.text(max_size=3)),
        max_size=14,
    ).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join),
)
years = st.integers(1990, 2100)


def _well_formed(reading: DateReading) -> None:
    assert (reading.undated_reason is None) == bool(reading.occurrences)
    for occ in reading.occurrences:
        assert type(occ.start) is type(occ.end)
        assert occ.start < occ.end
        if isinstance(occ.start, datetime):
            assert occ.start.tzinfo is not None
            assert isinstance(occ.end, datetime)
            assert occ.end.tzinfo is not None
        assert occ.text  # every occurrence names the text it came from


@SETTINGS
@given(text=texts, year=years)
def test_any_text_gives_a_well_formed_reading(text: str, year: int) -> None:
    reading = read_dates(text, year)
    _well_formed(reading)
    if not reading.occurrences:
        assert reading.undated_reason == (text.strip() or "empty")
    for occ in reading.occurrences:
        assert occ.text in text


@SETTINGS
@given(text=texts, year=years)
def test_find_dates_is_total_and_agrees_with_read_dates(text: str, year: int) -> None:
    found = find_dates(text, year)
    read = read_dates(text, year).occurrences
    assert [(o.start, o.end, o.status) for o in found] == [(o.start, o.end, o.status) for o in read]
    assert all(o.topic is None for o in found)


@SETTINGS
@given(day=st.dates(date(1990, 1, 1), date(2100, 12, 31)), dot=st.sampled_from([". ", ".", " "]))
def test_a_rendered_date_reads_back(day: date, dot: str) -> None:
    text = f"{day.day}{dot}{MONTHS[day.month - 1]}"
    reading = read_dates(text, day.year)
    assert reading.problems == ()
    [occ] = reading.occurrences
    assert (occ.start, occ.end) == (day, day + timedelta(days=1))
    assert occ.text == text


@SETTINGS
@given(
    first=st.dates(date(2000, 1, 1), date(2098, 12, 31)),
    length=st.integers(0, 40),
)
def test_a_rendered_range_reads_back(first: date, length: int) -> None:
    last = first + timedelta(days=length)
    text = f"{first.day}. {MONTHS[first.month - 1]} - {last.day}. {MONTHS[last.month - 1]}"
    [occ] = read_dates(text, first.year).occurrences
    assert (occ.start, occ.end) == (first, last + timedelta(days=1))


@SETTINGS
@given(year=st.integers(2000, 2098), week=st.integers(1, 53))
def test_a_week_is_monday_to_sunday(year: int, week: int) -> None:
    reading = read_dates(f"uke {week}", year)
    _well_formed(reading)
    if reading.occurrences:
        [occ] = reading.occurrences
        assert isinstance(occ.start, date)
        assert occ.start.isocalendar()[:3] == (year, week, 1)
        assert occ.end == occ.start + timedelta(days=7)
    else:  # only week 53 of a 52-week year
        assert week == 53
        assert reading.problems
