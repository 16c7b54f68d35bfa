"""`syncsvc status` for the terminal: the last runs and each calendar's last result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from syncsvc.domain.changes import ChangeKind


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
            counts = _counts_text(run.get("counts", {}))
            flags = " (dry run)" if run.get("dry_run") else ""
            duration = run.get("duration_seconds")
            took = f" in {duration:.1f}s" if isinstance(duration, int | float) else ""
            lines.append(
                f"  {run.get('started', '?')}  {run.get('outcome', '?'):<8} "
                f"{counts}{took}{flags}  [{run.get('run_id', '')}]"
            )
            if run.get("error"):
                lines.append(f"      error: {run['error']}")
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
                f"  {cal.get('name', ''):<{width}}  {outcome:<8} {cal.get('at') or '-'}  "
                f"{_counts_text(cal.get('counts') or {})}  {_plural(cal.get('events', 0), 'event')}"
            )
            if cal.get("error"):
                lines.append(f"  {'':<{width}}  error: {cal['error']}")
    return "\n".join(lines)


def _counts_text(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{counts.get(k.value, 0)} {k.value}" for k in ChangeKind if k.value in counts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
