"""What of an item may reach a public calendar: its title and, when the plan says so, topics.

Never a person: a title is cut where a person reference starts ("Møte v/Trine" -> "Møte"),
and a per-date topic that holds one is dropped whole (free text after a date is working text:
"1. juni v/Trine Mellem sykemeldt" must never become a public title). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from syncsvc.domain.plan import Person

# "v/Trine", "ved Trine", "c/o", "ansvarlig: ...", an e-mail address, "@mention".
_MARKERS = re.compile(
    r"(?:(?<!\w)[vV]\s*/|(?<!\w)ved\s+[A-ZÆØÅ]|(?<!\w)c\s*/\s*o\b|\bansv\w*\s*:|\bkontakt\w*\s*:"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)*|(?<!\w)@\w)",
)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_SEPARATORS = " \t-–—:;,/(&+"


@dataclass(frozen=True, slots=True)
class PersonWords:
    """Every word that names someone in the plan's directory (names, parts, aliases)."""

    words: frozenset[str]

    @staticmethod
    def of(people: Iterable[Person]) -> PersonWords:
        found: set[str] = set()
        for person in people:
            for text in (person.name, *person.aliases, person.email.split("@", 1)[0]):
                found.update(w.casefold() for w in _WORD.findall(text) if len(w) >= 3)
        return PersonWords(frozenset(found))

    def first_reference(self, text: str) -> int | None:
        """Where the first person reference in `text` starts, or None."""
        starts = [m.start() for m in _MARKERS.finditer(text)]
        starts += [m.start() for m in _WORD.finditer(text) if m.group().casefold() in self.words]
        return min(starts) if starts else None


def public_title(title: str, people: PersonWords) -> str:
    """`title` up to its first person reference (trailing separators removed)."""
    cut = people.first_reference(title)
    if cut is None:
        return title
    return title[:cut].rstrip(_SEPARATORS).strip()


def public_topic(topic: str | None, people: PersonWords, *, allowed: bool) -> str | None:
    """The topic for a public event: only when allowed and free of person references."""
    if not allowed or not topic:
        return None
    return None if people.first_reference(topic) is not None else topic
