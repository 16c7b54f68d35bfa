"""Tokenizer for the Norwegian date grammar (see `syncsvc.plan.dates.grammar`).

Turns a date cell into a flat list of tokens with their spans in the input. Recognising times
here, before anything else, is what keeps "kl. 10.00-11.30" from ever being read as a date.
Only ASCII digits count as digits, so exotic Unicode digits are plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache


class Kind(Enum):
    TIME = "time"  # value: (start "H:MM", end "H:MM" or None)
    NUMDATE = "numdate"  # value: (day, month, year or None), from "16.01.24", "27.2", "1/3"
    NUM = "num"  # value: the integer (None when absurdly long)
    MONTH = "month"  # value: 1..12
    WEEKDAY = "weekday"  # value: 0 (Monday) .. 6 (Sunday)
    WEEK = "week"  # the word "uke"/"veke"; the number follows as NUM
    RANGE = "range"  # "-", "–", "til", "til og med", "t.o.m."
    FROM = "from"  # "fra", "frå", "fra og med", "f.o.m."
    AND = "and"  # "og", "&", ",", "+", "/"
    DONE = "done"  # "OK", "Gjennomført"
    QMARK = "qmark"  # "?"
    DOT = "dot"  # "." (ordinal dots; ignored by the parser)
    WORD = "word"  # any other word
    OTHER = "other"  # any other character


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    start: int
    end: int
    value: object = None


MONTHS: dict[str, int] = {
    "januar": 1, "jan": 1,
    "februar": 2, "feb": 2, "febr": 2,
    "mars": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5,
    "juni": 6, "jun": 6,
    "juli": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10,
    "november": 11, "nov": 11,
    "desember": 12, "des": 12,
}  # fmt: skip

# Full weekday names, Bokmål and Nynorsk, and abbreviations of three letters or more.
WEEKDAYS: dict[str, int] = {
    "mandag": 0, "måndag": 0, "man": 0,
    "tirsdag": 1, "tysdag": 1, "tir": 1, "tirs": 1, "tis": 1, "tys": 1,
    "onsdag": 2, "ons": 2,
    "torsdag": 3, "tor": 3, "tors": 3,
    "fredag": 4, "fre": 4,
    "lørdag": 5, "laurdag": 5, "lør": 5, "lau": 5, "laur": 5,
    "søndag": 6, "sundag": 6, "søn": 6, "sun": 6,
    # Four-letter forms as programmes write them: "Onsd. 3.4.", "Lørd. 29.6.".
    "mand": 0, "månd": 0, "tirsd": 1, "tysd": 1, "onsd": 2, "torsd": 3, "fred": 4,
    "lørd": 5, "laurd": 5, "sønd": 6, "sund": 6,
}  # fmt: skip
# Two-letter abbreviations ("ti.", "to.") are also ordinary words ("ten", "two"), so they only
# count as weekdays with a dot.
WEEKDAYS_DOTTED: dict[str, int] = {"ma": 0, "ti": 1, "on": 2, "to": 3, "fr": 4, "lø": 5, "sø": 6}

WEEK_WORDS = frozenset({"uke", "uka", "uker", "ukene", "veke", "veka", "veker", "vekene", "week"})
DONE_WORDS = frozenset({"ok", "gjennomført", "gjennomfort", "gjennomførd", "avholdt"})

_KL = r"(?:klokka|klokken|kl)"
_CLOCK = r"(?:[0-9]{4}|[0-9]{1,2}(?:[.:][0-9]{2})?)(?![0-9])"
_DASH = r"[-‐‒–—−]"

# A time introduced by "kl."/"klokken": "kl. 9", "kl. 10.00-11.30", "klokken 1800-1930",
# "kl 15:30 – 16:30", "kl. 10 til kl. 12".
_TIME_KL = re.compile(
    rf"{_KL}(?![^\W\d_])\.?\s*(?P<a>{_CLOCK})"
    rf"(?:\s*(?:{_DASH}|til)\s*(?:{_KL}\.?\s*)?(?P<b>{_CLOCK}))?",
    re.IGNORECASE,
)
# A bare time with a colon ("10:00", "10:00-11:30"): a colon never appears in our dates.
_TIME_COLON = re.compile(
    rf"(?<![0-9.:/])(?P<a>[0-9]{{1,2}}:[0-9]{{2}})"
    rf"(?:\s*{_DASH}\s*(?P<b>[0-9]{{1,2}}:[0-9]{{2}}))?(?![0-9])"
)
# A bare time with a dot ("10.00", "09.00-11.30"); only tried after NUMDATE failed, so "12.10"
# stays a date (12 October) while "10.30" (no month 30) is a time.
_TIME_DOT = re.compile(
    rf"(?<![0-9.:/])(?P<a>[0-9]{{1,2}}\.[0-9]{{2}})"
    rf"(?:\s*{_DASH}\s*(?P<b>[0-9]{{1,2}}\.[0-9]{{2}}))?(?![0-9]|\.[0-9])"
)
# Numeric dates: "16.01.24", "12.10.2021", "27.2", "1/3". The separator must repeat.
_NUMDATE = re.compile(
    r"(?<![0-9.:/,])(?P<d>[0-9]{1,2})(?P<s>[./])(?P<m>[0-9]{1,2})"
    r"(?:(?P=s)(?P<y>[0-9]{4}|[0-9]{2}))?(?![0-9]|[./][0-9])"
)
_NUM = re.compile(r"[0-9]+")
# Dotted abbreviations that are one token: "t.o.m.", "f.o.m." (also without the last dot).
_TOM = re.compile(r"t\.\s?o\.\s?m\b\.?", re.IGNORECASE)
_FOM = re.compile(r"f\.\s?o\.\s?m\b\.?", re.IGNORECASE)
# "til og med" / "fra og med" / "frå og med" as one token, so "og" is not read as a list.
_TIL_OG_MED = re.compile(r"til\s+og\s+med(?![^\W\d_])", re.IGNORECASE)
_FRA_OG_MED = re.compile(r"fr[aå]\s+og\s+med(?![^\W\d_])", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?P<dot>\.)?")

_DASHES = frozenset("-‐‒–—−")
_AND_CHARS = frozenset(",&+/")


def _valid_day_month(d: int, m: int) -> bool:
    return 1 <= d <= 31 and 1 <= m <= 12


def _numdate(m: re.Match[str]) -> Token | None:
    d, mo, y = int(m["d"]), int(m["m"]), m["y"]
    if y is None and not _valid_day_month(d, mo):
        return None  # "10.30", "2.0": not a date; maybe a time or a version number
    year = None if y is None else (int(y) + 2000 if len(y) == 2 else int(y))
    return Token(Kind.NUMDATE, m[0], m.start(), m.end(), (d, mo, year))


def _time(m: re.Match[str]) -> Token:
    return Token(Kind.TIME, m[0], m.start(), m.end(), (m["a"], m["b"]))


def _time_dot(m: re.Match[str]) -> Token | None:
    # Only a time when some part cannot be a day.month ("10.00", "11.30"), else two dates.
    parts = [p for p in (m["a"], m["b"]) if p]
    if all(_valid_day_month(*map(int, p.split("."))) for p in parts):
        return None
    return _time(m)


# A month name glued to the next word by a PDF or web export: "1. marsKvinesdal".
_GLUED_MONTH = re.compile(
    r"(januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember)"
    r"(?=[A-ZÆØÅ])"
)


# Every date of the grammar is a numeric date ("16.01", "1/3"), or a day or week number (ASCII
# digits) with a month or week word. A text with neither has no date whatever else is in it.
_NUMDATE_HINT = re.compile(r"[0-9][./][0-9]")
_ASCII_DIGIT = re.compile(r"[0-9]")
# Each month and week word starts with one of these. str.lower maps character by character
# (only a capital sigma looks at its neighbours), so a word that lowers to a month name leaves
# that name in the lowered text.
_DATE_STEM = re.compile(r"jan|feb|mar|apr|mai|jun|jul|aug|sep|okt|nov|des|uk[ea]|vek[ea]|week")
_LETTERS = re.compile(r"[^\W\d_]+")  # the runs of letters a word token is (see _WORD)
_DATE_WORDS = frozenset(MONTHS) | WEEK_WORDS


def may_have_dates(text: str) -> bool:
    """False only when `tokenize(text)` has no NUMDATE token and either no MONTH or WEEK
    token or no ASCII digit: then the grammar finds no date in it. A cheap test for prose."""
    if _NUMDATE_HINT.search(text):
        return True
    if not _ASCII_DIGIT.search(text) or not _DATE_STEM.search(text.lower()):
        return False
    # A word token is a whole run of letters, but for a month glued to the next word.
    return any(w.lower() in _DATE_WORDS or _GLUED_MONTH.match(w) for w in _LETTERS.findall(text))


def _word(m: re.Match[str]) -> Token:
    # Words as long as a bomb's are classified each time rather than held by the cache.
    classify = _word_kind if len(m[0]) <= 64 else _word_kind.__wrapped__
    kind, value, length = classify(m[0])
    start = m.start()
    return Token(kind, m[0][:length], start, start + length, value)


@lru_cache(maxsize=4096)  # plans repeat their words; the token depends on the word alone
def _word_kind(matched: str) -> tuple[Kind, object, int]:
    """(kind, value, length of the token) of a `_WORD` match: the word and maybe its dot."""
    glued = _GLUED_MONTH.match(matched)
    if glued:
        return Kind.MONTH, MONTHS[glued[0]], glued.end()
    dot = matched.endswith(".")  # the pattern's only non-letter
    word = matched[:-1] if dot else matched
    low = word.lower()
    kind, value = Kind.WORD, None
    if low in MONTHS:
        kind, value = Kind.MONTH, MONTHS[low]
    elif low in WEEKDAYS:
        kind, value = Kind.WEEKDAY, WEEKDAYS[low]
    elif dot and low in WEEKDAYS_DOTTED:
        kind, value = Kind.WEEKDAY, WEEKDAYS_DOTTED[low]
    elif low in WEEK_WORDS:
        kind = Kind.WEEK
    elif low in DONE_WORDS:
        kind = Kind.DONE
    elif low in ("til", "tom"):
        kind = Kind.RANGE
    elif low in ("fra", "frå", "fom"):
        kind = Kind.FROM
    elif low == "og":
        kind = Kind.AND
    # Keep a sentence-final dot out of ordinary words; it is a DOT token of its own.
    keeps_dot = dot and kind is not Kind.WORD
    return kind, value, len(word) + keeps_dot


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], Token | None]]

# Tried in order at each position; the first rule whose pattern matches and whose builder
# accepts the match wins. Times come first so their digits never become dates.
_RULES: tuple[_Rule, ...] = (
    (_TIME_KL, _time),
    (_TIME_COLON, _time),
    (_NUMDATE, _numdate),
    (_TIME_DOT, _time_dot),
    (_TOM, lambda m: Token(Kind.RANGE, m[0], m.start(), m.end())),
    (_FOM, lambda m: Token(Kind.FROM, m[0], m.start(), m.end())),
    (_TIL_OG_MED, lambda m: Token(Kind.RANGE, m[0], m.start(), m.end())),
    (_FRA_OG_MED, lambda m: Token(Kind.FROM, m[0], m.start(), m.end())),
    # Digits: a day, a week number, a year. Absurd lengths carry no value (and int() of
    # thousands of digits would raise).
    (
        _NUM,
        lambda m: Token(Kind.NUM, m[0], m.start(), m.end(), int(m[0]) if len(m[0]) <= 6 else None),
    ),
    (_WORD, _word),
)


# Which rules can match at a character: the time, date and number rules start with an ASCII
# digit; "kl", "t.o.m.", "til og med", "f.o.m." and "fra og med" with a k, t or f (in any case:
# every character that matches one of those case-insensitively lowers to it); a word with any
# letter. Trying only those, in the same order, gives the same tokens; a character that starts
# none is a token of its own.
_NUMBER_PATTERNS = (_TIME_COLON, _NUMDATE, _TIME_DOT, _NUM)
_DIGIT_RULES = tuple(rule for rule in _RULES if rule[0] in _NUMBER_PATTERNS)
_FIRST_LETTER = {_TIME_KL: "k", _TOM: "t", _TIL_OG_MED: "t", _FOM: "f", _FRA_OG_MED: "f"}
_LETTER_RULES = {
    letter: tuple(
        rule
        for rule in _RULES
        if rule[0] not in _NUMBER_PATTERNS and _FIRST_LETTER.get(rule[0], letter) == letter
    )
    for letter in ("k", "t", "f", "")
}
_WORD_RULES = _LETTER_RULES[""]  # only _WORD
_LETTER = re.compile(r"[^\W\d_]")  # the first character of every match of a letter rule
_RULES_AT: dict[str, tuple[_Rule, ...]] = {}  # per character seen, up to _RULES_AT_MAX
_RULES_AT_MAX = 2048


def _rules_at(ch: str) -> tuple[_Rule, ...]:
    rules = _RULES_AT.get(ch)
    if rules is None:
        if "0" <= ch <= "9":
            rules = _DIGIT_RULES
        elif _LETTER.match(ch):
            rules = _LETTER_RULES.get(ch.lower(), _WORD_RULES)
        else:
            rules = ()
        if len(_RULES_AT) < _RULES_AT_MAX:
            _RULES_AT[ch] = rules
    return rules


def _single_char(text: str, pos: int) -> Token:
    ch = text[pos]
    kind = Kind.OTHER
    if ch in _DASHES:
        kind = Kind.RANGE
    elif ch in _AND_CHARS:
        kind = Kind.AND
    elif ch == "?":
        kind = Kind.QMARK
    elif ch == ".":
        kind = Kind.DOT
    return Token(kind, ch, pos, pos + 1)


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens; whitespace separates tokens and is dropped."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch.isspace():  # whitespace separates tokens (str.isspace: what \s matches)
            pos += 1
            continue
        token = None
        for pattern, build in _rules_at(ch):
            m = pattern.match(text, pos)
            if m and m.end() > pos:
                token = build(m)
                if token is not None:
                    break
        if token is None:
            token = _single_char(text, pos)
        tokens.append(token)
        pos = token.end
    return tokens
