"""Parser of the Norwegian date grammar: tokens -> units (see `syncsvc.plan.dates.grammar`).

A *unit* is one date expression as written ("10.- 11. april", "uke 28 og 29"): its day or week
elements, the connectors between them, and what follows it in the cell (a time, a status word,
a topic). Turning units into dates is `syncsvc.plan.dates.grammar`' job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from syncsvc.domain.plan import ProblemKind, Severity, Status
from syncsvc.plan.dates.lexer import WEEKDAYS_DOTTED, Kind, Token

ProblemTuple = tuple[ProblemKind, Severity, str]
_TOPIC_STRIP = " \t\r\n-‐‒–—−,;:.&+/()[]«»\"'"


@dataclass(slots=True)
class Elem:
    """One day ("16. januar", "10.") or week number of a unit."""

    number: int  # day of month, or week number
    month: int | None = None  # None for a partial day until filled from the next full element
    year: int | None = None  # explicit year only
    weekday: int | None = None
    week: bool = False
    start: int = 0  # character span in the cell text
    end: int = 0


@dataclass(slots=True)
class Unit:
    elems: list[Elem]
    conns: list[Kind]  # RANGE or AND between elems[k] and elems[k + 1]
    first: int  # token indices, inclusive
    last: int
    time: Token | None = None
    status: Status = Status.PLANNED
    topic: str | None = None


@dataclass(slots=True)
class Cell:
    text: str
    toks: list[Token]
    units: list[Unit] = field(default_factory=list)
    problems: list[ProblemTuple] = field(default_factory=list)


# --- parsing: tokens -> units ------------------------------------------------------------


def _kind(toks: list[Token], i: int) -> Kind | None:
    return toks[i].kind if i < len(toks) else None


def _day_number(tok: Token) -> int | None:
    # A day is written with one or two digits; "2024" or "007" is not a day.
    if tok.kind is Kind.NUM and len(tok.text) <= 2 and isinstance(tok.value, int):
        return tok.value
    return None


def _parse_element(toks: list[Token], i: int) -> tuple[Elem, int] | None:
    """[weekday ["den"]] (day [","] [month [year]] | numeric-date) starting at token i."""
    start, weekday = i, None
    if _kind(toks, i) is Kind.WEEKDAY:
        weekday = toks[i].value
        i += 1
        if i < len(toks) and toks[i].text.lower() == "den":  # "tirsdag den 16. januar"
            i += 1
    elif (
        _kind(toks, i) is Kind.WORD
        and toks[i].text[:1].isupper()
        and toks[i].text.lower() in WEEKDAYS_DOTTED
        and _kind(toks, i + 1) in (Kind.NUM, Kind.NUMDATE)
    ):
        # "Ma 22.08", "To 5. sept": a capitalised two-letter weekday right before its date.
        weekday = WEEKDAYS_DOTTED[toks[i].text.lower()]
        i += 1
    if i >= len(toks):
        return None
    tok = toks[i]
    assert weekday is None or isinstance(weekday, int)
    if tok.kind is Kind.NUMDATE:
        d, m, y = cast(tuple[int, int, int | None], tok.value)
        return _weekday_after(toks, Elem(d, m, y, weekday), start, i + 1)
    day = _day_number(tok)
    if day is None:
        return None
    i += 1
    # "21, februar": a comma between day and month is a typo for the ordinal dot.
    if _kind(toks, i) is Kind.AND and toks[i].text == "," and _kind(toks, i + 1) is Kind.MONTH:
        i += 1
    if _kind(toks, i) is not Kind.MONTH:
        return Elem(day, None, None, weekday, start=toks[start].start, end=toks[i - 1].end), i
    month = toks[i].value
    assert isinstance(month, int)
    i += 1
    year = None
    if _is_year(toks, i):  # "1. februar 2024"
        year = cast(int, toks[i].value)
        i += 1
    return _weekday_after(toks, Elem(day, month, year, weekday), start, i)


def _is_year(toks: list[Token], i: int) -> bool:
    """A four-digit number that is not the start of a clock range ("16. januar 1800-1930")."""
    if _kind(toks, i) is not Kind.NUM or len(toks[i].text) != 4:
        return False
    return not (
        _kind(toks, i + 1) is Kind.RANGE
        and _kind(toks, i + 2) is Kind.NUM
        and len(toks[i + 2].text) == 4
    )


def _weekday_after(toks: list[Token], elem: Elem, first: int, i: int) -> tuple[Elem, int]:
    """Finish a full element at token i, taking a weekday written after it.

    "16. januar (tirsdag)" or "16.01 tirsdag"; but not when the weekday starts the next
    element ("16. januar tirsdag 17. januar").
    """
    j = i + (_kind(toks, i) is Kind.OTHER and toks[i].text == "(")
    if elem.weekday is None and _kind(toks, j) is Kind.WEEKDAY:
        k = j + 1
        if _kind(toks, k) is Kind.OTHER and toks[k].text == ")":
            k += 1
        elif j > i:
            k = -1  # "(" without ")"
        if k > 0 and _kind(toks, k) not in (Kind.NUM, Kind.NUMDATE):
            elem.weekday = cast(int, toks[j].value)
            i = k
    elem.start, elem.end = toks[first].start, toks[i - 1].end
    return elem, i


def _parse_chain(toks: list[Token], i: int) -> tuple[list[Elem], list[Kind], int]:
    """(partial CONN)* full [RANGE chain] -> (elements, connectors, next token index).

    Without a full element there is no chain: the elements are empty and the index is where
    the run of partial days broke off. No chain can start inside that run (it would be a
    suffix of the same run), so the caller skips to there: linear time on "1. og 2. og ...".
    """
    elems: list[Elem] = []
    conns: list[Kind] = []
    done: tuple[int, int, int] | None = None  # (len(elems), len(conns), i) after the last full
    while True:
        parsed = _parse_element(toks, i)
        if parsed is None:
            break
        elem, i = parsed
        elems.append(elem)
        if elem.month is not None:
            done = (len(elems), len(conns), i)
            # "26. februar-1. mars": a range word after a full date may start its other end.
            if _kind(toks, i) is not Kind.RANGE:
                break
        elif _kind(toks, i) not in (Kind.RANGE, Kind.AND):
            if (
                i >= len(toks)
                or _day_number(toks[i]) is None
                or toks[i].start - toks[i - 1].end < 2
            ):
                break  # a partial day must be followed by a connector and another element
            # "24. 25. og 26. januar": days written one after another, each with its dot (the
            # dot left a gap between the tokens), are a list; "August 11 17. august" is not.
            conns.append(Kind.AND)
            continue
        conns.append(toks[i].kind)
        i += 1
    if done is None:
        return [], [], i
    return elems[: done[0]], conns[: done[1]], done[2]


def _parse_weeks(toks: list[Token], i: int) -> tuple[list[Elem], list[Kind], int]:
    """WEEK ["nr"] n ((RANGE|AND) [WEEK] n)* starting at the WEEK token i."""

    def number(j: int) -> tuple[Elem, int] | None:
        if j < len(toks) and toks[j].text.lower().rstrip(".") == "nr":  # "uke nr. 43"
            j += 1
        n = _day_number(toks[j]) if j < len(toks) else None
        # "uke 43 og 16. januar": a number followed by a month is a day, not a week.
        if n is None or _kind(toks, j + 1) is Kind.MONTH:
            return None
        return Elem(n, week=True, start=toks[j].start, end=toks[j].end), j + 1

    first = number(i + 1)
    if first is None:
        return [], [], i + 1
    elems, conns, i = [first[0]], [], first[1]
    while _kind(toks, i) in (Kind.RANGE, Kind.AND):
        j = i + 1 + (_kind(toks, i + 1) is Kind.WEEK)
        nxt = number(j)
        if nxt is None:
            break
        conns.append(toks[i].kind)
        elems.append(nxt[0])
        i = nxt[1]
    return elems, conns, i


def parse_units(toks: list[Token]) -> list[Unit]:
    units: list[Unit] = []
    i = 0
    while i < len(toks):
        j = i + 1 if toks[i].kind is Kind.FROM else i
        parser = _parse_weeks if _kind(toks, j) is Kind.WEEK else _parse_chain
        elems, conns, end = parser(toks, j)
        if elems:
            units.append(Unit(elems, conns, i, end - 1))
        i = max(end, i + 1)
    return units


# --- attaching times, status words and topics to units ----------------------------------


def attach(cell: Cell) -> None:
    """Give each unit its time, status and topic from the tokens around it (one pass)."""
    toks, units = cell.toks, cell.units
    ends = {u.last: u for u in units}
    # The cell's last token, ignoring closing brackets: a "?" there marks the whole cell.
    final = len(toks) - 1
    while final >= 0 and toks[final].text in ("(", ")"):
        final -= 1
    whole_done = whole_tentative = False
    done_before = 0  # how many units end before the current token
    for p, tok in enumerate(toks):
        while done_before < len(units) and units[done_before].last < p:
            done_before += 1
        prev = units[done_before - 1] if done_before else None
        if tok.kind is Kind.TIME:
            # Units never contain times, so "no unit before" means the first unit is after.
            target = prev if prev is not None else (units[0] if units else None)
            if target is None:
                cell.problems.append(_warning(tok, "a time without a date"))
            elif target.time is None:
                target.time = tok
            else:
                cell.problems.append(_warning(tok, "second time for one date ignored"))
        elif tok.kind is Kind.DONE:
            if prev is None:
                whole_done = True  # "Gjennomført: 16. januar ..." covers the cell
            else:
                prev.status = Status.DONE
        elif tok.kind is Kind.QMARK:
            k = p - 1  # look back over the unit's time and brackets: "16. jan (kl. 10)?"
            while k >= 0 and (toks[k].kind is Kind.TIME or toks[k].text in ("(", ")")):
                k -= 1
            unit = ends.get(k)
            if unit is not None:
                if unit.status is Status.PLANNED:
                    unit.status = Status.TENTATIVE
            elif p == final:
                whole_tentative = True
    for u in units:
        if whole_done:
            u.status = Status.DONE
        elif whole_tentative and u.status is Status.PLANNED:
            u.status = Status.TENTATIVE
    for n, u in enumerate(units):
        stop = units[n + 1].first if n + 1 < len(units) else len(toks)
        u.topic = _topic(cell.text, toks[u.last + 1 : stop])


def _warning(tok: Token, what: str) -> ProblemTuple:
    return (ProblemKind.UNPARSED_DATE, Severity.WARNING, f"{tok.text!r}: {what}")


def _topic(text: str, between: list[Token]) -> str | None:
    """The text between a unit and the next one, without times, status words and separators."""
    dropped = (Kind.TIME, Kind.DONE, Kind.QMARK)
    kept = [t for t in between if t.kind not in dropped]
    if not any(t.kind not in (Kind.AND, Kind.RANGE, Kind.OTHER, Kind.DOT) for t in kept):
        return None
    lo, hi = kept[0].start, kept[-1].end
    chars = list(text[lo:hi])
    for t in between:
        if t.kind in dropped and lo <= t.start < hi:
            chars[t.start - lo : t.end - lo] = " " * (t.end - t.start)
    words = "".join(chars).split()
    # Connector words at the edges belong to the grammar, not to the topic.
    while words and words[0].strip(_TOPIC_STRIP).lower() in ("", "og", "til", "fra", "frå"):
        words.pop(0)
    while words and words[-1].strip(_TOPIC_STRIP).lower() in ("", "og", "til", "fra", "frå"):
        words.pop()
    topic = " ".join(words).strip(_TOPIC_STRIP)
    return topic or None


def fill_partials(unit: Unit) -> None:
    """Give partial days the month and year of the next element ("10.- 11. april")."""
    elems = unit.elems
    for k in range(len(elems) - 2, -1, -1):
        e, nxt = elems[k], elems[k + 1]
        if e.week or e.month is not None or nxt.month is None:
            continue
        e.month, e.year = nxt.month, nxt.year
        if unit.conns[k] is Kind.RANGE and e.number > nxt.number:
            # "30.-2. mars": the first day is in the month before.
            if e.month == 1:
                e.month = 12
                e.year = None if e.year is None else e.year - 1
            else:
                e.month -= 1
