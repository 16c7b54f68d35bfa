"""`syncsvc status` for the terminal: the last runs and each calendar's last result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from syncsvc.domain.changes import WRITES, RunOutcome, Tally


def format_status(data: Mapping[str, Any]) -> str:
    """A readable rendering of `status()` for the terminal."""
    lines = [f"State: {data.get('state', '?')}"]
    runs: Sequence[Mapping[str, Any]] = data.get("runs", [])
    if not runs:
        lines.append("No runs recorded yet.")
    else:
        lines.append("")
        lines.append("Last runs:")
        for run in runs:
            counts = counts_text(run.get("counts"), planned_only=bool(run.get("dry_run")))
            flags = " (dry run)" if run.get("dry_run") else ""
            duration = run.get("duration_seconds")
            took = f" in {duration:.1f}s" if isinstance(duration, int | float) else ""
            lines.append(
                f"  {run.get('started', '?')}  {run.get('outcome', '?'):<10} "
                f"{counts}{took}{flags}  [{run.get('run_id', '')}]"
            )
            if run.get("outcome") == RunOutcome.RUNNING:
                lines.append("      still running (what it has applied so far)")
            elif run.get("error"):
                label = "" if run.get("outcome") == RunOutcome.UNFINISHED else "error: "
                lines.append(f"      {label}{run['error']}")
            plan_bits = []
            if run.get("plan_undated"):
                plan_bits.append(f"{run['plan_undated']} undated")
            if run.get("plan_problems"):
                plan_bits.append(f"{run['plan_problems']} plan problems")
            if plan_bits:
                lines.append(f"      plan: {', '.join(plan_bits)}")
    calendars: Sequence[Mapping[str, Any]] = data.get("calendars", [])
    if calendars:
        width = max(len(str(c.get("name", ""))) for c in calendars)
        lines.append("")
        lines.append("Calendars:")
        for cal in calendars:
            outcome = cal.get("outcome") or "never synced"
            lines.append(
                f"  {cal.get('name', ''):<{width}}  {outcome:<10} {cal.get('at') or '-'}  "
                f"{counts_text(cal.get('counts'))}  {_plural(cal.get('events', 0), 'event')}"
            )
            if cal.get("error"):
                lines.append(f"  {'':<{width}}  error: {cal['error']}")
    return "\n".join(lines)


def counts_text(counts: Mapping[str, Any] | None, *, planned_only: bool = False) -> str:
    """'applied 38 create, 0 update, 0 delete; 1 failed, 76 not attempted; 41 unchanged'.
    Counts are what the target confirmed; a dry run only ever plans."""
    tally = Tally.from_dict(counts)
    if planned_only:
        kinds = tally.planned
        head = "planned " + ", ".join(f"{kinds.get(k)} {k.value}" for k in WRITES)
        return f"{head}; {tally.unchanged} unchanged"
    kinds = tally.applied
    parts = ["applied " + ", ".join(f"{kinds.get(k)} {k.value}" for k in WRITES)]
    short = []
    if tally.failed.total:
        short.append(f"{tally.failed.total} failed")
    if tally.not_attempted.total:
        short.append(f"{tally.not_attempted.total} not attempted")
    if short:
        parts.append(", ".join(short) + f" of {tally.planned.total} planned")
    parts.append(f"{tally.unchanged} unchanged")
    return "; ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
