"""The rules that turn a `Document` into a `Plan`: the plan table and its conventions.

Every reader produces a `Document` (`plan.document`): paragraphs and table rows in reading
order. `plan.scan` groups the table's rows into raw items (columns found by header text or
given by a layout reader as roles, repeated headers, separator, blank and continuation rows,
semester and month headings, the title, the contact list). `build_plan` then chooses the
plan's year and reads each item: its dates (with week, month and time columns), status
words, measures, visibility and people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from syncsvc.domain.errors import PlanError, Where
from syncsvc.domain.plan import (
    TIMEZONE,
    Occurrence,
    Person,
    Plan,
    PlanItem,
    Problem,
    ProblemKind,
    Severity,
    Status,
)
from syncsvc.plan.columns import (
    Column,
    year_of_title,
)
from syncsvc.plan.dates import grammar as date_grammar
from syncsvc.plan.document import Document, Row, slug
from syncsvc.plan.people import Directory, people_of_texts
from syncsvc.plan.rowdates import read_row_dates
from syncsvc.plan.scan import RawItem, Reading, scan
from syncsvc.plan.status import combine, might_have_status, take_status
from syncsvc.plan.visibility import read_visibility
from syncsvc.plan.years import (
    choose_year,
    in_school_year,
    school_year_of,
    year_in_dates,
)

_ANY_YEAR = re.compile(r"(?<![\d.])(?:19|20)\d\d(?![\d.])")
ROLL_DAYS = 183  # a date this far before the latest one of its group is in the next year

# --------------------------------------------------------------------------- building


_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"(?<![\d.,])\d{1,4}(?![\d.,]\d)")


def measures_of(text: str) -> tuple[int, ...]:
    """'2 7 15 16' -> (2, 7, 15, 16); '1, 5' -> (1, 5)."""
    return tuple(int(n) for n in _NUMBER.findall(text))


def is_public(visibility: str) -> bool:
    """SYNLIGGJØRING clearly puts the item in the 'Hva skjer' calendar (plan.visibility)."""
    return read_visibility(visibility).public


@dataclass
class _ItemBuilder:
    doc: Document
    year: int
    tz: str
    directory: Directory
    school_year: int | None = None
    keys: dict[str, int] = field(default_factory=dict)
    taken: dict[str, Where] = field(default_factory=dict)  # key -> the item that has it
    problems: list[Problem] = field(default_factory=list)
    latest: dict[str | None, date] = field(default_factory=dict)  # per semester, for roll-over
    unordered: set[str | None] = field(default_factory=set)  # semesters not in date order
    may_roll: bool = True  # False when the title names one calendar year ("Møteplan 2024")

    def where(self, raw: RawItem, row: Row, col: Column) -> Where:
        return Where(self.doc.name, row.line, raw.header.names.get(col))

    def problem(self, kind: ProblemKind, sev: Severity, msg: str, where: Where, key: str) -> None:
        self.problems.append(Problem(kind, sev, msg, where, key))

    def key_for(self, raw: RawItem, title: str, where: Where) -> tuple[str, bool]:
        """A key no other item has: "x", "x-2", ...; a title whose slug is another item's
        numbered key ("H7 Dobbel 2" after two "H7 Dobbel") gets the next free number, and the
        clash is a warning naming both places (else one item would silently replace the
        other)."""
        base = f"{slug(raw.semester or 'plan')}/{slug(title)}"
        n = self.keys.get(base, 0) + 1
        self.keys[base] = n
        key = base if n == 1 else f"{base}-{n}"
        while key in self.taken:
            other = self.taken[key]
            n += 1
            self.keys[base] = n
            fresh = f"{base}-{n}"
            self.problem(
                ProblemKind.DUPLICATE_ITEM,
                Severity.WARNING,
                f"key {key!r} is taken by the item at {other}; this one is {fresh}",
                where,
                fresh,
            )
            key = fresh
        self.taken[key] = where
        return key, n > 1

    def item(self, raw: RawItem) -> PlanItem:
        main = raw.rows[0]
        titled = take_status(raw.cell(main, Column.TITLE, main=True), question_mark=main.tentative)
        title = titled.text or raw.cell(main, Column.TITLE, main=True)
        key, duplicate = self.key_for(raw, title, self.where(raw, main, Column.TITLE))
        status = _row_status(raw, main, titled.status)
        occurrences, reasons, year = self.dated(raw, key, status)
        if not occurrences:
            reason = reasons[0] if reasons else "no date"
            self.problem(
                ProblemKind.UNDATED,
                Severity.WARNING,
                f"not scheduled: {reason}",
                self.where(raw, main, Column.DATES),
                key,
            )
        self.hints(raw, key, year, occurrences)
        people = self.people(raw, key)
        visibility = read_visibility(raw.joined(Column.VISIBILITY))
        if visibility.reason:
            self.problem(
                ProblemKind.OTHER,
                Severity.WARNING,
                f"{visibility.reason}; kept private (write it plainly, or set public in "
                "the overrides)",
                self.where(raw, main, Column.VISIBILITY),
                key,
            )
        if duplicate:
            self.problem(
                ProblemKind.DUPLICATE_ITEM,
                Severity.INFO,
                f"{title!r} appears more than once in {raw.semester or 'the plan'}; "
                f"this one is {key}",
                self.where(raw, main, Column.TITLE),
                key,
            )
        return PlanItem(
            key=key,
            title=title,
            occurrences=occurrences,
            date_text=raw.joined(Column.DATES),
            semester=raw.semester,
            people=people,
            measures=measures_of(raw.joined(Column.MEASURES)),
            public=visibility.public,
            public_topics=visibility.public and visibility.topics,
            responsible_text=raw.joined(Column.RESPONSIBLE),
            competence=raw.joined(Column.COMPETENCE),
            visibility=raw.joined(Column.VISIBILITY),
            notes=raw.joined(Column.NOTES),
            where=self.where(raw, main, Column.TITLE),
        )

    def dated(
        self, raw: RawItem, key: str, status: Status | None
    ) -> tuple[tuple[Occurrence, ...], list[str], int]:
        """The item's occurrences in the right year: the row's own (a heading's), the
        semester's, the school year's, or the plan's rolled on past the end of the year."""
        main = raw.rows[0]
        year = base = main.year or raw.semester_year or self.year
        found: list[Problem] = []
        occurrences, reasons = self.dates(raw, key, year, status, found)
        if occurrences and main.year is None and raw.semester_year is None:
            first = occurrences[0].first_day
            if self.school_year is not None:
                want = in_school_year(self.school_year, first.month)
                if want != first.year:
                    year = year + (want - first.year)
            else:
                latest = self.latest.get(raw.semester)
                ordered = self.may_roll and raw.semester not in self.unordered
                if ordered and latest is not None and (latest - first).days > ROLL_DAYS:
                    year += 1  # "Onsd. 29.1." after "Onsd. 27.11.": the plan ran into a new year
        if year != base:
            found.clear()
            occurrences, reasons = self.dates(raw, key, year, status, found)
        self.problems.extend(found)
        if occurrences:
            # The item's first day: its own later dates (a list running into January) say
            # nothing about where the next item starts.
            last = occurrences[0].first_day
            prev = self.latest.get(raw.semester)
            if prev is not None and last < prev:
                # Grouped by body ("Styret", then "Lokalstyret"), not by date: no roll-over.
                self.unordered.add(raw.semester)
            self.latest[raw.semester] = last if prev is None else max(prev, last)
        return occurrences, reasons, year

    def dates(
        self, raw: RawItem, key: str, year: int, status: Status | None, problems: list[Problem]
    ) -> tuple[tuple[Occurrence, ...], list[str]]:
        occurrences: list[Occurrence] = []
        reasons: list[str] = []
        index = raw.header.index
        weeks = Column.WEEK in index
        texts = raw.texts(Column.DATES) or ([("", raw.rows[0])] if weeks else [])
        month = raw.cell(raw.rows[0], Column.MONTH, main=True) if Column.MONTH in index else ""
        month = month or raw.month
        for n, (text, row) in enumerate(texts):
            week = raw.cell(row, Column.WEEK, main=n == 0) if weeks else ""
            if not text and not week:
                continue
            time = raw.cell(row, Column.TIME, main=True) if Column.TIME in index else ""
            reading = read_row_dates(
                text,
                year,
                week=week,
                month=month,
                time=time,
                status=combine(status, row.status),
                tz=self.tz,
            )
            if occurrences and reading.occurrences:
                # A continuation row that goes back in the calendar ("17. desember" then
                # "14. januar") continues into the next year, as a list within a cell does.
                last = occurrences[-1].first_day
                if reading.occurrences[0].first_day < last:
                    later = read_row_dates(
                        text,
                        year + 1,
                        week=week,
                        month=month,
                        time=time,
                        status=combine(status, row.status),
                        tz=self.tz,
                    )
                    if later.occurrences and later.occurrences[0].first_day >= last:
                        reading, year = later, year + 1
            found = reading.occurrences
            if row.tentative or raw.rows[0].tentative:
                found = tuple(
                    replace(o, status=Status.TENTATIVE) if o.status is Status.PLANNED else o
                    for o in found
                )
            occurrences.extend(found)
            if reading.undated_reason:
                reasons.append(reading.undated_reason)
            col = Column.DATES if text or Column.WEEK not in raw.header.index else Column.WEEK
            for kind, sev, msg in reading.problems:
                problems.append(Problem(kind, sev, msg, self.where(raw, row, col), key))
        return tuple(occurrences), reasons

    def hints(self, raw: RawItem, key: str, year: int, occurrences: Sequence[Occurrence]) -> None:
        """Dates written only in note columns are listed, not scheduled."""
        scheduled = {o.first_day for o in occurrences}
        for col in (Column.RESPONSIBLE, Column.COMPETENCE, Column.VISIBILITY, Column.NOTES):
            for text, row in raw.texts(col):
                if not _DIGIT.search(text):
                    continue  # every date form of the grammar has a number; skip plain prose
                for occ in date_grammar.find_dates(text, year, tz=self.tz):
                    if occ.first_day in scheduled:
                        continue
                    self.problem(
                        ProblemKind.DATE_HINT,
                        Severity.INFO,
                        f"date in {raw.header.names.get(col, col.value)} is not scheduled: "
                        f"{occ.text or occ.first_day.isoformat()!r} "
                        f"({occ.first_day.isoformat()})",
                        self.where(raw, row, col),
                        key,
                    )

    def people(self, raw: RawItem, key: str) -> tuple[str, ...]:
        order = sorted((i, col) for col, i in raw.header.index.items() if col is not Column.DATES)
        cells = []
        places = []
        for n, row in enumerate(raw.rows):
            for _, col in order:
                text = raw.cell(row, col, main=n == 0)
                if text:
                    cells.append((text, col is Column.RESPONSIBLE))
                    places.append((row, col))
        emails, problems = people_of_texts(cells, self.directory)
        for p, k in problems:
            row, col = places[k]
            self.problem(p.kind, p.severity, p.message, self.where(raw, row, col), key)
        return emails


def _row_status(raw: RawItem, main: Row, title_status: Status | None) -> Status | None:
    """Status words in the title, or a cell that is nothing but a status word ("AVLYST")."""
    status = combine(title_status, main.status)
    if status is Status.CANCELLED:
        return status
    others = [
        i
        for col, i in raw.header.index.items()
        if col not in (Column.TITLE, Column.DATES, Column.TIME) and i < len(main.cells)
    ]
    if not might_have_status(" ".join(main.cells[i].text for i in others)):
        return status  # the hot path: no cell mentions a status word
    for i in others:
        text = main.cells[i].text
        if text and len(text) <= 40:
            words = take_status(text)
            if words.status is not None and not words.text.strip(" .!-–"):
                status = combine(status, words.status)
    return status


def _plan_year(
    doc: Document,
    reading: Reading,
    year: int | None,
    today: date | None,
) -> tuple[int, int | None, Problem | None]:
    """(plan year, first year of a school year, a problem saying how it was chosen)."""
    title = reading.title or ""
    school = doc.school_year or school_year_of(title)
    found = year or doc.year or year_of_title(title) or school
    found = found or next(iter(reading.semester_years), None)
    if found is not None:
        return found, school if not year else (school and year), None
    rows = next((raw.rows[0].year for raw in reading.raws if raw.rows[0].year), None)
    texts = [raw.joined(Column.DATES) for raw in reading.raws]
    written = rows or year_in_dates(texts)
    if written is not None:
        return written, None, None
    chosen = choose_year(texts, today)
    if chosen is None:
        raise PlanError(
            "no year in the plan: the title, headings and dates name none (and no weekdays "
            "tell it); set `plan.year` in the configuration, or pass --year",
            where=Where(doc.name),
        )
    problem = Problem(
        ProblemKind.YEAR,
        Severity.INFO,
        f"no year written: {chosen[0]} is the year the weekdays of {chosen[1]} dates fit",
        Where(doc.name),
    )
    return chosen[0], None, problem


def _weekdays_contradict(
    doc: Document, reading: Reading, plan_year: int, found: list[Problem]
) -> Problem | None:
    """A plan year that its weekdays contradict ("Mars 2023" over 2024's weekdays)."""
    wrong = sum(1 for p in found if p.kind is ProblemKind.WEEKDAY_MISMATCH)
    if wrong < 2:
        return None  # one wrong weekday is a typo, reported where it is
    texts = [raw.joined(Column.DATES) for raw in reading.raws if raw.rows[0].year is None]
    chosen = choose_year(texts, date(plan_year, 6, 1))
    if chosen is None or chosen[0] == plan_year or chosen[2] >= wrong:
        return None
    return Problem(
        ProblemKind.YEAR,
        Severity.ERROR,
        f"{wrong} weekdays do not match {plan_year}, the year the plan gives; the weekdays of "
        f"its dates fit {chosen[0]}: is the year in the title or heading right?",
        Where(doc.name),
    )


def build_plan(
    doc: Document,
    *,
    year: int | None = None,
    people: Iterable[Person] = (),
    aliases: Mapping[str, str] | None = None,
    tz: str = TIMEZONE,
    extra: Mapping[str, str] | None = None,
    today: date | None = None,
) -> Plan:
    """Apply the plan conventions to a document. Raises `PlanError` without table or year.

    `today` is the day the plan is read; only a plan without any year needs it (the weekdays
    choose among the years around it).
    """
    reading = scan(doc)
    if not reading.seen_table:
        raise PlanError(
            "no plan table found (expected a header row with ARBEIDSOPPGAVER and DATO/TID)",
            where=Where(doc.name),
        )
    plan_year, school, how = _plan_year(doc, reading, year, today)
    directory = Directory.build(reading.contacts, people, aliases)
    builder = _ItemBuilder(doc, plan_year, tz, directory, school)
    # "Dette skal vi gjøre i 2022": items out of date order stay in 2022; "frå april 2024 til
    # februar 2025", a school year or no year in the title: the plan may run into the next year.
    title_years = set(_ANY_YEAR.findall(doc.title or reading.title or ""))
    builder.may_roll = school is not None or len(title_years) != 1 or year is not None
    items = tuple(builder.item(raw) for raw in reading.raws)
    problems = [*doc.problems, *reading.problems, *builder.problems]
    if how is not None:
        problems.insert(0, how)
    contradiction = _weekdays_contradict(doc, reading, plan_year, builder.problems)
    if contradiction is not None:
        problems.insert(0, contradiction)
    return Plan(
        title=doc.title or reading.title or "",
        year=plan_year,
        items=items,
        people=directory.people,
        problems=tuple(problems),
        source=doc.name,
        extra={"format": doc.format, **(extra or {})},
    )
