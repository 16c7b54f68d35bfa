"""`syncsvc status` for the terminal: the last runs and each calendar's last result."""

from __future__ import annotations

from syncsvc.domain.changes import WRITES, RunOutcome, Tally
from syncsvc.state.records import StatusReport


def format_status(data: StatusReport) -> str:
    """A readable rendering of `status()` for the terminal."""
    lines = [f"State: {data.state}"]
    if not data.runs:
        lines.append("No runs recorded yet.")
    else:
        lines.append("")
        lines.append("Last runs:")
        for run in data.runs:
            counts = counts_text(run.counts, planned_only=run.dry_run)
            flags = " (dry run)" if run.dry_run else ""
            duration = run.duration_seconds
            took = f" in {duration:.1f}s" if duration is not None else ""
            lines.append(
                f"  {run.started.isoformat()}  {run.outcome.value:<10} "
                f"{counts}{took}{flags}  [{run.run_id}]"
            )
            if run.outcome is RunOutcome.RUNNING:
                lines.append("      still running (what it has applied so far)")
            elif run.error:
                label = "" if run.outcome is RunOutcome.UNFINISHED else "error: "
                lines.append(f"      {label}{run.error}")
            plan_bits = []
            if run.plan_undated:
                plan_bits.append(f"{run.plan_undated} undated")
            if run.plan_problems:
                plan_bits.append(f"{run.plan_problems} plan problems")
            if plan_bits:
                lines.append(f"      plan: {', '.join(plan_bits)}")
    if data.calendars:
        width = max(len(c.name) for c in data.calendars)
        lines.append("")
        lines.append("Calendars:")
        for cal in data.calendars:
            outcome = cal.outcome or "never synced"
            at = cal.at.isoformat() if cal.at else "-"
            lines.append(
                f"  {cal.name:<{width}}  {outcome:<10} {at}  "
                f"{counts_text(cal.counts)}  {_plural(cal.events, 'event')}"
            )
            if cal.error:
                lines.append(f"  {'':<{width}}  error: {cal.error}")
    return "\n".join(lines)


def counts_text(tally: Tally, *, planned_only: bool = False) -> str:
    """'applied 38 create, 0 update, 0 delete; 1 failed, 76 not attempted; 41 unchanged'.
    Counts are what the target confirmed; a dry run only ever plans."""
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
