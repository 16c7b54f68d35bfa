"""Table-driven tests of the Norwegian date grammar; every expectation is worked out by hand.

Calendar facts used (checked against a printed calendar): 1 Jan 2024 is a Monday, so
15-21 Jan 2024 run Monday..Sunday and ISO week n of 2024 starts on 1 Jan + 7(n-1) days;
2024 is a leap year with 52 ISO weeks; 2026 has 53 (1 Jan 2026 is a Thursday); Norway is on
CET (+01:00) until 31 Mar 2024 and on CEST (+02:00) from then until 27 Oct 2024.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

from syncsvc.domain.errors import ConfigError
from syncsvc.domain.plan import ProblemKind, Severity, Status
from syncsvc.plan.dates.grammar import find_dates, read_dates

P, T, D = Status.PLANNED, Status.TENTATIVE, Status.DONE
CET, CEST = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))
ERR_DATE = (ProblemKind.UNPARSED_DATE, Severity.ERROR)
WARN_DATE = (ProblemKind.UNPARSED_DATE, Severity.WARNING)
MISMATCH = (ProblemKind.WEEKDAY_MISMATCH, Severity.ERROR)

Occ = tuple[date | datetime, date | datetime, Status, str | None]


@dataclass(frozen=True)
class Expect:
    occurrences: tuple[Occ, ...]
    problems: tuple[tuple[ProblemKind, Severity], ...] = ()


def day(iso: str, end: str | None = None, status: Status = P, topic: str | None = None) -> Occ:
    """An all-day occurrence: `iso` .. `end` (exclusive), both written out by hand."""
    return (date.fromisoformat(iso), date.fromisoformat(end or iso), status, topic)


def timed(start: str, end: str, offset: timezone = CET, status: Status = P) -> Occ:
    return (
        datetime.fromisoformat(start).replace(tzinfo=offset),
        datetime.fromisoformat(end).replace(tzinfo=offset),
        status,
        None,
    )


def dated(*occs: Occ, problems: tuple[tuple[ProblemKind, Severity], ...] = ()) -> Expect:
    return Expect(occs, problems)


def undated(*problems: tuple[ProblemKind, Severity]) -> Expect:
    return Expect((), problems)


def case(text: str, expect: Expect, name: str, year: int = 2024) -> object:
    return pytest.param(text, year, expect, id=name)


SEED = [
    case("", undated(), "seed-empty"),
    case("Startes opp når ny leder er på plass", undated(), "seed-startes-opp"),
    case(
        "16.januar OK 20.februar OK 19.mars 16.april 21.mai 18.juni",
        dated(
            day("2024-01-16", "2024-01-17", D),
            day("2024-02-20", "2024-02-21", D),
            day("2024-03-19", "2024-03-20"),
            day("2024-04-16", "2024-04-17"),
            day("2024-05-21", "2024-05-22"),
            day("2024-06-18", "2024-06-19"),
        ),
        "seed-tirsdagsmoter-var",
    ),
    case(
        "Tirsdagsmøtet 16. Januar – Kartleggingen Gjennomført",
        dated(day("2024-01-16", "2024-01-17", D, "Kartleggingen")),
        "seed-ledertema",
    ),
    case(
        "Tirsdagsmøtet 20.februar Kompetansebanken Gjennomført",
        dated(day("2024-02-20", "2024-02-21", D, "Kompetansebanken")),
        "seed-kompetansetiltak",
    ),
    case("10.- 11. april", dated(day("2024-04-10", "2024-04-12")), "seed-biblioteksjefmote"),
    case("Oppstart 1.juni", dated(day("2024-06-01", "2024-06-02")), "seed-sommerles"),
    case("7. mars", dated(day("2024-03-07", "2024-03-08")), "seed-oppstartsmote"),
    case(
        "20. august 17. september 15. oktober 19. november\n17. desember",
        dated(
            day("2024-08-20", "2024-08-21"),
            day("2024-09-17", "2024-09-18"),
            day("2024-10-15", "2024-10-16"),
            day("2024-11-19", "2024-11-20"),
            day("2024-12-17", "2024-12-18"),
        ),
        "seed-tirsdagsmoter-host-continued",
    ),
    case("Tirsdagsmøte", undated(), "seed-tirsdagsmote-alone"),
    case("8.-9. oktober", dated(day("2024-10-08", "2024-10-10")), "seed-tromso"),
    case("Uke 43", dated(day("2024-10-21", "2024-10-28")), "seed-uke-43"),
    case("?", undated(), "seed-question-mark"),
]

DAY_MONTH = [
    case("16.januar", dated(day("2024-01-16", "2024-01-17")), "dot-no-space"),
    case("14 mai", dated(day("2024-05-14", "2024-05-15")), "space-no-dot"),
    case("16. Januar", dated(day("2024-01-16", "2024-01-17")), "capitalised"),
    case("16. JANUAR", dated(day("2024-01-16", "2024-01-17")), "upper-case"),
    case("21, februar", dated(day("2024-02-21", "2024-02-22")), "comma-for-dot"),
    case("16januar", dated(day("2024-01-16", "2024-01-17")), "glued"),
    case("1. jan.", dated(day("2024-01-01", "2024-01-02")), "abbr-jan"),
    case("2. feb", dated(day("2024-02-02", "2024-02-03")), "abbr-feb"),
    case("3. febr.", dated(day("2024-02-03", "2024-02-04")), "abbr-febr"),
    case("4. mar", dated(day("2024-03-04", "2024-03-05")), "abbr-mar"),
    case("5. apr.", dated(day("2024-04-05", "2024-04-06")), "abbr-apr"),
    case("6. jun", dated(day("2024-06-06", "2024-06-07")), "abbr-jun"),
    case("7. jul.", dated(day("2024-07-07", "2024-07-08")), "abbr-jul"),
    case("8. aug", dated(day("2024-08-08", "2024-08-09")), "abbr-aug"),
    case("9. sep", dated(day("2024-09-09", "2024-09-10")), "abbr-sep"),
    case("10. sept", dated(day("2024-09-10", "2024-09-11")), "abbr-sept"),
    case("11. okt.", dated(day("2024-10-11", "2024-10-12")), "abbr-okt"),
    case("12. nov", dated(day("2024-11-12", "2024-11-13")), "abbr-nov"),
    case("13. des.", dated(day("2024-12-13", "2024-12-14")), "abbr-des"),
    case("31. desember", dated(day("2024-12-31", "2025-01-01")), "last-day-of-year"),
    case("29. februar", dated(day("2024-02-29", "2024-03-01")), "leap-day"),
    case("29. februar", undated(ERR_DATE), "leap-day-in-common-year", year=2023),
    case("1. februar 2024", dated(day("2024-02-01", "2024-02-02")), "explicit-year", year=2023),
    case("1. mars 3024", undated(ERR_DATE), "absurd-explicit-year"),
]

RANGES = [
    case("26. februar-1. mars", dated(day("2024-02-26", "2024-03-02")), "across-months-leap"),
    case("26. februar-1. mars", dated(day("2023-02-26", "2023-03-02")), "across-months", 2023),
    case("24. des - 2.januar", dated(day("2024-12-24", "2025-01-03")), "across-new-year"),
    case("3. til 5. mars", dated(day("2024-03-03", "2024-03-06")), "til"),
    case("3. mars til 5. mars", dated(day("2024-03-03", "2024-03-06")), "til-full-both"),
    case("3. til og med 5. mars", dated(day("2024-03-03", "2024-03-06")), "til-og-med"),
    case("3. t.o.m. 5. mars", dated(day("2024-03-03", "2024-03-06")), "tom-abbr"),
    case("f.o.m. 3. mars t.o.m. 5. mars", dated(day("2024-03-03", "2024-03-06")), "fom-tom"),
    case(
        "fra og med 3. mars til og med 5. april",
        dated(day("2024-03-03", "2024-04-06")),
        "fra-og-med",
    ),
    case("frå 3. til 5. mars", dated(day("2024-03-03", "2024-03-06")), "nynorsk-fra"),
    case("fra 3. mars", dated(day("2024-03-03", "2024-03-04")), "open-from-is-one-day"),
    case("3.–5. mars", dated(day("2024-03-03", "2024-03-06")), "en-dash"),
    case("28.-2. mars", dated(day("2024-02-28", "2024-03-03")), "first-day-in-month-before"),
    case("30.-2. mars", undated(ERR_DATE), "month-before-has-no-30th"),
    case("1. - 3. mars 2023", dated(day("2023-03-01", "2023-03-04")), "range-explicit-year"),
    case("5. mars - 1. mars 2024", undated(ERR_DATE), "range-backwards"),
    case("10.-11. april", dated(day("2024-04-10", "2024-04-12")), "no-spaces"),
]

LISTS = [
    case(
        "23. og 24.mai",
        dated(day("2024-05-23", "2024-05-24"), day("2024-05-24", "2024-05-25")),
        "og",
    ),
    case(
        "15 & 16 juni",
        dated(day("2024-06-15", "2024-06-16"), day("2024-06-16", "2024-06-17")),
        "ampersand",
    ),
    case(
        "1., 2. og 3. mai",
        dated(
            day("2024-05-01", "2024-05-02"),
            day("2024-05-02", "2024-05-03"),
            day("2024-05-03", "2024-05-04"),
        ),
        "commas",
    ),
    case(
        "16. januar, 20. februar",
        dated(day("2024-01-16", "2024-01-17"), day("2024-02-20", "2024-02-21")),
        "comma-full-dates",
    ),
    case(
        "16. januar og 20. februar",
        dated(day("2024-01-16", "2024-01-17"), day("2024-02-20", "2024-02-21")),
        "og-full-dates",
    ),
    case(
        "15/16 juni",
        dated(day("2024-06-15", "2024-06-16"), day("2024-06-16", "2024-06-17")),
        "slash-days",
    ),
    case(
        "1. - 3. og 5. mai",
        dated(day("2024-05-01", "2024-05-04"), day("2024-05-05", "2024-05-06")),
        "range-and-day",
    ),
]

WEEKDAYS = [
    case("tirsdag 16. januar", dated(day("2024-01-16", "2024-01-17")), "weekday-agrees"),
    case(
        "mandag 16. januar",
        dated(day("2024-01-16", "2024-01-17"), problems=(MISMATCH,)),
        "weekday-mismatch-keeps-date",
    ),
    case("måndag 15. januar", dated(day("2024-01-15", "2024-01-16")), "mandag-nn"),
    case("tysdag 16. januar", dated(day("2024-01-16", "2024-01-17")), "tirsdag-nn"),
    case("onsdag 17. januar", dated(day("2024-01-17", "2024-01-18")), "onsdag"),
    case("torsdag 18. januar", dated(day("2024-01-18", "2024-01-19")), "torsdag"),
    case("fredag 19. januar", dated(day("2024-01-19", "2024-01-20")), "fredag"),
    case("lørdag 20. januar", dated(day("2024-01-20", "2024-01-21")), "lordag"),
    case("laurdag 20. januar", dated(day("2024-01-20", "2024-01-21")), "laurdag-nn"),
    case("søndag 21. januar", dated(day("2024-01-21", "2024-01-22")), "sondag"),
    case("sundag 21. januar", dated(day("2024-01-21", "2024-01-22")), "sundag-nn"),
    case("man. 15. jan.", dated(day("2024-01-15", "2024-01-16")), "abbr-man"),
    case("tirs. 16. jan", dated(day("2024-01-16", "2024-01-17")), "abbr-tirs"),
    case("ons. 17. jan", dated(day("2024-01-17", "2024-01-18")), "abbr-ons"),
    case("tors. 18. jan", dated(day("2024-01-18", "2024-01-19")), "abbr-tors"),
    case("fre. 19. jan", dated(day("2024-01-19", "2024-01-20")), "abbr-fre"),
    case("lør. 20. jan", dated(day("2024-01-20", "2024-01-21")), "abbr-lor"),
    case("søn. 21. jan", dated(day("2024-01-21", "2024-01-22")), "abbr-son"),
    case("ti. 16. januar", dated(day("2024-01-16", "2024-01-17")), "abbr-ti-dotted"),
    case(
        "ti. 17. januar",
        dated(day("2024-01-17", "2024-01-18"), problems=(MISMATCH,)),
        "abbr-ti-mismatch",
    ),
    case("16. januar (tirsdag)", dated(day("2024-01-16", "2024-01-17")), "weekday-after"),
    case(
        "16. januar (fredag)",
        dated(day("2024-01-16", "2024-01-17"), problems=(MISMATCH,)),
        "weekday-after-mismatch",
    ),
    case(
        "tirsdag 16. og onsdag 17. januar",
        dated(day("2024-01-16", "2024-01-17"), day("2024-01-17", "2024-01-18")),
        "weekday-on-partial-day",
    ),
    case("fredag 16. januar", dated(day("2026-01-16", "2026-01-17")), "weekday-2026", 2026),
    case("tirsdag den 16. januar", dated(day("2024-01-16", "2024-01-17")), "weekday-den"),
]

WEEKS = [
    case("veke 8", dated(day("2024-02-19", "2024-02-26")), "veke-nn"),
    case(
        "uke 28 og 29",
        dated(day("2024-07-08", "2024-07-15"), day("2024-07-15", "2024-07-22")),
        "week-list",
    ),
    case("uke 45-48", dated(day("2024-11-04", "2024-12-02")), "week-range"),
    case("uke 45 - uke 48", dated(day("2024-11-04", "2024-12-02")), "week-range-repeated"),
    case("uke nr. 43", dated(day("2024-10-21", "2024-10-28")), "week-nr"),
    case(
        "uke 52 og 1",
        dated(day("2024-12-23", "2024-12-30"), day("2024-12-30", "2025-01-06")),
        "week-rolls-into-next-year",
    ),
    case("uke 1", dated(day("2024-12-30", "2025-01-06")), "week-1-starts-in-december", 2025),
    case("uke 53", undated(ERR_DATE), "week-53-in-52-week-year"),
    case("uke 53", dated(day("2026-12-28", "2027-01-04")), "week-53", 2026),
    case("uke 54", undated(ERR_DATE), "week-54"),
    case("uke 0", undated(ERR_DATE), "week-0"),
]

NUMERIC = [
    case("16.01.24", dated(day("2024-01-16", "2024-01-17")), "dd.mm.yy"),
    case("12.10.2021", dated(day("2021-10-12", "2021-10-13")), "explicit-year-wins"),
    case("27.2 - 3.3", dated(day("2024-02-27", "2024-03-04")), "d.m-range"),
    case("1/3", dated(day("2024-03-01", "2024-03-02")), "d/m"),
    case("16.1-18.1", dated(day("2024-01-16", "2024-01-19")), "d.m-range-tight"),
    case("31.12.24 - 2.1.25", dated(day("2024-12-31", "2025-01-03")), "numeric-new-year"),
    case("30.02.24", undated(ERR_DATE), "numeric-invalid"),
    case("01.03.24", dated(day("2024-03-01", "2024-03-02")), "leading-zeros"),
    case("27.-28.2", dated(day("2024-02-27", "2024-02-29")), "partial-then-numeric"),
    case("10.11-12.11", dated(day("2024-11-10", "2024-11-13")), "dotted-range-is-dates"),
]

TIMES = [
    case(
        "16. januar kl. 10.00-11.30",
        dated(timed("2024-01-16T10:00", "2024-01-16T11:30")),
        "kl-dotted-range",
    ),
    case(
        "16. januar klokken 1800-1930",
        dated(timed("2024-01-16T18:00", "2024-01-16T19:30")),
        "klokken-hhmm",
    ),
    case(
        "16. januar kl 15:30 – 16:30",
        dated(timed("2024-01-16T15:30", "2024-01-16T16:30")),
        "kl-colon-en-dash",
    ),
    case("16. januar kl. 9", dated(timed("2024-01-16T09:00", "2024-01-16T10:00")), "one-hour"),
    case(
        "10.-11. april kl. 10-15",
        dated(timed("2024-04-10T10:00", "2024-04-11T15:00", CEST)),
        "multi-day-with-time",
    ),
    case(
        "16. januar kl. 22-01",
        dated(timed("2024-01-16T22:00", "2024-01-17T01:00")),
        "overnight",
    ),
    case("kl. 10.00-11.30", undated(WARN_DATE), "time-alone-is-not-a-date"),
    case("klokken 1800-1930", undated(WARN_DATE), "hhmm-alone-is-not-a-date"),
    case(
        "kl. 10.00-11.30 16. januar",
        dated(timed("2024-01-16T10:00", "2024-01-16T11:30")),
        "time-before-date",
    ),
    case(
        "16. januar 10:00-11:30",
        dated(timed("2024-01-16T10:00", "2024-01-16T11:30")),
        "bare-colon-time",
    ),
    case(
        "16. januar 09.00-11.30",
        dated(timed("2024-01-16T09:00", "2024-01-16T11:30")),
        "bare-dotted-time",
    ),
    case(
        "16. januar kl. 25",
        dated(day("2024-01-16", "2024-01-17"), problems=(WARN_DATE,)),
        "impossible-time",
    ),
    case(
        "uke 43 kl. 10",
        dated(day("2024-10-21", "2024-10-28"), problems=(WARN_DATE,)),
        "time-on-week-ignored",
    ),
    case(
        "16. januar kl. 10 til kl. 12",
        dated(timed("2024-01-16T10:00", "2024-01-16T12:00")),
        "kl-til-kl",
    ),
    case(
        "16. og 17. januar kl. 10-12",
        dated(
            timed("2024-01-16T10:00", "2024-01-16T12:00"),
            timed("2024-01-17T10:00", "2024-01-17T12:00"),
        ),
        "time-on-each-listed-day",
    ),
    case(
        "16.01.24 kl. 10",
        dated(timed("2024-01-16T10:00", "2024-01-16T11:00")),
        "numeric-date-with-time",
    ),
]

STATUS = [
    case("16. januar OK", dated(day("2024-01-16", "2024-01-17", D)), "ok"),
    case("16. januar Gjennomført", dated(day("2024-01-16", "2024-01-17", D)), "gjennomfort"),
    case("16. januar gjennomfort", dated(day("2024-01-16", "2024-01-17", D)), "no-diacritic"),
    case("16. januar?", dated(day("2024-01-16", "2024-01-17", T)), "question-glued"),
    case("16. januar ?", dated(day("2024-01-16", "2024-01-17", T)), "question-spaced"),
    case(
        "Gjennomført 16. januar 20. februar",
        dated(day("2024-01-16", "2024-01-17", D), day("2024-02-20", "2024-02-21", D)),
        "status-first-applies-to-cell",
    ),
    case(
        "16. januar 20. februar?",
        dated(day("2024-01-16", "2024-01-17"), day("2024-02-20", "2024-02-21", T)),
        "question-after-last-date",
    ),
    case(
        "16. januar Kartlegging?",
        dated(day("2024-01-16", "2024-01-17", T, "Kartlegging")),
        "question-ends-cell",
    ),
    case(
        "23. og 24.mai OK",
        dated(day("2024-05-23", "2024-05-24", D), day("2024-05-24", "2024-05-25", D)),
        "status-covers-day-list",
    ),
    case(
        "16. januar, 20. februar og 19. mars OK",
        dated(
            day("2024-01-16", "2024-01-17"),
            day("2024-02-20", "2024-02-21"),
            day("2024-03-19", "2024-03-20", D),
        ),
        "status-only-for-date-it-follows",
    ),
    case(
        "16. januar OK?",
        dated(day("2024-01-16", "2024-01-17", D)),
        "done-wins-over-question",
    ),
]

PROSE = [
    case(
        "Første møte arrangert med Harstad 1. februar 2024",
        dated(day("2024-02-01", "2024-02-02")),
        "prose-explicit-year",
        2023,
    ),
    case(
        "16. januar – Tema: Lesing",
        dated(day("2024-01-16", "2024-01-17", topic="Tema: Lesing")),
        "topic-with-colon",
    ),
    case(
        "20. august Oppstart 17. september",
        dated(day("2024-08-20", "2024-08-21", topic="Oppstart"), day("2024-09-17", "2024-09-18")),
        "topic-between-dates",
    ),
    case(
        "20. august 17. september 15. oktober 19. november 17. desember 14. januar",
        dated(
            day("2024-08-20", "2024-08-21"),
            day("2024-09-17", "2024-09-18"),
            day("2024-10-15", "2024-10-16"),
            day("2024-11-19", "2024-11-20"),
            day("2024-12-17", "2024-12-18"),
            day("2025-01-14", "2025-01-15"),
        ),
        "list-rolls-into-next-year",
    ),
    case(
        "14. januar 20. august",
        dated(day("2024-01-14", "2024-01-15"), day("2024-08-20", "2024-08-21")),
        "ascending-list-does-not-roll",
    ),
    case(
        "17. desember\n14. januar OK",
        dated(day("2024-12-17", "2024-12-18"), day("2025-01-14", "2025-01-15", D)),
        "continuation-row-rolls",
    ),
    case(
        "1. februar 2025 3. mars",
        dated(day("2025-02-01", "2025-02-02"), day("2025-03-03", "2025-03-04")),
        "explicit-year-carries-forward",
    ),
]

NOT_DATES = [
    case("Ikke avklart", undated(), "ikke-avklart"),
    case("Dato kommer", undated(), "dato-kommer"),
    case("Våren", undated(), "varen"),
    case("4", undated(), "single-number"),
    case("2 7 15", undated(), "numbers"),
    case("2024", undated(), "year-alone"),
    case("   \n ", undated(), "blank"),
    case("Bibliotekrom 2.0", undated(), "version-number"),
    case("Nedsettes i mars", undated(), "month-without-day"),
    case("mars 2024", undated(), "month-and-year"),
    case("10.-11.", undated(), "days-without-month"),
    case("OK", undated(), "status-alone"),
    case("32. mars", undated(ERR_DATE), "day-32"),
    case("0. mars", undated(ERR_DATE), "day-0"),
    case("30. februar", undated(ERR_DATE), "february-30"),
    case("jan. 16", undated(), "month-first-is-not-norwegian"),
    case("Dag 2: Tema", undated(), "day-number-in-prose"),
]

ALL = SEED + DAY_MONTH + RANGES + LISTS + WEEKDAYS + WEEKS + NUMERIC + TIMES + STATUS + PROSE
ALL += NOT_DATES


def test_the_table_is_big_enough() -> None:
    assert len(ALL) >= 100


@pytest.mark.parametrize(("text", "year", "expect"), ALL)
def test_read_dates(text: str, year: int, expect: Expect) -> None:
    reading = read_dates(text, year)
    got = [(o.start, o.end, o.status, o.topic) for o in reading.occurrences]
    assert got == list(expect.occurrences)
    for occ in reading.occurrences:  # aware datetimes must carry the real offset, not just any
        if isinstance(occ.start, datetime):
            assert occ.start.utcoffset() == expected_offset(occ.start)
    assert [(kind, sev) for kind, sev, _ in reading.problems] == list(expect.problems)
    if expect.occurrences:
        assert reading.undated_reason is None
    else:
        assert reading.undated_reason == (text.strip() or "empty")


def expected_offset(when: datetime) -> timedelta:
    # Europe/Oslo summer time in 2024: 31 March 01:00 UTC to 27 October 01:00 UTC.
    summer = date(2024, 3, 31) <= when.date() < date(2024, 10, 27)
    return timedelta(hours=2 if summer else 1)


def test_timed_occurrences_are_in_the_requested_zone() -> None:
    [occ] = read_dates("16. januar kl. 10", 2024, tz="America/New_York").occurrences
    assert isinstance(occ.start, datetime)
    assert str(occ.start.tzinfo) == "America/New_York"
    assert occ.start.utcoffset() == timedelta(hours=-5)


def test_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        read_dates("16. januar", 2024, tz="Mars/Olympus")


def test_occurrence_text_is_the_piece_that_produced_it() -> None:
    reading = read_dates(
        "Tirsdagsmøtet 16. Januar – Kartleggingen Gjennomført 10.- 11. april", 2024
    )
    assert [o.text for o in reading.occurrences] == ["16. Januar", "10.- 11. april"]


def test_weekday_mismatch_message_names_both_days() -> None:
    [(kind, severity, message)] = read_dates("mandag 16. januar", 2024).problems
    assert (kind, severity) == MISMATCH
    assert "mandag 16. januar" in message
    assert "Tuesday" in message
    assert "Monday" in message


def test_invalid_date_message_quotes_the_text() -> None:
    [(_, _, message)] = read_dates("Møte 30. februar", 2024).problems
    assert "30. februar" in message


def test_find_dates_in_a_prose_note() -> None:
    note = (
        "Oppstartseminar 7. mars Innspillmøter/kartlegging våren 2024 Tema på "
        'biblioteksjefmøtet Delekonferanse "Lesekultur for de minste" 23. og 24.mai'
    )
    found = find_dates(note, 2024)
    assert [(o.start, o.end) for o in found] == [
        (date(2024, 3, 7), date(2024, 3, 8)),
        (date(2024, 5, 23), date(2024, 5, 24)),
        (date(2024, 5, 24), date(2024, 5, 25)),
    ]
    assert all(o.topic is None for o in found)


def test_find_dates_with_explicit_year() -> None:
    found = find_dates("Første møte arrangert med Harstad 1. februar 2024", 2023)
    assert [(o.start, o.end, o.text) for o in found] == [
        (date(2024, 2, 1), date(2024, 2, 2), "1. februar 2024")
    ]


def test_find_dates_ignores_prose_without_dates() -> None:
    note = (
        "Programrådets arbeid ses i sammenheng med gjennomføring av store prosjekter. "
        "Nedsettes i mars"
    )
    assert find_dates(note, 2024) == ()
