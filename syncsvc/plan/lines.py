"""One dated line of a list-shaped plan: its dates, its title, its notes and its status.

Pure. A line is read with the date grammar wherever its date stands ("22.august Skulestart",
"Første skuledag: måndag 21. august", "Høstferie 7. - 11. oktober (uke 41)"); the title is the
line without its dates, times and status words. Around that:

* bullets and list numbers (" 1. Torsdag 15.08.19 …") are dropped;
* day-only dates take the month of their heading ("22   Formannskap", "Søndag 8.", "22.-1."
  under Desember runs into January);
* a week written with its days ("Veke 41. 9. - 13. oktober") is the days;
* a time shared by several dates ("begge dager fra kl 07.30 – 09.00") applies to each;
* the title is the first sentence; the rest of the line is notes (its dates are hints only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syncsvc.domain.norwegian import MONTH_NAMES
from syncsvc.domain.plan import Status
from syncsvc.plan.dates.lexer import WEEK_WORDS, WEEKDAYS, WEEKDAYS_DOTTED, Kind, Token, tokenize
from syncsvc.plan.dates.parse import Cell, Unit, attach, parse_units
from syncsvc.plan.status import combine, take_status

_MONTHS = "|".join(MONTH_NAMES)
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_WEEKDAY_DOTTED = "|".join(WEEKDAYS_DOTTED)

_BULLET = re.compile(r"^\s*(?:[•·▪◦●○■□➢➤►✓✔*]|[-–—](?=\s))\s*")
# " 1. Torsdag 15.08.19": a list number before a weekday or a full numeric date.
_NUMBERING = re.compile(
    rf"^\s*\d{{1,3}}\s*[.)]\s+(?=(?:{_WEEKDAY})\b|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}})", re.I
)
# Day-only dates at the start of a line: "22", "4.", "18.-19.", "Søndag 10.", "22.-1.".
_DAY_ONLY = re.compile(
    rf"^(?P<wd>(?:(?:{_WEEKDAY})\.?|(?:{_WEEKDAY_DOTTED})\.)\s*(?:den\s+)?)?"
    r"(?P<d1>\d{1,2}+)(?P<dot1>\.?+)"
    r"(?:\s*(?P<conn>[-–—]|til|og|&|,)\s*(?P<wd2>(?:[^\W\d_]+\.?\s+)?)(?P<d2>\d{1,2}+)\.?+)?+"
    r"(?!\s*(?:[-–—]|til\b|og\b|&|,)?\s*[./:]?\s*\d)"
    rf"(?!\s*(?:{_MONTHS}|(?:jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|nov|des)\b))"
    r"(?!\s*(?:timer|time|min|kr|%|år|stk|personar|personer|deltakarar|deltakere)\b)",
    re.I,
)
_SHARED_TIME = re.compile(r"\b(?:begge|alle|båe)\s+(?:dag\w*|kveld\w*|gang\w*)\b", re.I)
# A sentence ends at ". " before a capital letter, after a word, a number ("kl. 18. Foreldremøte
# for alle", "2024. Første skoledag") or a bracket; not before a month or weekday ("17. Mai").
_SENTENCE = re.compile(
    rf"(?<=[^\W_]{{2}})[.!](?=\s+(?:[-–—]\s+)?(?!(?i:{_MONTHS}|{_WEEKDAY})\b)[A-ZÆØÅ])"
    rf"|(?<=\))\.?(?=\s+(?:[-–—]\s+)?(?!(?i:{_MONTHS}|{_WEEKDAY})\b)[A-ZÆØÅ])"
)
_ABBREVIATIONS = frozenset({"ca", "kl", "nr", "evt", "bl.a", "f.eks", "jf", "mm", "osv", "inkl"})
_EDGE = " \t-–—:;,/|·•"
_EMPTY_BRACKETS = re.compile(r"\(\s*[-–—,;:.]?\s*\)|\[\s*\]")
_DANGLING = re.compile(
    r"(?:\s|^)(?:fra|frå|fra og med|frå og med|f\.o\.m\.?|kl\.?|i|på|til|den|om|fom|tom|og)\s*$",
    re.I,
)
_DOUBLE_SEPARATOR = re.compile(r"\s*[,;:]\s*([-–—])(?!\))")
_LEADING_WORD = re.compile(r"^(?:den|og)\s+")  # "tirsdag [den 16. januar]"; not "Den kulturelle …"
_REPEATED_SEPARATORS = re.compile(r"([,;])(?:\s*[,;])+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])(?=\s|$)")


@dataclass(frozen=True, slots=True)
class DatedLine:
    """A line that holds a date: what to schedule and what to call it."""

    date_text: str  # the dates and times, for the date grammar ("22. august kl. 08.30")
    title: str  # the line without its dates ("" when the line is only a date)
    notes: str  # what follows the title's sentence
    status: Status | None  # from status words in the line (cancelled, tentative)
    unknown_status: tuple[str, ...] = ()
    date_first: bool = True  # the line starts with its date (not "Høstferie 7.-11. oktober")
    words_before: int = 0  # words of prose before the first date
    words: int = 0  # words of prose in the line


# "1. Samisk uke, Uke 6 …": a list number before a capitalised word (not a month: "17. Mai").
_NUMBERED = re.compile(rf"^\s*\d{{1,3}}\s*[.)]\s+(?=(?!(?i:{_MONTHS})\b)[A-ZÆØÅ])")


def strip_list_marks(text: str) -> str:
    """'• Tirsdag 22.august …' -> 'Tirsdag 22.august …'; ' 1. Torsdag 15.08.19' likewise."""
    text = _BULLET.sub("", text, count=1)
    return _NUMBERING.sub("", text, count=1)


def _numbered(text: str) -> str | None:
    """The text without its list number when the rest holds a date of its own."""
    m = _NUMBERED.match(text)
    if m is None:
        return None
    rest = text[m.end() :]
    toks = [t for t in tokenize(rest) if t.kind is not Kind.DOT]
    return rest if parse_units(toks) else None


def complete_days(text: str, month: int | None) -> str:
    """Give day-only dates at the start of `text` the heading's month.

    '22     Formannskap' -> '22. august     Formannskap' (month 8); '22.-1.' under December ->
    '22. desember - 1. januar'. Without a month, or when the day has one, the text is unchanged.
    """
    if month is None:
        return text
    m = _DAY_ONLY.match(text)
    if not m or not (1 <= int(m["d1"]) <= 31):
        return text
    if not m["dot1"] and not m["conn"] and not m["wd"]:
        # A bare number needs room after it: "22     Formannskap", not "2 klasser".
        rest = text[m.end() :]
        if not rest.startswith(("  ", "\t")) and rest.strip() and not rest.lstrip()[0].isupper():
            return text
    name = MONTH_NAMES[month - 1]
    if m["d2"] is None:
        return f"{text[: m.end()].rstrip()} {name} {text[m.end() :].lstrip()}".rstrip()
    d1, d2 = int(m["d1"]), int(m["d2"])
    first = text[: m.start("conn")].rstrip()
    second = text[m.start("wd2") : m.end()].strip()
    end_name = MONTH_NAMES[month % 12] if d2 < d1 and m["conn"] in "-–—til" else name
    return f"{first} {name} {m['conn']} {second} {end_name} {text[m.end() :].lstrip()}".rstrip()


def _first_sentence(text: str, after: int) -> int:
    """Where the sentence that holds position `after` ends (len(text) if it does not)."""
    for m in _SENTENCE.finditer(text, max(after - 1, 0)):  # "6. februar." owns its dot
        word = text[: m.start()].rsplit(None, 1)[-1].lower() if text[: m.start()].strip() else ""
        if word.rstrip(".") in _ABBREVIATIONS:
            continue
        return max(m.start(), after)
    return len(text)


_PROSE_WORD = re.compile(r"(?<![\w.])(?!kl\b)[^\W\d_]{2,}")


def _words(text: str) -> int:
    """Words of prose (times, numbers and "kl" not counted)."""
    return len(_PROSE_WORD.findall(text))


def _letters_between(line: str, toks: list[Token], units: list[Unit], cut: int) -> bool:
    """Whether the text up to `cut` holds words besides its dates and times."""
    spans = [(toks[u.first].start, toks[u.last].end) for u in units]
    for t in toks:
        if t.end > cut:
            break
        if t.kind is Kind.WORD and not any(a <= t.start < b for a, b in spans):
            return True
    return False


def read_line(text: str, *, month: int | None = None) -> DatedLine | None:
    """The dates, title and notes of a list line; None when the line holds no date."""
    line = strip_list_marks(text).strip()
    line = _numbered(line) or complete_days(line, month)
    words = take_status(line)
    line = words.text
    toks = [t for t in tokenize(line) if t.kind is not Kind.DOT]
    units = parse_units(toks)
    if not units:
        return None
    # The title is the sentence that holds the first date (or, when that sentence is only the
    # date, "Onsdag 1. mai 2024. Arbeidernes dag", the next one); what follows is notes.
    first_end = toks[units[0].last].end
    cut = _first_sentence(line, first_end)
    if cut < len(line) and not _letters_between(line, toks, units, cut):
        cut = _first_sentence(line, cut + 1)
    head, notes = line[:cut], line[cut:].strip(" .-–—")
    if cut < len(line):
        toks = [t for t in toks if t.end <= cut]
        units = [u for u in units if u.last < len(toks)]
    cell = Cell(head, toks, units)
    attach(cell)
    times = [t for t in toks if t.kind is Kind.TIME]
    # One time for several dates: "begge dager fra kl 07.30", or written before all of them
    # ("tirsdager kl. 12.00 - 13.30 i kafeen 30. august 13. og 27. september").
    before_all = len(times) == 1 and len(units) > 1 and times[0].end <= toks[units[0].first].start
    shared = times[0] if len(times) == 1 and (before_all or _SHARED_TIME.search(head)) else None
    parts: list[str] = []
    removed: list[tuple[int, int]] = []
    days = [u for u in units if not u.elems[0].week]
    for u in units:
        start, end = toks[u.first].start, toks[u.last].end
        removed.append((start, end))
        if u.elems[0].week and days:
            continue  # "Veke 41. 9. - 13. oktober": the days win
        piece = head[start:end]
        time = u.time or shared
        if time is not None:
            piece += f" {time.text}"
        if u.status is Status.TENTATIVE:
            piece += "?"
        elif u.status is Status.DONE:
            piece += " OK"
        parts.append(piece)
    lasts = {u.last for u in units}
    for k, t in enumerate(toks):
        if t.kind in (Kind.TIME, Kind.DONE):
            removed.append((t.start, t.end))
        elif t.kind is Kind.QMARK:
            j = k - 1  # "16. jan (kl. 10)?": the "?" of a date, not of the title
            while j >= 0 and (toks[j].kind is Kind.TIME or toks[j].text in "()"):
                j -= 1
            if j in lasts:
                removed.append((t.start, t.end))
    title = _title(head, removed)
    titled = take_status(title, question_mark=True)
    status = combine(words.status, titled.status)
    return DatedLine(
        date_text=" ".join(parts),
        title=titled.text,
        notes=notes,
        status=status,
        unknown_status=tuple(dict.fromkeys(words.unknown + titled.unknown)),
        date_first=toks[units[0].first].start == 0,
        words_before=_words(line[: toks[units[0].first].start]),
        words=_words(line),
    )


def _title(head: str, removed: list[tuple[int, int]]) -> str:
    # A word left hanging before a date or time that ended the line ("fra [kl. 15:30]",
    # "sommerstengt i [uke 28 og 29]") goes with it; "lagar til" stays.
    hanging = any(end >= len(head.rstrip(" .,;:)")) for _, end in removed)
    chars = list(head)
    for start, end in removed:
        chars[start:end] = " " * (end - start)
    text = _SHARED_TIME.sub(" ", "".join(chars))
    text = _EMPTY_BRACKETS.sub(" ", text)
    text = _DOUBLE_SEPARATOR.sub(r" \1", text)  # "Samisk uke, [Uke 6] – Tråante"
    text = _REPEATED_SEPARATORS.sub(r"\1", text)  # "1.-7.kl, [kl. 11.30-12.15], Innfjorden"
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(text.split()))
    if hanging:
        text = _DANGLING.sub("", text)
    text = text.strip(_EDGE)
    text = _LEADING_WORD.sub("", text)
    text = _EMPTY_BRACKETS.sub(" ", text).strip(_EDGE + ".")
    if hanging:
        text = _DANGLING.sub("", text).strip(_EDGE + ".")
    return " ".join(text.split())


_DATE_LIKE = re.compile(
    rf"\b(?:{_MONTHS})\b|\b(?:uke|veke|week)\s*(?:nr\.?\s*)?\d|\b\d{{1,2}}\.\s?\d{{1,2}}\.(?:\d{{2,4}})?\b"
    rf"|\b(?:{_WEEKDAY})\s+(?:den\s+)?\d{{1,2}}\b",
    re.I,
)


def is_date_like(text: str) -> bool:
    """Text that mentions a month, a week, a day.month or a weekday and day: a date we could
    not schedule is reported, never dropped silently."""
    return _DATE_LIKE.search(text) is not None


def is_week_word(word: str) -> bool:
    return word.lower() in WEEK_WORDS
