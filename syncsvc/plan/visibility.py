"""The SYNLIGGJØRING column: is an item public (the "Hva skjer" calendar), and may its topics be?

Real plans write the positive case many ways ("Temaoversikt i "Hva skjer"-kalender",
"Kalender Hva skjer", "Legges i Hva skjer"), and sometimes the negative ("Skal IKKE i Hva
skjer-kalenderen", "Hva skjer: nei", "not in Hva skjer"). Publishing is the one mistake that
cannot be taken back, so the rule is: public only when a clause names the calendar without a
negation or a hedge; a negation makes it private; anything unclear (a hedge, or clauses that
disagree) is private *and* a problem the admin sees. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

_CALENDAR = re.compile(r"hva\W{0,3}skjer(?:\s*\?)?", re.IGNORECASE)
# Clauses: lines, sentences and list separators. Not ":" ("Hva skjer: nei" is one answer).
_CLAUSE = re.compile(r"[\n;.,/+•|]+|\s+-\s+|\s+–\s+|\s+(?:og|and|samt|men|but)\s+", re.IGNORECASE)
_WORD = re.compile(r"[a-zæøåäöü]+", re.IGNORECASE)
_NEGATIONS = frozenset(
    {"ikke", "ikkje", "nei", "ingen", "aldri", "uten", "unntatt", "ei"}
    | {"not", "no", "never", "without", "except", "dont", "don't"}
)
_HEDGES = frozenset(
    {"kanskje", "evt", "eventuelt", "muligens", "mulig", "usikker", "usikkert", "uklart"}
    | {"maybe", "perhaps", "possibly", "unsure", "tbd", "ukjent"}
)
_HEDGE_PREFIXES = ("vurder", "avklar", "diskuter", "sjekk", "undersøk")
_BARE_ANSWERS = {"nei": False, "no": False, "ikke": False, "ja": True, "yes": True}
# Words that say the topics of each date are meant for the public calendar too.
_TOPIC_WORDS = re.compile(r"\btema\w*|\bprogram\w*|\btopic\w*", re.IGNORECASE)
_INTERNAL = re.compile(r"\b(kun\s+internt?|bare\s+internt?|internal\s+only|intern[te]?)\b", re.I)


class Verdict(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class Visibility:
    verdict: Verdict
    topics: bool = False  # the public clause also publishes per-date topics
    reason: str = ""  # for UNCLEAR: what made it unclear, quoted from the cell

    @property
    def public(self) -> bool:
        return self.verdict is Verdict.PUBLIC


PRIVATE = Visibility(Verdict.PRIVATE)


def read_visibility(text: str) -> Visibility:
    """The verdict for one SYNLIGGJØRING cell (continuation rows joined with newlines)."""
    folded = unicodedata.normalize("NFKC", text).replace("\u00a0", " ")
    if not _CALENDAR.search(folded):
        return PRIVATE
    verdicts: list[tuple[bool | None, str]] = []  # (public? / None unclear, clause)
    previous: int | None = None
    hedged = False  # "Evt. Hva skjer": a lone hedge before the clause it qualifies
    for clause in (c.strip() for c in _CLAUSE.split(folded)):
        if not clause:
            continue
        words = [w.casefold() for w in _WORD.findall(clause)]
        if not _CALENDAR.search(clause):
            hedged = bool(words) and len(words) <= 2 and all(_is_hedge(w) for w in words)
            # A bare "nei"/"ja" answers the clause before it: "Hva skjer-kalender, nei".
            if previous is not None and len(words) == 1 and words[0] in _BARE_ANSWERS:
                answer = _BARE_ANSWERS[words[0]]
                before = verdicts[previous]
                verdicts[previous] = (answer if before[0] is not None else None, before[1])
            continue
        verdict = None if hedged else _clause_verdict(clause, words)
        hedged = False
        verdicts.append((verdict, clause))
        previous = len(verdicts) - 1
    if any(v is None for v, _ in verdicts):
        clause = next(c for v, c in verdicts if v is None)
        return Visibility(Verdict.UNCLEAR, reason=f"unclear whether public: {clause!r}")
    answers = {v for v, _ in verdicts}
    if answers == {True}:
        if _INTERNAL.search(folded):
            return Visibility(Verdict.UNCLEAR, reason=f"both public and internal: {text.strip()!r}")
        topics = any(_TOPIC_WORDS.search(c) for v, c in verdicts if v)
        return Visibility(Verdict.PUBLIC, topics=topics)
    if answers == {False}:
        return PRIVATE
    return Visibility(Verdict.UNCLEAR, reason=f"public and not public at once: {text.strip()!r}")


def _clause_verdict(clause: str, words: list[str]) -> bool | None:
    """True public, False negated, None unclear (a hedge, or a question mark)."""
    # A hedge first: "Hva skjer: ikke avklart" is undecided, not a no.
    if any(_is_hedge(w) for w in words):
        return None
    if any(w in _NEGATIONS for w in words) or "n't" in clause.casefold():
        return False
    # "Hva skjer?" is the calendar's own name; a question mark anywhere else is a doubt.
    if "?" in _CALENDAR.sub(" ", clause):
        return None
    return True


def _is_hedge(word: str) -> bool:
    return word in _HEDGES or word.startswith(_HEDGE_PREFIXES)
