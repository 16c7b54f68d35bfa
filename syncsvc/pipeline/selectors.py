"""Calendar selectors: which plan items a calendar shows, as a small boolean language.

org | public | person:<email> | measure:<n> | item:<key>
combined with `not`, `and`, `or` (that precedence) and parentheses:
"public or measure:4", "person:ellen.larsen@tromsfylke.no and not item:hosten-2024/ibby"
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Set
from dataclasses import dataclass

from syncsvc.domain.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What a selector can ask about an item (after overrides: `public` may be overridden)."""

    key: str
    people: frozenset[str]
    measures: frozenset[int]
    public: bool


@dataclass(frozen=True, slots=True)
class Org:
    def matches(self, item: ItemFacts) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Public:
    def matches(self, item: ItemFacts) -> bool:
        return item.public


@dataclass(frozen=True, slots=True)
class PersonIs:
    email: str

    def matches(self, item: ItemFacts) -> bool:
        return self.email in item.people


@dataclass(frozen=True, slots=True)
class MeasureIs:
    number: int

    def matches(self, item: ItemFacts) -> bool:
        return self.number in item.measures


@dataclass(frozen=True, slots=True)
class ItemIs:
    key: str

    def matches(self, item: ItemFacts) -> bool:
        return item.key == self.key


@dataclass(frozen=True, slots=True)
class Not:
    inner: Selector

    def matches(self, item: ItemFacts) -> bool:
        return not self.inner.matches(item)


@dataclass(frozen=True, slots=True)
class And:
    left: Selector
    right: Selector

    def matches(self, item: ItemFacts) -> bool:
        return self.left.matches(item) and self.right.matches(item)


@dataclass(frozen=True, slots=True)
class Or:
    left: Selector
    right: Selector

    def matches(self, item: ItemFacts) -> bool:
        return self.left.matches(item) or self.right.matches(item)


Selector = Org | Public | PersonIs | MeasureIs | ItemIs | Not | And | Or


def atoms(selector: Selector) -> Iterator[Selector]:
    """The terms of a selector (org, public, person:, measure:, item:), left to right."""
    if isinstance(selector, Not):
        yield from atoms(selector.inner)
    elif isinstance(selector, And | Or):
        yield from atoms(selector.left)
        yield from atoms(selector.right)
    else:
        yield selector


def unknown_terms(
    selector: Selector, *, people: Set[str], measures: Set[int], items: Set[str]
) -> list[str]:
    """Terms naming a person, measure or item the plan does not have: a typo, most likely,
    which would otherwise give a silently empty (or silently full, under `not`) calendar."""
    unknown: list[str] = []
    for atom in atoms(selector):
        if isinstance(atom, PersonIs) and atom.email not in people:
            unknown.append(f"person:{atom.email}")
        elif isinstance(atom, MeasureIs) and atom.number not in measures:
            unknown.append(f"measure:{atom.number}")
        elif isinstance(atom, ItemIs) and atom.key not in items:
            unknown.append(f"item:{atom.key}")
    return unknown


_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_KEYWORDS = {"and", "or", "not"}


def parse_selector(text: str, *, calendar: str) -> Selector:
    """Parse a selector; a ConfigError names the calendar and what is wrong."""
    return _Parser(text, calendar).parse()


class _Parser:
    def __init__(self, text: str, calendar: str) -> None:
        self.text = text
        self.calendar = calendar
        self.words = _split(text)
        self.pos = 0

    def fail(self, problem: str) -> ConfigError:
        return ConfigError(f"calendar {self.calendar!r}: selector {self.text!r}: {problem}")

    def peek(self) -> str | None:
        return self.words[self.pos] if self.pos < len(self.words) else None

    def take(self) -> str:
        word = self.peek()
        if word is None:
            raise self.fail("ends too early")
        self.pos += 1
        return word

    def parse(self) -> Selector:
        if not self.words:
            raise self.fail("is empty")
        result = self.parse_or()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()!r}")
        return result

    def parse_or(self) -> Selector:
        left = self.parse_and()
        while self.peek() == "or":
            self.take()
            left = Or(left, self.parse_and())
        return left

    def parse_and(self) -> Selector:
        left = self.parse_not()
        while self.peek() == "and":
            self.take()
            left = And(left, self.parse_not())
        return left

    def parse_not(self) -> Selector:
        if self.peek() == "not":
            self.take()
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Selector:
        word = self.take()
        if word == "(":
            inner = self.parse_or()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.take()
            return inner
        if word == ")" or word in _KEYWORDS:
            raise self.fail(f"expected a term, found {word!r}")
        return self.term(word)

    def term(self, word: str) -> Selector:
        if word == "org":
            return Org()
        if word == "public":
            return Public()
        kind, sep, value = word.partition(":")
        if not sep or not value:
            raise self.fail(
                f"unknown term {word!r} (use org, public, person:<email>, measure:<n>, item:<key>)"
            )
        if kind == "person":
            if "@" not in value:
                raise self.fail(f"person:{value} is not an e-mail address")
            return PersonIs(value.lower())
        if kind == "measure":
            if not value.isdigit():
                raise self.fail(f"measure:{value} is not a number")
            return MeasureIs(int(value))
        if kind == "item":
            return ItemIs(value)
        raise self.fail(f"unknown term {word!r}")


def _split(text: str) -> list[str]:
    words: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing whitespace is left
            break
        word = match.group(1)
        words.append(word.lower() if word.lower() in _KEYWORDS else word)
        pos = match.end()
    return words
