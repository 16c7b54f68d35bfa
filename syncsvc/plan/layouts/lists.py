"""The list layout: a plan written as lines under month (or season, or year) headings.

    Haust 22                      a season heading: groups the items, gives the year
    August                        a month heading: day-only dates below take its month
     22.august  Skulestart …      date then title ("22. Formannskap", "Tirsdag 22.august …")
    Første skuledag: 21. august   title then date
    4.                            a date line whose title is the next line
    Foreldremøte
    Lokalstyret                   a heading that names the body for the dates under it
    Tirsdag 16. januar
    Foreldrekveld i mars/april    date-like but not a date: an undated item, reported

Pure. The lines become rows of a three-column plan table (activity, date, notes) with the year
each row's dates are in, so they follow the plan table's rules (semesters, contact list,
people, keys, problems). Lines before the first heading of a document that has month headings
are its preamble (title, notes); their dates are hints, not activities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from syncsvc.domain.errors import Where
from syncsvc.domain.plan import Problem, ProblemKind, Severity, Status
from syncsvc.plan.columns import year_of_title
from syncsvc.plan.dates import grammar as date_grammar
from syncsvc.plan.document import Block, Document, Para, Row, clean
from syncsvc.plan.layouts.records import merge_records
from syncsvc.plan.lines import DatedLine, is_date_like, read_line
from syncsvc.plan.people import is_contact_heading
from syncsvc.plan.rowdates import misspelt_months
from syncsvc.plan.status import combine
from syncsvc.plan.years import (
    in_school_year,
    month_heading,
    school_year_of,
    season_of,
    year_heading,
)

HEADER = ("AKTIVITET", "DATO", "NOTATER")
PROSE_WORDS = 12  # a line this long whose date comes after its eighth word is prose
# A web page's own dates: when it was published or changed, not an activity.
_META = re.compile(
    r"^\s*(?:publisert|sist\s+(?:endret|endra|oppdatert|redigert)|oppdatert|endret|endra"
    r"|skrevet|postet|lagt\s+ut|opprettet|oppretta|dato\s+for\s+publisering)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    line: int | None
    indented: bool = False
    heading: bool = False


def lines_of(doc: Document) -> list[Line]:
    """Every paragraph, and every row read as one line (cells joined), in order."""
    out: list[Line] = []
    for block in doc.blocks:
        if isinstance(block, Para):
            for part in block.text.split("\n"):
                if part.strip():
                    out.append(Line(clean(part), block.line, part[:1].isspace(), block.heading))
        else:
            texts = [clean(c.text) for c in block.cells if not c.spanned and c.text.strip()]
            if texts:
                out.append(Line("   ".join(texts), block.line))
    return out


@dataclass
class _Item:
    title: str
    date_text: str
    notes: list[str]
    line: int | None
    year: int | None
    status: Status | None
    semester: str | None


@dataclass
class _State:
    doc: Document
    blocks: list[Block] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    month: int | None = None
    prev_month: int | None = None
    year: int | None = None  # from a year, season or month heading
    school_year: int | None = None
    body: str | None = None  # "Lokalstyret": the title of the date lines under it
    candidate: Line | None = None  # a text line that may be the heading of the lines below
    pending: tuple[DatedLine, Line] | None = None  # a date line waiting for its title line
    last: _Item | None = None
    started: bool = False
    header_done: bool = False
    season: tuple[int, int] | None = None  # (year, rank) of the last season heading

    def where(self, line: Line) -> Where:
        return Where(self.doc.name, line.line)

    def para(self, line: Line) -> None:
        self.drop_candidate()
        self.blocks.append(Para(line.text, line.line, line.heading))

    def drop_candidate(self) -> None:
        if self.candidate is not None:
            line, self.candidate = self.candidate, None
            self.blocks.append(Para(line.text, line.line, line.heading))

    def row_year(self, dated: DatedLine) -> int | None:
        if self.year is not None:
            return self.year
        if self.school_year is not None:
            month = self.month or _first_month(dated.date_text)
            if month is not None:
                return in_school_year(self.school_year, month)
        return None

    def emit(self, dated: DatedLine, line: Line, title: str, notes: str = "") -> None:
        if not self.header_done:
            self.blocks.append(Row.of(*HEADER, line=line.line))
            self.header_done = True
        item = _Item(
            title, dated.date_text, [n for n in (notes, dated.notes) if n], line.line,
            self.row_year(dated), dated.status, None,
        )  # fmt: skip
        for word in dated.unknown_status:
            self.problems.append(
                Problem(
                    ProblemKind.UNKNOWN_STATUS,
                    Severity.WARNING,
                    f"{word!r}: not a status we know; read as planned",
                    self.where(line),
                )
            )
        self.blocks.append(_row(item))
        self.last = item

    def flush_pending(self) -> None:
        if self.pending is None:
            return
        dated, line = self.pending
        self.pending = None
        self.emit(dated, line, self.body or self.doc_title())

    def doc_title(self) -> str:
        # A date line with no title anywhere: the plan's own title names it ("Øvingsplan …"),
        # found as the plan table finds it (the first paragraph with a year, or the first).
        paras = [b.text.strip() for b in self.blocks if isinstance(b, Para) and b.text.strip()]
        with_year = [p for p in paras if year_of_title(p) is not None]
        return (with_year or paras or ["Aktivitet"])[0]


def _row(item: _Item) -> Row:
    return Row.of(
        item.title,
        item.date_text,
        "\n".join(item.notes),
        line=item.line,
        year=item.year,
        status=item.status,
    )


def _first_month(date_text: str) -> int | None:
    reading = date_grammar.read_dates(date_text, 2000)
    return reading.occurrences[0].first_day.month if reading.occurrences else None


def _is_heading_text(text: str) -> bool:
    """Short text without a sentence: may name the body of the dates below ("Lokalstyret")."""
    return len(text) <= 60 and len(text.split()) <= 6 and not text.endswith((".", "!", "?"))


def read_list(doc: Document) -> Document:
    """The rows of a list-shaped plan (see the module docstring)."""
    lines = merge_records(lines_of(doc))
    has_months = any(month_heading(line.text) for line in lines)
    st = _State(doc)
    title_text = next((line.text for line in lines[:6] if school_year_of(line.text)), None)
    st.school_year = school_year_of(title_text) if title_text else None
    in_contacts = False
    for line in lines:
        text = line.text
        if in_contacts or is_contact_heading(text):
            in_contacts = True
            st.flush_pending()
            st.para(line)
            continue
        heading = month_heading(text)
        if heading is not None:
            st.flush_pending()
            st.drop_candidate()
            st.body, st.started = None, True
            month, year = heading
            if year is not None:
                st.year = year
            elif st.year is not None and st.prev_month is not None and month < st.prev_month:
                st.year += 1  # "Desember 2018", then "Januar": the next year
            st.month = st.prev_month = month
            continue
        yh = year_heading(text)
        season = season_of(text) if yh is None else None
        if yh is not None or season is not None:
            st.flush_pending()
            st.drop_candidate()
            st.body, st.month, st.prev_month, st.started = None, None, None, True
            if season is not None:
                st.para(line)  # the plan table's semester heading
                st.year = season[1] if season[1] is not None else st.year
                _check_season_order(st, line, season)
            else:
                st.year = yh
            continue
        dated = read_line(text, month=st.month) if (st.started or not has_months) else None
        prose = dated is not None and (
            (dated.words >= PROSE_WORDS and dated.words_before >= 8)
            or _META.match(text) is not None
        )
        if prose:
            dated = None  # a date in prose or a page's "Publisert 19.04.2021": a hint
        if dated is None and (prose or (not st.started and has_months)) and read_line(text):
            st.para(line)  # a dated line in the preamble ("Vedteken 7. desember 2023")
            st.problems.append(
                Problem(
                    ProblemKind.DATE_HINT,
                    Severity.INFO,
                    f"a date in prose or before the plan's first heading is not scheduled: "
                    f"{text!r}",
                    st.where(line),
                )
            )
            continue
        if dated is not None:
            _dated(st, dated, line)
            continue
        _text(st, line, has_months)
    st.flush_pending()
    st.drop_candidate()
    return Document(
        doc.name,
        tuple(st.blocks),
        doc.format,
        (*doc.problems, *st.problems),
        title=doc.title,
        year=doc.year,
        school_year=st.school_year,
    )


_SEASON_RANK = {"vin": 0, "vår": 1, "som": 2, "hau": 3, "høs": 3}


def _check_season_order(st: _State, line: Line, season: tuple[str, int | None]) -> None:
    """'Haust 22' then 'Vår 2022': the plan would go back in time; the year is likely wrong."""
    name, year = season
    rank = _SEASON_RANK.get(name.lower()[:3])
    if rank is None or year is None:
        return
    now = (year, rank)
    if st.season is not None and now < st.season:
        st.problems.append(
            Problem(
                ProblemKind.YEAR,
                Severity.WARNING,
                f"{name!r} comes after a later season; its dates are read in {year}: is the "
                "year right?",
                st.where(line),
            )
        )
    st.season = now


def _dated(st: _State, dated: DatedLine, line: Line) -> None:
    if st.pending is not None and dated.title and not dated.date_first:
        # "6.-17." then "Barnehagen sommerstengt i uke 28 og 29.": the title line of the date
        # above mentions its dates again; it is not an activity of its own.
        _text(st, line, True)
        return
    st.flush_pending()
    if not dated.title:
        if st.candidate is not None and _is_heading_text(st.candidate.text):
            st.body, st.candidate = st.candidate.text, None
        st.drop_candidate()
        if st.body is not None:
            st.emit(dated, line, st.body)
        else:
            st.pending = (dated, line)
        return
    if (
        st.candidate is not None
        and dated.title[:1].islower()
        and _is_heading_text(st.candidate.text)
    ):
        # "Årsmøte" / "Torsdag 14. mars kl. 19.00 på Grendehuset": the heading is the title.
        st.body, st.candidate = st.candidate.text, None
    if st.body is not None and dated.title[:1].islower():
        st.emit(dated, line, st.body, dated.title)
        return
    st.drop_candidate()
    st.body = None
    st.emit(dated, line, dated.title)


def _text(st: _State, line: Line, has_months: bool) -> None:
    text = line.text
    if st.pending is not None:
        # A date line, then its title on the next line: read them as one line.
        dated, date_line = st.pending
        st.pending = None
        joined = read_line(f"{dated.date_text} {text}")
        if joined is not None and joined.title:
            status = combine(dated.status, joined.status)
            st.emit(
                DatedLine(joined.date_text, joined.title, joined.notes, status), date_line,
                joined.title,
            )  # fmt: skip
            return
        st.emit(dated, date_line, st.body or st.doc_title())
    problems = misspelt_months(text)
    if (st.started or not has_months) and (problems or is_date_like(text)):
        st.drop_candidate()
        st.body = None
        if not st.header_done:
            st.blocks.append(Row.of(*HEADER, line=line.line))
            st.header_done = True
        st.blocks.append(Row.of(text, text, "", line=line.line, year=st.year))
        st.last = None
        return
    if line.indented and st.last is not None and st.candidate is None:
        st.last.notes.append(text)
        st.blocks[-1] = _row(st.last) if isinstance(st.blocks[-1], Row) else st.blocks[-1]
        return
    st.drop_candidate()
    st.candidate = line
    st.body = None
