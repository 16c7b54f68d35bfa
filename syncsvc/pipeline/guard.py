"""The deletion guard: refuse a run that would delete too much (a shrunk or broken plan).

A calendar diff is refused when it would delete more than `threshold` of the calendar's owned
events (checked once it holds at least MIN_OWNED owned events), or every owned event of a
non-empty calendar. `force` lets it through. The engine refuses the whole run when any
calendar is refused, because a shrunk plan affects every calendar.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncsvc.pipeline.diff import REPLACED, CalendarDiff

MIN_OWNED = 10


@dataclass(frozen=True, slots=True)
class Verdict:
    calendar: str
    refused: bool
    deletes: int
    owned: int
    threshold: float
    reason: str = ""

    def describe(self) -> str:
        share = self.deletes / self.owned if self.owned else 0.0
        return (
            f"would delete {self.deletes} of {self.owned} owned events ({share:.0%}; "
            f"threshold {self.threshold:.0%}){': ' + self.reason if self.reason else ''}"
        )


def check(calendar: str, change: CalendarDiff, *, threshold: float, force: bool = False) -> Verdict:
    # A migration's delete (pipeline.adopt) comes with the event that replaces it: not a loss.
    replaced = sum(1 for c in change.deletes if c.reason == REPLACED)
    owned = len(change.observed) - replaced
    deletes = len(change.deletes) - replaced
    reason = ""
    if deletes and owned and deletes >= owned:
        reason = "every owned event"
    elif owned >= MIN_OWNED and deletes / owned > threshold:
        reason = "above the threshold"
    refused = bool(reason) and not force
    return Verdict(calendar, refused, deletes, owned, threshold, reason if refused else "")
