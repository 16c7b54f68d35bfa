"""A readable run report: per-calendar changes for `--dry-run`, a summary table after a sync."""

from __future__ import annotations

from datetime import date, datetime

from syncsvc.domain.changes import (
    WRITES,
    CalendarReport,
    Change,
    ChangeKind,
    ChangeStatus,
    Outcome,
    RunReport,
)

_SIGN = {ChangeKind.CREATE: "+", ChangeKind.UPDATE: "~", ChangeKind.DELETE: "-"}
_COLUMNS = ("calendar", "target", "outcome", "create", "update", "delete", "same", "notes")


def format_report(report: RunReport, *, show_changes: bool) -> str:
    lines = [_headline(report)]
    lines += [f"warning: {note}" for note in report.notes]
    if show_changes:
        for cal in report.calendars:
            lines += ["", *_calendar_changes(cal)]
        lines.append("")
    lines += _table(report.calendars)
    return "\n".join(lines)


def _headline(report: RunReport) -> str:
    mode = "dry run" if report.dry_run else "sync"
    forced = ", forced" if report.forced else ""
    plan = (
        f"plan {report.plan_source or '?'}: {report.plan_items} items, "
        f"{report.plan_undated} undated, {report.plan_problems} problems"
    )
    return f"{mode} {report.run_id}{forced}: {report.outcome} — {plan}"


def _calendar_changes(cal: CalendarReport) -> list[str]:
    head = f"{cal.name} ({cal.target}): {cal.outcome.value}"
    if cal.error:
        head += f" — {cal.error}"
    lines = [head]
    changes = [c for c in cal.changes if c.kind is not ChangeKind.UNCHANGED]
    # Kept on purpose (a past event no longer in the plan): listed with why, never silent.
    kept = [c for c in cal.changes if c.kind is ChangeKind.UNCHANGED and c.reason != "unchanged"]
    if not changes:
        lines.append("  nothing to change")
    for change in sorted(changes, key=_order):
        lines.append(
            f"  {_SIGN[change.kind]} {_when(change.start):<16} {change.summary or change.uid}"
        )
        lines.append(f"      {change.reason}{_status(cal, change)}")
        lines += [f"      {name}: {old} → {new}" for name, old, new in change.fields]
    for change in sorted(kept, key=_order):
        lines.append(f"  = {_when(change.start):<16} {change.summary or change.uid}")
        lines.append(f"      {change.reason}")
    lines += [f"  note: {note}" for note in cal.notes]
    return lines


def _status(cal: CalendarReport, change: Change) -> str:
    # Planned changes of a dry or refused run are expected not to be applied: say nothing.
    if change.applied or cal.outcome in (Outcome.PLANNED, Outcome.REFUSED):
        return ""
    if change.status is ChangeStatus.FAILED:
        maybe = ", may have been applied" if change.maybe_applied else ""
        return f" (failed{maybe}: {change.error})"
    return " (not attempted)"


def _order(change: Change) -> tuple[str, str]:
    return (_when(change.start), change.summary)


def _when(value: date | datetime | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _table(calendars: list[CalendarReport]) -> list[str]:
    rows = [list(_COLUMNS)]
    for cal in calendars:
        notes = "; ".join(filter(None, [_shortfall(cal), cal.error, *cal.notes]))
        if cal.conflicts:
            notes = f"{cal.conflicts} conflict(s); {notes}".rstrip("; ")
        if cal.restored:
            notes = f"{cal.restored} restored; {notes}".rstrip("; ")
        rows.append(
            [
                cal.name,
                cal.target,
                cal.outcome.value,
                *(_cell(cal, k) for k in WRITES),
                str(cal.count(ChangeKind.UNCHANGED)),
                notes,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS) - 1)]
    out = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.append("  ".join([*cells, row[-1]]).rstrip())
    return out


def _cell(cal: CalendarReport, kind: ChangeKind) -> str:
    """Planned changes of a kind, as "applied/planned" when not all of them were applied."""
    planned = cal.count(kind)
    if cal.outcome in (Outcome.PLANNED, Outcome.REFUSED):
        return str(planned)
    applied = cal.tally.applied.get(kind)
    return str(planned) if applied == planned else f"{applied}/{planned}"


def _shortfall(cal: CalendarReport) -> str:
    if cal.outcome in (Outcome.PLANNED, Outcome.REFUSED):
        return ""
    tally = cal.tally
    bits = []
    if tally.failed.total:
        bits.append(f"{tally.failed.total} failed")
    if tally.not_attempted.total:
        bits.append(f"{tally.not_attempted.total} not attempted")
    return ", ".join(bits)
