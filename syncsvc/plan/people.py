"""Who is responsible: the plan's contact directory and the names mentioned in its cells.

The directory is the contact list at the end of the plan ("Kontaktpersoner ved spørsmål:" then
"Name email" lines) plus people and aliases from the configuration. Cells name people loosely
("v/Linda/Marit", "v/ Ellen og Marit", "Team: Linda, Trine og Tone", "Ansvarlig Tone"); a name
is matched by full name, alias or first name, case-insensitively. Whatever cannot be matched to
exactly one person is reported (role, unknown, ambiguous), never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from syncsvc.domain.errors import Where
from syncsvc.domain.plan import Person, ProblemKind, Severity

_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_NAME_WORD = r"[A-ZÆØÅÄÖÜÉÈÁ][\wæøåäöüéèáÆØÅÄÖÜÉ'’.-]*"
# "Ellen Berg Larsen ellen.larsen@tromsfylke.no", "Linda M. Tindholm <linda@x.no>", "Tone: tone@x"
_CONTACT = re.compile(
    rf"(?P<name>{_NAME_WORD}(?:[ \t]+{_NAME_WORD})*)[ \t]*[:,(<–-]?[ \t]*"
    rf"(?:mailto:)?(?P<email>{_EMAIL})"
)
_CONTACT_HEADING = re.compile(r"^\s*kontaktperson(?:er)?\b", re.IGNORECASE)

# Words that name organisations or places, not people: never a person, never a problem.
_ORGANISATIONS = frozenset(
    {
        "fylkesbiblioteket",
        "fylkesbibliotek",
        "folkebibliotekene",
        "folkebiblioteket",
        "folkebibliotek",
        "studiebibliotekene",
        "nasjonalbiblioteket",
        "biblioteket",
        "bibliotekene",
        "ub",
        "uit",
        "finnmark",
        "senja",
        "troms",
        "tromsø",
        "harstad",
        "skjervøy",
        "kommunene",
        "kommunen",
        "skolene",
        "barnehagene",
        "andre",
        "alle",
    }
)
_ORG_SUFFIXES = (
    "biblioteket",
    "bibliotekene",
    "kommune",
    "kommunen",
    "kommunene",
    "fylkeskommune",
    "universitetet",
    "skolen",
    "skolene",
    "senteret",
    "rådet",
    "samarbeidet",
    "samarbeidene",
    "regionen",
    "regionene",
    "prosjektet",
    "forbundet",
    "foreningen",
)
# Roles stand where a person should: "v/leder", "v/rådgiver".
_ROLES = frozenset(
    {
        "leder",
        "ledere",
        "rådgiver",
        "rådgivere",
        "seniorrådgiver",
        "biblioteksjef",
        "biblioteksjefer",
        "bibliotekar",
        "bibliotekarer",
        "konsulent",
        "fagkonsulent",
        "avdelingsleder",
        "prosjektleder",
        "koordinator",
        "fylkesbibliotekar",
        "sekretær",
        "kontaktperson",
        "daglig",
        "direktør",
        "ansatte",
    }
)
_ROLE_SUFFIXES = ("leder", "rådgiver", "konsulent", "bibliotekar", "sjef", "koordinator")
# Lower-case words after "v/" that are prose, not a role ("v/behov").
_PROSE = frozenset({"behov", "hjelp", "at", "å", "en", "et", "ei", "de", "den", "det"})

_SEPARATOR = re.compile(r"\s*(?:/|,|&|\+|\bog\b|\band\b)\s*", re.IGNORECASE)
_WORD = re.compile(r"[\wæøåÆØÅ'’.-]+")


class Trigger:
    """What introduced a name list; decides whether unknown names are reported."""

    V = "v/"  # "v/Linda", "V/Ellen", "v/ Tone": people or a role
    VED = "ved"  # prose word too: only known names count, unknown words are ignored
    ANSVARLIG = "Ansvarlig"
    TEAM = "Team:"


_TRIGGERS = re.compile(
    r"(?<![\w/])(?:(?P<v>[vV]\s*/)|(?P<ved>[vV]ed\b)|(?P<ansvarlig>[aA]nsvarlige?\b\s*:?)"
    r"|(?P<team>[tT]eam\s*:))\s*"
)
_KONTAKT = re.compile(r"kontaktperson(?:er)?\b[^:\n]*:", re.IGNORECASE)
_DASH_NAME = re.compile(rf"\s[–—-]\s*(?P<name>{_NAME_WORD})")
_NAME_RE = re.compile(_NAME_WORD)
_BLANKS = re.compile(r"[ \t]+")
_BARE_NAME = re.compile(rf"(?<![\w@/.-]){_NAME_WORD}")


def _norm(name: str) -> str:
    return " ".join(name.replace("’", "'").split()).casefold()


@dataclass(frozen=True, slots=True)
class PersonProblem:
    kind: ProblemKind
    severity: Severity
    message: str
    name: str


_Found = tuple[tuple[tuple[int, str], ...], tuple[PersonProblem, ...]]
_LOOKED_MAX = 4096  # distinct names remembered per directory; more are looked up each time


@dataclass(frozen=True)
class Directory:
    """Everyone a plan can name, with lookup indexes by full name, alias and first name."""

    people: tuple[Person, ...] = ()
    _full: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    _first: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    # find_people per (cell text, responsible column): tables repeat their cells row after row.
    _found: dict[tuple[str, bool], _Found] = field(default_factory=dict, repr=False, compare=False)
    # lookup per name as written: distinct cells still name the same few people and places.
    _looked: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        found: Iterable[Person] = (),
        config: Iterable[Person] = (),
        aliases: Mapping[str, str] | None = None,
    ) -> Directory:
        """Merge the plan's contacts with config people and aliases (config wins on names)."""
        by_email: dict[str, Person] = {}
        for person in (*found, *config):
            email = person.email.strip().lower()
            old = by_email.get(email)
            merged_aliases = tuple(dict.fromkeys((*(old.aliases if old else ()), *person.aliases)))
            by_email[email] = Person(name=person.name.strip(), email=email, aliases=merged_aliases)
        for alias, email in (aliases or {}).items():
            email = email.strip().lower()
            old = by_email.get(email)
            if old is None:
                by_email[email] = Person(name=alias.strip(), email=email)
            elif alias not in old.aliases:
                by_email[email] = Person(old.name, old.email, (*old.aliases, alias.strip()))
        full: dict[str, list[str]] = {}
        first: dict[str, list[str]] = {}
        for person in by_email.values():
            words = person.name.split()
            names = {person.name, *person.aliases}
            if len(words) > 2:
                names.add(f"{words[0]} {words[-1]}")  # "Linda Tindholm" for "Linda M. Tindholm"
            for name in names:
                full.setdefault(_norm(name), []).append(person.email)
            if words:
                first.setdefault(_norm(words[0]), []).append(person.email)
        return cls(
            people=tuple(by_email.values()),
            _full={k: tuple(dict.fromkeys(v)) for k, v in full.items()},
            _first={k: tuple(dict.fromkeys(v)) for k, v in first.items()},
        )

    def lookup(self, name: str) -> tuple[str, ...]:
        """E-mails the name may mean: () unknown, one match, or several (ambiguous)."""
        found = self._looked.get(name)
        if found is None:
            key = _norm(name)
            if key in self._full:
                found = self._full[key]
            elif " " not in key and key in self._first:
                found = self._first[key]
            else:
                found = ()
            if len(self._looked) < _LOOKED_MAX:
                self._looked[name] = found
        return found


def is_contact_heading(text: str) -> bool:
    """`Kontaktpersoner ved spørsmål:` (a paragraph, not a cell that merely mentions contacts)."""
    return bool(_CONTACT_HEADING.match(text)) and ":" in text


def parse_contacts(text: str) -> list[Person]:
    """Every `Name email` pair in a line of the contact list."""
    out = []
    for m in _CONTACT.finditer(text):
        name = " ".join(m["name"].split())
        out.append(Person(name=name, email=m["email"].lower()))
    return out


def is_organisation(word: str) -> bool:
    bare = word.strip(".,;:!?()'’\"«»").casefold()
    if bare in _ORGANISATIONS:
        return True
    if len(bare) >= 2 and word.strip(".,;:!?()").isupper():
        return True  # an acronym: UB, UIT, NB
    return len(bare) > 8 and bare.endswith(_ORG_SUFFIXES)


def is_role(word: str) -> bool:
    bare = word.strip(".,;:!?()").casefold()
    return bare in _ROLES or (len(bare) > 4 and bare.endswith(_ROLE_SUFFIXES))


@dataclass
class _Scan:
    directory: Directory
    mentions: list[tuple[int, str]] = field(default_factory=list)  # (position, email)
    problems: list[PersonProblem] = field(default_factory=list)

    def person(self, pos: int, name: str, emails: Sequence[str]) -> None:
        if len(emails) == 1:
            self.mentions.append((pos, emails[0]))
        else:
            self.problems.append(
                PersonProblem(
                    ProblemKind.AMBIGUOUS_PERSON,
                    Severity.WARNING,
                    f"{name!r} may be any of {', '.join(emails)}; use a full name or an alias",
                    name,
                )
            )

    def unknown(self, name: str) -> None:
        self.problems.append(
            PersonProblem(
                ProblemKind.UNKNOWN_PERSON,
                Severity.WARNING,
                f"{name!r} is not in the contact list or the configured people",
                name,
            )
        )

    def role(self, word: str) -> None:
        self.problems.append(
            PersonProblem(
                ProblemKind.ROLE,
                Severity.WARNING,
                f"{word!r} is a role, not a person; name who it is",
                word,
            )
        )


def _capitalised_run(text: str, pos: int) -> list[re.Match[str]]:
    """The words from `pos` on that look like parts of a name (capitalised, or an initial)."""
    run: list[re.Match[str]] = []
    while True:
        m = _NAME_RE.match(text, pos)
        if not m:
            return run
        run.append(m)
        nxt = _BLANKS.match(text, m.end())
        if not nxt or m.group().endswith((",", ":", "?", ")")):
            return run
        pos = nxt.end()


def _scan_list(scan: _Scan, text: str, pos: int, trigger: str) -> None:
    """Read `Name (sep Name)*` at `pos`, as introduced by `trigger`."""
    first = True
    while pos < len(text):
        run = _capitalised_run(text, pos)
        if run:
            # Longest run of words that is a known full name or alias, else the first word.
            for k in range(len(run), 0, -1):
                name = text[run[0].start() : run[k - 1].end()].rstrip(".,;:!?")
                emails = scan.directory.lookup(name)
                if emails:
                    scan.person(run[0].start(), name, emails)
                    pos = run[k - 1].end()
                    break
            else:
                word = run[0].group().rstrip(".,;:!?")
                if is_role(word):
                    scan.role(word)
                elif trigger != Trigger.VED and not is_organisation(word):
                    scan.unknown(word)
                pos = run[0].end()
        else:
            m = _WORD.match(text, pos)
            if m:
                word = m.group().rstrip(".,;:!?")
                prose = word.casefold() in _PROSE
                if (first and trigger == Trigger.V and not prose) or is_role(word):
                    scan.role(word)
            return  # a list goes on only with names
        first = False
        sep = _SEPARATOR.match(text, pos)
        if not sep or sep.end() == pos:
            return
        pos = sep.end()


def _scan_kontakt(scan: _Scan, text: str, start: int) -> None:
    """`Kontaktpersoner …: Nord-Troms – Tone Midt-Troms – Ellen`: known names; dash-led unknowns."""
    for m in _BARE_NAME.finditer(text, start):
        emails = scan.directory.lookup(m.group().rstrip(".,;:!?"))
        if emails:
            scan.person(m.start(), m.group(), emails)
    for m in _DASH_NAME.finditer(text, start):
        name = m["name"].rstrip(".,;:!?")
        if not scan.directory.lookup(name) and not is_organisation(name) and "-" not in name:
            if is_role(name):
                scan.role(name)
            else:
                scan.unknown(name)


def find_people(
    text: str, directory: Directory, *, responsible_column: bool = False
) -> tuple[list[tuple[int, str]], list[PersonProblem]]:
    """People named in one cell: (position, email) in text order, and what could not be matched.

    In the SAMARBEID/ANSVAR column a known name counts wherever it stands; elsewhere only after
    `v/`, `ved`, `Ansvarlig`, `Team:` or in a `Kontaktpersoner …:` list.
    """
    if not responsible_column and not _may_name(text):
        return [], []  # most cells outside that column: nothing introduces a name
    return _scan_cell(text, directory, responsible_column)


def _may_name(text: str) -> bool:
    """Whether a cell outside the responsible column has what introduces a name."""
    return _TRIGGERS.search(text) is not None or _KONTAKT.search(text) is not None


def _scan_cell(
    text: str, directory: Directory, responsible_column: bool
) -> tuple[list[tuple[int, str]], list[PersonProblem]]:
    scan = _Scan(directory)
    for m in _TRIGGERS.finditer(text):
        trigger = (
            Trigger.V
            if m["v"]
            else Trigger.VED
            if m["ved"]
            else Trigger.ANSVARLIG
            if m["ansvarlig"]
            else Trigger.TEAM
        )
        _scan_list(scan, text, m.end(), trigger)
    kontakt = _KONTAKT.search(text)
    if kontakt:
        _scan_kontakt(scan, text, kontakt.end())
    if responsible_column:
        for m in _BARE_NAME.finditer(text):
            emails = directory.lookup(m.group().rstrip(".,;:!?"))
            if len(emails) == 1:
                scan.mentions.append((m.start(), emails[0]))
    scan.mentions.sort(key=lambda pe: pe[0])
    seen: set[tuple[ProblemKind, str]] = set()
    problems = []
    for p in scan.problems:
        if (p.kind, p.name.casefold()) not in seen:
            seen.add((p.kind, p.name.casefold()))
            problems.append(p)
    return scan.mentions, problems


@dataclass(frozen=True, slots=True)
class PeopleResult:
    emails: tuple[str, ...]
    problems: tuple[tuple[PersonProblem, Where], ...]


_FOUND_MAX = 4096  # distinct cells remembered per directory (a plan's); more are read each time


def _found_in(text: str, directory: Directory, responsible: bool) -> _Found:
    """`find_people`, remembered by the directory for the cell texts it has seen."""
    key = (text, responsible)
    found = directory._found.get(key)
    if found is None:
        mentions, problems = find_people(text, directory, responsible_column=responsible)
        found = (tuple(mentions), tuple(problems))
        if len(directory._found) < _FOUND_MAX:
            directory._found[key] = found
    return found


def people_of_cells(cells: Iterable[tuple[str, Where, bool]], directory: Directory) -> PeopleResult:
    """People of an item from its cells in reading order: (text, where, is responsible column)."""
    given = list(cells)
    emails, problems = people_of_texts([(text, resp) for text, _, resp in given], directory)
    return PeopleResult(emails, tuple((p, given[k][1]) for p, k in problems))


def people_of_texts(
    cells: Iterable[tuple[str, bool]], directory: Directory
) -> tuple[tuple[str, ...], tuple[tuple[PersonProblem, int], ...]]:
    """`people_of_cells` with each problem's cell given by its position among `cells`, so the
    caller works out only the places of the cells that have a problem (few in a big table)."""
    emails: list[str] = []
    problems: list[tuple[PersonProblem, int]] = []
    seen: set[tuple[ProblemKind, str]] = set()
    for k, (text, responsible) in enumerate(cells):
        if not text or not (responsible or _may_name(text)):
            continue  # find_people finds no one there (most cells): not even remembered
        mentions, found = _found_in(text, directory, responsible)
        emails.extend(email for _, email in mentions)
        for p in found:
            if (p.kind, p.name.casefold()) not in seen:
                seen.add((p.kind, p.name.casefold()))
                problems.append((p, k))
    return tuple(dict.fromkeys(emails)), tuple(problems)
