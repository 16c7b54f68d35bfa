"""A reader-neutral table model, and the rules that turn it into a `Plan`.

Every table reader (text export, HTML, DOCX, and the activity list, which is a table with
three columns) produces a `Document`: paragraphs and table rows in reading order, each with
its line (text) or row number (HTML, DOCX). `build_plan` then applies the plan conventions:
columns found by header text, repeated header rows, separator rows, blank rows, continuation
rows (empty title cell) that belong to the item above, semester headings, the title and year,
the contact list, and the per-item reading of dates, measures, visibility and people.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

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
from syncsvc.plan.dates import grammar as date_grammar
from syncsvc.plan.people import Directory, is_contact_heading, parse_contacts, people_of_cells

# --------------------------------------------------------------------------- document model


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    spanned: bool = False  # a copy of a cell merged down from the row above (rowspan, vMerge)


@dataclass(frozen=True, slots=True)
class Row:
    """A table row; `line` is the text line (text export) or the row number (HTML, DOCX)."""

    cells: tuple[Cell, ...]
    line: int | None = None
    tentative: bool = False  # the activity list's trailing "?"

    @classmethod
    def of(cls, *texts: str, line: int | None = None, tentative: bool = False) -> Row:
        return cls(tuple(Cell(t) for t in texts), line, tentative)


@dataclass(frozen=True, slots=True)
class Para:
    """Text outside any table: title, notes, semester headings, the contact list."""

    text: str
    line: int | None = None


Block = Row | Para


@dataclass(frozen=True, slots=True)
class Document:
    name: str  # file name or URL, for `Where`
    blocks: tuple[Block, ...]
    format: str
    problems: tuple[Problem, ...] = ()  # from decoding (e.g. cp1252 fallback)


# --------------------------------------------------------------------------- text helpers

_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """One line of text: whitespace (also no-break and zero-width spaces) collapsed, stripped."""
    return _SPACES.sub(" ", text.replace("\u200b", "").replace("\ufeff", "")).strip()


_SLUG_MAP = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
_SLUG_MAX = 80


def slug(text: str) -> str:
    """ASCII identity slug: 'Våren 2024' -> 'varen-2024' (æ→ae ø→o å→a, other accents dropped)."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(_SLUG_MAP))
        .encode("ascii", "ignore")
        .decode()
        .lower()
    )
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(out) > _SLUG_MAX:
        out = out[:_SLUG_MAX].rsplit("-", 1)[0]
    return out or "item"


def _fold(text: str) -> str:
    """Header text for matching: upper case, no accents (Ø→O), letters only."""
    t = unicodedata.normalize("NFKD", text.upper().replace("Ø", "O").replace("Æ", "AE"))
    return re.sub(r"[^A-Z]", "", t.encode("ascii", "ignore").decode())


# --------------------------------------------------------------------------- columns


class Column(StrEnum):
    TITLE = "title"
    DATES = "dates"
    MEASURES = "measures"
    RESPONSIBLE = "responsible"
    COMPETENCE = "competence"
    VISIBILITY = "visibility"
    NOTES = "notes"


@functools.lru_cache(maxsize=4096)
def column_of(header: str) -> Column | None:
    """Which column a header cell names, tolerant of case, accents, spaces and partial words."""
    f = _fold(header)
    if not f or len(f) > 60:
        return None
    if "KNYTT" in f or "TILTAKNR" in f or "TILTAKSNR" in f:
        return Column.MEASURES
    if "DATO" in f or f in {"TID", "NAR", "TIDSPUNKT", "NARTID", "TIDSROM"}:
        return Column.DATES
    if any(w in f for w in ("ARBEIDSOPPGAVE", "AKTIVITET", "OPPGAVE", "ARRANGEMENT")):
        return Column.TITLE
    if "TILTAK" in f:
        return Column.MEASURES
    if "ANSVAR" in f or "SAMARBEID" in f:
        return Column.RESPONSIBLE
    if "KOMPETANSE" in f:
        return Column.COMPETENCE
    if "SYNLIG" in f:
        return Column.VISIBILITY
    if any(w in f for w in ("NOTAT", "ANNET", "MERKNAD", "KOMMENTAR")):
        return Column.NOTES
    return None


@dataclass(frozen=True, slots=True)
class Header:
    index: Mapping[Column, int]  # column -> cell position
    names: Mapping[Column, str]  # column -> header text as written, for `Where`
    line: int | None


def detect_header(cells: Sequence[str], line: int | None) -> Header | None:
    """A header row names at least two known columns, one of them the title or the dates."""
    index: dict[Column, int] = {}
    names: dict[Column, str] = {}
    for i, text in enumerate(cells):
        col = column_of(text)
        if col is not None and col not in index:
            index[col] = i
            names[col] = clean(text)
    if len(index) < 2 or not ({Column.TITLE, Column.DATES} & index.keys()):
        return None
    if Column.TITLE not in index:
        # No title header: the first column that is not otherwise named carries the title.
        free = [i for i in range(len(cells)) if i not in index.values()]
        if not free:
            return None
        index[Column.TITLE] = free[0]
        names[Column.TITLE] = clean(cells[free[0]]) or "1"
    return Header(index, names, line)


_SEPARATOR_CELL = re.compile(r"^[-=_–—.*~\s]+$")


def _is_separator(cells: Sequence[str]) -> bool:
    filled = [c for c in cells if c]
    return bool(filled) and all(_SEPARATOR_CELL.match(c) for c in filled)


# --------------------------------------------------------------------------- semesters, year

_SEMESTER = re.compile(
    r"^(?P<name>(?:vår|høst|sommer|vinter|haust)\w*|[12]\.\s*(?:halvår|semester|tertial)"
    r"|(?:første|andre)\s+halvår)\s*(?P<year>(?:19|20)\d\d)?\s*:?$",
    re.IGNORECASE,
)
_TITLE_YEAR = re.compile(r"(?:års?plan|plan|aktivitet\w*|kalender)\D{0,20}((?:19|20)\d\d)", re.I)
_ANY_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?![\d.])")


def semester_of(text: str) -> tuple[str, int | None] | None:
    """'Våren 2024' -> ('Våren 2024', 2024); 'Høsten' -> ('Høsten', None); else None."""
    m = _SEMESTER.match(text)
    if not m:
        return None
    return text.rstrip(":").strip(), int(m["year"]) if m["year"] else None


def year_of_title(title: str) -> int | None:
    m = _TITLE_YEAR.search(title) or _ANY_YEAR.search(title)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------- building


@dataclass
class _Raw:
    """An item while its rows are collected (main row, then continuation rows)."""

    header: Header
    semester: str | None
    semester_year: int | None
    rows: list[Row] = field(default_factory=list)

    def cell(self, row: Row, col: Column, *, main: bool) -> str:
        i = self.header.index.get(col)
        if i is None or i >= len(row.cells):
            return ""
        c = row.cells[i]  # already cleaned by _scan
        return "" if c.spanned and not main else c.text

    def texts(self, col: Column) -> list[tuple[str, Row]]:
        out = []
        for n, row in enumerate(self.rows):
            t = self.cell(row, col, main=n == 0)
            if t:
                out.append((t, row))
        return out

    def joined(self, col: Column) -> str:
        return "\n".join(t for t, _ in self.texts(col))


@dataclass
class _Reading:
    raws: list[_Raw] = field(default_factory=list)
    title: str | None = None
    semester_years: list[int] = field(default_factory=list)
    contacts: list[Person] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seen_table: bool = False


_NAME_LINE = re.compile(r"^[A-ZÆØÅ][\w.'’-]*(?: [A-ZÆØÅ][\w.'’-]*){0,4}$")


def _scan(doc: Document) -> _Reading:
    r = _Reading()
    header: Header | None = None
    semester: str | None = None
    semester_year: int | None = None
    current: _Raw | None = None
    in_contacts = False
    pending_name = ""
    first_para: str | None = None
    for block in doc.blocks:
        if isinstance(block, Para):
            text = clean(block.text)
            if not text:
                continue
            if in_contacts and pending_name:
                text, pending_name = f"{pending_name} {text}", ""
            if is_contact_heading(text) or (in_contacts and parse_contacts(text)):
                in_contacts = True
                r.contacts.extend(parse_contacts(text))
                current = None
                continue
            if in_contacts and _NAME_LINE.match(text):
                pending_name = text  # "Linda M. Tindholm" with the e-mail on the next line
                continue
            in_contacts = False
            current = None
            sem = semester_of(text)
            if sem is not None:
                semester, semester_year = sem
                if semester_year is not None:
                    r.semester_years.append(semester_year)
                continue
            if first_para is None:
                first_para = text
            if r.title is None and not r.seen_table and year_of_title(text) is not None:
                r.title = text
            continue
        block = Row(
            tuple(Cell(clean(c.text), c.spanned) for c in block.cells), block.line, block.tentative
        )
        cells = [c.text for c in block.cells]
        if not any(cells):
            continue  # a blank row does not end the item above: continuation rows may follow
        if in_contacts:
            found = parse_contacts(" ".join(cells))
            if found:
                r.contacts.extend(found)
                continue
            in_contacts = False
        if _is_separator(cells):
            continue
        found_header = detect_header(cells, block.line)
        if found_header is not None:
            if Column.DATES not in found_header.index:
                raise PlanError(
                    "the plan table has no date column (expected a header like DATO/TID)",
                    where=Where(doc.name, block.line),
                )
            header, current = found_header, None
            r.seen_table = True
            continue
        filled = [c for c in cells if c]
        if len(filled) == 1 and cells[0] and (sem := semester_of(cells[0])) is not None:
            semester, semester_year = sem  # a semester heading inside the table
            if semester_year is not None:
                r.semester_years.append(semester_year)
            current = None
            continue
        if header is None:
            continue  # rows before the plan table's header (layout tables and the like)
        t = header.index[Column.TITLE]
        title_cell = block.cells[t] if t < len(block.cells) else Cell("")
        if not title_cell.text or title_cell.spanned:
            if current is not None:
                current.rows.append(block)
            else:
                r.problems.append(
                    Problem(
                        ProblemKind.OTHER,
                        Severity.WARNING,
                        "a row without a title and no item above it; ignored",
                        Where(doc.name, block.line, header.names[Column.TITLE]),
                    )
                )
            continue
        current = _Raw(header, semester, semester_year, [block])
        r.raws.append(current)
    if r.title is None:
        r.title = first_para
    return r


_DIGIT = re.compile(r"\d")
_HVA_SKJER = re.compile(r"hva\W*skjer", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\d.,])\d{1,4}(?![\d.,]\d)")


def measures_of(text: str) -> tuple[int, ...]:
    """'2 7 15 16' -> (2, 7, 15, 16); '1, 5' -> (1, 5)."""
    return tuple(int(n) for n in _NUMBER.findall(text))


def is_public(visibility: str) -> bool:
    """SYNLIGGJØRING mentions the 'Hva skjer' calendar, whatever the quotes and case."""
    return bool(_HVA_SKJER.search(visibility))


@dataclass
class _ItemBuilder:
    doc: Document
    year: int
    tz: str
    directory: Directory
    keys: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, raw: _Raw, row: Row, col: Column) -> Where:
        return Where(self.doc.name, row.line, raw.header.names.get(col))

    def problem(self, kind: ProblemKind, sev: Severity, msg: str, where: Where, key: str) -> None:
        self.problems.append(Problem(kind, sev, msg, where, key))

    def key_for(self, raw: _Raw, title: str) -> tuple[str, bool]:
        base = f"{slug(raw.semester or 'plan')}/{slug(title)}"
        n = self.keys.get(base, 0) + 1
        self.keys[base] = n
        return (base if n == 1 else f"{base}-{n}"), n > 1

    def item(self, raw: _Raw) -> PlanItem:
        main = raw.rows[0]
        title = raw.cell(main, Column.TITLE, main=True)
        key, duplicate = self.key_for(raw, title)
        year = raw.semester_year or self.year
        occurrences, reasons = self.dates(raw, key, year)
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
            public=is_public(raw.joined(Column.VISIBILITY)),
            responsible_text=raw.joined(Column.RESPONSIBLE),
            competence=raw.joined(Column.COMPETENCE),
            visibility=raw.joined(Column.VISIBILITY),
            notes=raw.joined(Column.NOTES),
            where=self.where(raw, main, Column.TITLE),
        )

    def dates(self, raw: _Raw, key: str, year: int) -> tuple[tuple[Occurrence, ...], list[str]]:
        occurrences: list[Occurrence] = []
        reasons: list[str] = []
        for text, row in raw.texts(Column.DATES):
            reading = date_grammar.read_dates(text, year, tz=self.tz)
            if occurrences and reading.occurrences:
                # A continuation row that goes back in the calendar ("17. desember" then
                # "14. januar") continues into the next year, as a list within a cell does.
                last = occurrences[-1].first_day
                if reading.occurrences[0].first_day < last:
                    later = date_grammar.read_dates(text, year + 1, tz=self.tz)
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
            for kind, sev, msg in reading.problems:
                self.problem(kind, sev, msg, self.where(raw, row, Column.DATES), key)
        return tuple(occurrences), reasons

    def hints(self, raw: _Raw, key: str, year: int, occurrences: Sequence[Occurrence]) -> None:
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

    def people(self, raw: _Raw, key: str) -> tuple[str, ...]:
        order = sorted((i, col) for col, i in raw.header.index.items() if col is not Column.DATES)
        cells = []
        for n, row in enumerate(raw.rows):
            for _, col in order:
                text = raw.cell(row, col, main=n == 0)
                cells.append((text, self.where(raw, row, col), col is Column.RESPONSIBLE))
        result = people_of_cells(cells, self.directory)
        for p, where in result.problems:
            self.problem(p.kind, p.severity, p.message, where, key)
        return result.emails


def build_plan(
    doc: Document,
    *,
    year: int | None = None,
    people: Iterable[Person] = (),
    aliases: Mapping[str, str] | None = None,
    tz: str = TIMEZONE,
    extra: Mapping[str, str] | None = None,
) -> Plan:
    """Apply the plan conventions to a document. Raises `PlanError` without table or year."""
    reading = _scan(doc)
    if not reading.seen_table:
        raise PlanError(
            "no plan table found (expected a header row with ARBEIDSOPPGAVER and DATO/TID)",
            where=Where(doc.name),
        )
    title = reading.title or ""
    plan_year = year or year_of_title(title) or next(iter(reading.semester_years), None)
    if plan_year is None:
        raise PlanError(
            "no year in the title or semester headings; set `year` in the configuration",
            where=Where(doc.name),
        )
    directory = Directory.build(reading.contacts, people, aliases)
    builder = _ItemBuilder(doc, plan_year, tz, directory)
    items = tuple(builder.item(raw) for raw in reading.raws)
    return Plan(
        title=title,
        year=plan_year,
        items=items,
        people=directory.people,
        problems=(*doc.problems, *reading.problems, *builder.problems),
        source=doc.name,
        extra={"format": doc.format, **(extra or {})},
    )
