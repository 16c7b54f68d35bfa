"""Status words in plan text: cancelled (AVLYST), tentative (ca., foreløpig, ?), unknown ones.

Pure. `take_status` finds the words in a title, date or notes text and returns the text without
them, so "Overtru og segner – AVLYST" is the title "Overtru og segner", cancelled. Done words
("OK", "Gjennomført") stay with the date grammar, which marks single dates done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syncsvc.domain.plan import Status

_CANCELLED = r"avlyst|avlyses|avlysast|avlyse[st]|avlysning|utgår|utgår|utgått|kansellert|innstilt"
_TENTATIVE = (
    r"ca\.?|cirka|foreløpig|foreløbig|førebels|førebelse|tentativt?|ikke\s+bekreftet"
    r"|ikkje\s+stadfesta|usikker\s+dato|dato\s+usikker"
    r"|(?:bruker|brukar|pleier|pleiar)\s+(?:å|og)\s+(?:være|vere|vera)"
)
# Words that say something happened to the date but not what: the date is kept and reported.
_UNKNOWN = r"utsatt|utsett|flyttet|flytta|endret|endra|ny\s+dato"

# A status word as a word of its own; with its separator ("– AVLYST", "(foreløpig)").
_SEP = r"[\s,;:–—-]*"
_WORDS = re.compile(
    rf"{_SEP}(?P<open>\()?\s*(?P<word>(?<![\w.])(?:{_CANCELLED}|{_TENTATIVE}|{_UNKNOWN})(?![\w]))"
    rf"\s*(?(open)\)|){_SEP}",
    re.IGNORECASE,
)
_CANCELLED_RE = re.compile(rf"^(?:{_CANCELLED})$", re.IGNORECASE)
_TENTATIVE_RE = re.compile(rf"^(?:{_TENTATIVE})$", re.IGNORECASE)
_QMARK = re.compile(r"\s*\(?\?\)?\s*$")


@dataclass(frozen=True, slots=True)
class StatusWords:
    text: str  # the text without its status words
    status: Status | None  # CANCELLED or TENTATIVE when written, else None
    unknown: tuple[str, ...] = ()  # words like "UTSATT": reported, not understood


def take_status(text: str, *, question_mark: bool = False) -> StatusWords:
    """The text without its status words, and the status they give.

    With `question_mark`, a "?" ending the text also marks it tentative (titles in lists:
    "Operakonsert i Eid?"). Cancelled wins over tentative.
    """
    if not text:
        return StatusWords(text, None)
    status: Status | None = None
    unknown: list[str] = []
    if question_mark and _QMARK.search(text) and text.strip() != "?":
        text = _QMARK.sub("", text)
        status = Status.TENTATIVE
    found = list(_WORDS.finditer(text)) if might_have_status(text) else []
    if not found:
        return StatusWords(text, status)
    out: list[str] = []
    pos = 0
    for m in found:
        word = " ".join(m["word"].split())
        if _CANCELLED_RE.match(word):
            status = Status.CANCELLED
        elif _TENTATIVE_RE.match(word):
            status = status or Status.TENTATIVE
        else:
            unknown.append(word)
            continue  # "UTSATT" stays in the text: it is not understood
        out.append(text[pos : m.start()])
        out.append(" " if m.start() > 0 and m.end() < len(text) else "")
        pos = m.end()
    out.append(text[pos:])
    return StatusWords(" ".join("".join(out).split()), status, tuple(unknown))


# Stems of every word above: a cheap pre-check, as most cells hold none of them (the hot path
# of big tables); a false hit only costs the full pattern.
_STEMS = ("avly", "utg", "kansel", "innstil", "ca", "cirka", "forel", "føreb", "tentat",
          "bekreft", "stadfest", "usikk", "bruk", "pleie", "utsat", "utset", "flytt", "endr",
          "ny dato")  # fmt: skip


_STEM_RE = re.compile("|".join(map(re.escape, _STEMS)))


def might_have_status(text: str) -> bool:
    return _STEM_RE.search(text.lower()) is not None


def combine(*statuses: Status | None) -> Status | None:
    """Cancelled wins over tentative; None when no text gave a status."""
    given = [s for s in statuses if s is not None]
    if Status.CANCELLED in given:
        return Status.CANCELLED
    return given[0] if given else None
