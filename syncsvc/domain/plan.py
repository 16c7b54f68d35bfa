"""The plan as values: what every reader produces and everything downstream consumes.

Pure data, no I/O. Timed occurrences are timezone-aware datetimes in Europe/Oslo; all-day
occurrences are dates with an *exclusive* end (a one-day event on 7 March ends 8 March).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from syncsvc.domain.errors import Where

TIMEZONE = "Europe/Oslo"


class Status(StrEnum):
    PLANNED = "planned"
    TENTATIVE = "tentative"  # a trailing "?" in the plan
    DONE = "done"  # "OK", "Gjennomført"
    CANCELLED = "cancelled"  # "AVLYST", "avlyses": never created; an existing event is removed


class Severity(StrEnum):
    ERROR = "error"  # `plan check` exits 1
    WARNING = "warning"
    INFO = "info"


class ProblemKind(StrEnum):
    UNDATED = "undated"  # the item has no date we can schedule ("?", "Dato kommer", ...)
    UNKNOWN_PERSON = "unknown-person"
    AMBIGUOUS_PERSON = "ambiguous-person"
    ROLE = "role"  # a role, not a person ("v/leder")
    WEEKDAY_MISMATCH = "weekday-mismatch"  # "mandag 16. januar" when 16 Jan is a Tuesday
    DATE_HINT = "date-hint"  # a date in a note column: listed, not scheduled
    UNPARSED_DATE = "unparsed-date"  # date text we could not read at all
    DUPLICATE_ITEM = "duplicate-item"
    UNMATCHED_OVERRIDE = "unmatched-override"  # an override rule that matches no item
    UNKNOWN_STATUS = "unknown-status"  # "UTSATT": a word about the date we do not understand
    YEAR = "year"  # the year was chosen from weekdays, or the weekdays contradict it
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One dated happening of an item."""

    start: date | datetime
    end: date | datetime  # exclusive; same type as start
    status: Status = Status.PLANNED
    topic: str | None = None  # "Kartleggingen" in "Tirsdagsmøtet 16. Januar – Kartleggingen"
    text: str = ""  # the piece of date text this came from, for messages

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def first_day(self) -> date:
        return self.start.date() if isinstance(self.start, datetime) else self.start


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in the plan's directory (the contact list at its end, plus config)."""

    name: str  # full name as written: "Marit Andersen Somby"
    email: str  # lower-case; the person's identity
    aliases: tuple[str, ...] = ()  # extra names that refer to this person

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    severity: Severity
    message: str
    where: Where | None = None
    item_key: str | None = None


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One activity of the plan (a table row with its continuation rows, or a list line)."""

    key: str  # stable identity within the plan: semester slug + "/" + title slug (+ "-2" ...)
    title: str
    occurrences: tuple[Occurrence, ...] = ()
    date_text: str = ""  # the date cell as written (continuation rows joined with "\n")
    semester: str | None = None  # "Våren 2024"
    people: tuple[str, ...] = ()  # e-mails of responsible people, in order of mention
    measures: tuple[int, ...] = ()  # "KNYTTET TIL TILTAK NR"
    public: bool = False  # SYNLIGGJØRING clearly puts it in the "Hva skjer" calendar
    public_topics: bool = False  # ... and its per-date topics too ("Temaoversikt i Hva skjer")
    responsible_text: str = ""  # SAMARBEID/ANSVAR as written
    competence: str = ""  # KOMPETANSE
    visibility: str = ""  # SYNLIGGJØRING
    notes: str = ""  # ANNET EGNE NOTATER
    where: Where | None = None

    @property
    def dated(self) -> bool:
        return bool(self.occurrences)


@dataclass(frozen=True, slots=True)
class Plan:
    title: str
    year: int
    items: tuple[PlanItem, ...]
    people: tuple[Person, ...] = ()
    problems: tuple[Problem, ...] = ()
    source: str = ""  # path or URL it was read from
    extra: dict[str, str] = field(default_factory=dict)  # reader metadata (format, etag, ...)

    def person(self, email: str) -> Person | None:
        email = email.lower()
        return next((p for p in self.people if p.email == email), None)

    @property
    def undated(self) -> tuple[PlanItem, ...]:
        return tuple(i for i in self.items if not i.occurrences)

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)
