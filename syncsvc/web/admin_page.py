"""The admin page's HTML: login, the dashboard (status per calendar, recent runs and the last
report, the plan's problems with where they are, pending changes from a dry run, sync now)
and the --force confirmation that lists what would be deleted.

Pure rendering over the state store's records and `RunReport.to_dict()`. No script;
every value is escaped; every form carries the CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from syncsvc.domain.changes import WRITES
from syncsvc.state.records import CalendarRecord, PlanIssues, RunRecord, SyncStatus
from syncsvc.web.admin_text import TEXT, Lang

CSS = """
:root { color-scheme: light; --accent: #005a70; --bad: #9b1c1c; --ok: #1e6b34; --line: #cfd6da; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1a1a1a; background: #f6f7f8; }
header, main { max-width: 64rem; margin: 0 auto; padding: 0 1rem; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline;
  justify-content: space-between; padding-top: 1rem; }
h1 { font-size: 1.4rem; margin: 0; color: var(--accent); }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
nav.lang a, nav.lang span { margin-right: .6rem; }
a { color: var(--accent); }
.box { background: #fff; border: 1px solid var(--line); border-radius: .5rem;
  padding: .75rem 1rem; }
.msg { background: #e8f3ec; border-color: #9fc9ab; }
.err { background: #fbeaea; border-color: #e0a3a3; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; overflow-wrap: anywhere; }
th { font-size: .9rem; color: #333; }
.outcome-ok, .outcome-planned { color: var(--ok); font-weight: 600; }
.outcome-failed, .outcome-partial, .outcome-refused { color: var(--bad); font-weight: 600; }
form.inline { display: inline-block; margin: 0 .5rem .5rem 0; }
button { font: inherit; padding: .5rem .9rem; border-radius: .4rem; border: 1px solid var(--accent);
  background: #fff; color: var(--accent); font-weight: 600; cursor: pointer; }
button.primary { background: var(--accent); color: #fff; }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
input[type=password] { font: inherit; padding: .45rem .6rem; width: 100%; max-width: 24rem;
  border: 1px solid #767676; border-radius: .3rem; }
ul.changes { margin: .2rem 0 .6rem; padding-left: 1.2rem; }
.old { text-decoration: line-through; color: #5a5a5a; }
:focus-visible { outline: 3px solid #e08a00; outline-offset: 2px; }
"""

STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _document(lang: Lang, body: list[str], *, heading: str) -> str:
    t = TEXT[lang]
    other: Lang = "en" if lang == "nb" else "nb"
    names = {"nb": "Norsk (bokmål)", "en": "English"}
    switch = (
        f'<nav class="lang" aria-label="{_e(t["language"])}">'
        f'<span aria-current="true">{names[lang]}</span>'
        f'<a href="/admin?lang={other}" hreflang="{other}" lang="{other}">{names[other]}</a></nav>'
    )
    return "\n".join(
        [
            "<!doctype html>",
            f'<html lang="{lang}">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="robots" content="noindex">',
            f"<title>{_e(heading)} – {_e(t['title'])}</title>",
            f"<style>{CSS}</style></head>",
            "<body>",
            f"<header><h1>{_e(t['title'])}</h1>{switch}</header>",
            "<main>",
            *body,
            "</main>",
            "</body></html>",
            "",
        ]
    )


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{_e(token)}">'


def login_page(lang: Lang, *, csrf: str, failed: bool = False) -> str:
    t = TEXT[lang]
    body = [f"<h2>{_e(t['login_heading'])}</h2>"]
    if failed:
        body.append(f'<p class="box err" role="alert">{_e(t["login_failed"])}</p>')
    body += [
        '<form class="box" method="post" action="/admin/login">',
        _csrf(csrf),
        f"<p>{_e(t['login_help'])}</p>",
        f'<label for="secret">{_e(t["secret"])}</label>',
        '<input id="secret" name="secret" type="password" autocomplete="current-password" '
        "required>",
        f'<p><button class="primary" type="submit">{_e(t["login"])}</button></p>',
        "</form>",
    ]
    return _document(lang, body, heading=t["login_heading"])


def dashboard(
    lang: Lang,
    *,
    csrf: str,
    readiness: tuple[bool, str],
    sync: SyncStatus | None,
    calendars: Sequence[CalendarRecord],
    runs: Sequence[RunRecord],
    plan: PlanIssues | None,
    last_report: Mapping[str, Any] | None,
    preview: Mapping[str, Any] | None = None,
    preview_error: str | None = None,
    message: str | None = None,
) -> str:
    t = TEXT[lang]
    ready, detail = readiness
    body: list[str] = []
    if message:
        body.append(f'<p class="box msg" role="status">{_e(message)}</p>')
    state = t["ready"] if ready else t["not_ready"]
    running = [t["running"]] if sync and sync.running else []
    running += [t["pending"]] if sync and sync.pending else []
    body += [
        f"<h2>{_e(t['status'])}</h2>",
        f'<p class="box"><strong class="outcome-{"ok" if ready else "failed"}">{_e(state)}</strong>'
        f" – {_e(detail)} {_e(' '.join(running))}</p>",
        f"<h2>{_e(t['actions'])}</h2>",
        '<div class="box">',
        _button("/admin/sync-now", t["sync_now"], csrf, "primary"),
        _button("/admin/preview", t["preview"], csrf),
        _button("/admin/force", t["sync_force"], csrf, "danger"),
        f"{_button('/admin/logout', t['logout'], csrf)}</div>",
    ]
    if preview_error:
        body.append(
            f'<p class="box err" role="alert">{_e(t["preview_failed"])}: {_e(preview_error)}</p>'
        )
    if preview is not None:
        body += [f"<h2>{_e(t['preview_heading'])}</h2>", _report(lang, preview, pending=True)]
    body += [f"<h2>{_e(t['calendars'])}</h2>", _calendars(lang, calendars)]
    body += [f"<h2>{_e(t['problems'])}</h2>", _problems(lang, plan)]
    body += [f"<h2>{_e(t['runs'])}</h2>", _runs(lang, runs)]
    if last_report:
        heading = f"{t['last_report']}: {_short(last_report.get('started'))}"
        body += [f'<h2 id="report">{_e(heading)}</h2>', _report(lang, last_report, pending=False)]
    return _document(lang, body, heading=t["status"])


def force_page(lang: Lang, *, csrf: str, deletions: Sequence[Mapping[str, Any]]) -> str:
    """What `sync --force` would delete, and the one button that does it."""
    t = TEXT[lang]
    body = [f"<h2>{_e(t['force_heading'])}</h2>", '<div class="box">']
    if deletions:
        body.append(f"<p>{_e(t['force_help'])}</p>")
        body.append('<div class="scroll"><table class="deletions">')
        body.append(
            f'<tr><th scope="col">{_e(t["calendar"])}</th><th scope="col">{_e(t["started"])}'
            f'</th><th scope="col">{_e(t["changes"])}</th></tr>'
        )
        for d in deletions:
            body.append(
                f"<tr><td>{_e(d['calendar'])}</td><td>{_e(d.get('start') or '')}</td>"
                f"<td>{_e(d.get('summary') or d.get('uid'))}</td></tr>"
            )
        body.append("</table></div>")
    else:
        body.append(f"<p>{_e(t['force_none'])}</p>")
    body += [
        '<form class="inline" method="post" action="/admin/force">',
        _csrf(csrf),
        '<input type="hidden" name="confirm" value="yes">',
        f'<button class="danger" type="submit">{_e(t["force_confirm"])}</button></form>',
        f'<p><a href="/admin">{_e(t["cancel"])}</a></p></div>',
    ]
    return _document(lang, body, heading=t["force_heading"])


def deletions(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every delete a report plans, with its calendar: what --force would remove."""
    return [
        {**change, "calendar": cal["name"]}
        for cal in report.get("calendars", [])
        for change in cal.get("changes", [])
        if change.get("kind") == "delete"
    ]


def _button(action: str, label: str, csrf: str, kind: str = "") -> str:
    cls = f' class="{kind}"' if kind else ""
    return (
        f'<form class="inline" method="post" action="{action}">{_csrf(csrf)}'
        f'<button{cls} type="submit">{_e(label)}</button></form>'
    )


def _calendars(lang: Lang, calendars: Sequence[CalendarRecord]) -> str:
    t = TEXT[lang]
    rows = [
        '<div class="scroll"><table class="calendars">',
        "<tr>"
        + "".join(
            f'<th scope="col">{_e(t[k])}</th>'
            for k in ("calendar", "target", "outcome", "events", "last_run", "error")
        )
        + "</tr>",
    ]
    for cal in calendars:
        outcome = cal.outcome or ""
        rows.append(
            f"<tr><td>{_e(cal.name)}</td><td>{_e(cal.target)}</td>"
            f'<td class="outcome-{_e(outcome)}">{_e(outcome)}</td><td>{_e(cal.events)}</td>'
            f"<td>{_e(_short(cal.at))}</td><td>{_e(cal.error or '')}</td></tr>"
        )
    rows.append("</table></div>")
    return "".join(rows)


def _problems(lang: Lang, plan: PlanIssues | None) -> str:
    t = TEXT[lang]
    problems, undated = (plan.problems, plan.undated) if plan else ((), ())
    if not problems and not undated:
        return f'<p class="box">{_e(t["no_problems"])}</p>'
    rows = [
        '<div class="scroll"><table class="problems">',
        f'<tr><th scope="col">{_e(t["where"])}</th><th scope="col">{_e(t["message"])}</th></tr>',
    ]
    for p in problems + undated:
        text = p.message
        if p.undated:
            text = f"{t['undated']}: {p.title or p.item_key or text}"
        rows.append(f"<tr><td>{_e(p.where or '')}</td><td>{_e(p.severity)}: {_e(text)}</td></tr>")
    rows.append("</table></div>")
    return "".join(rows)


def _runs(lang: Lang, runs: Sequence[RunRecord]) -> str:
    t = TEXT[lang]
    if not runs:
        return f'<p class="box">{_e(t["no_runs"])}</p>'
    rows = [
        '<div class="scroll"><table class="runs">',
        "<tr>"
        + "".join(f'<th scope="col">{_e(t[k])}</th>' for k in ("started", "outcome", "changes"))
        + f'<th scope="col">{_e(t["error"])}</th></tr>',
    ]
    for run in runs:
        # What the server confirmed (a dry run only plans), as `syncsvc status` counts it.
        tally = run.counts
        kinds = tally.planned if run.dry_run else tally.applied
        flags = [t["dry"]] if run.dry_run else []
        flags += [t["forced"]] if run.forced else []
        outcome = run.outcome.value
        changes = " ".join(f"{t[k.value]} {kinds.get(k)}" for k in WRITES if kinds.get(k))
        if not run.dry_run:
            for label, n in (
                ("failed", tally.failed.total),
                ("not_applied", tally.not_attempted.total),
            ):
                changes += f"; {t[label]} {n}" if n else ""
        link = f'<a href="/admin?run={quote(run.run_id)}#report">'
        rows.append(
            f"<tr><td>{link}{_e(_short(run.started))}</a></td>"
            f'<td class="outcome-{_e(outcome)}">{_e(outcome)}'
            f"{(' (' + _e(', '.join(flags)) + ')') if flags else ''}</td>"
            f"<td>{_e(changes or t['nothing'])}</td><td>{_e(run.error or '')}</td></tr>"
        )
    rows.append("</table></div>")
    return "".join(rows)


def _report(lang: Lang, report: Mapping[str, Any], *, pending: bool) -> str:
    """Per calendar: each change with its date, title and reason; old → new where known."""
    t = TEXT[lang]
    out = ['<div class="box report">']
    out += [f'<p class="note">{_e(n)}</p>' for n in report.get("notes") or []]
    if report.get("error"):
        out.append(f'<p class="outcome-failed">{_e(report["error"])}</p>')
    for cal in report.get("calendars", []):
        changes = [c for c in cal.get("changes", []) if c.get("kind") != "unchanged"]
        outcome = str(cal.get("outcome") or "")
        head = f'{_e(cal.get("name"))} <span class="outcome-{_e(outcome)}">{_e(outcome)}</span>'
        out.append(f"<h3>{head}</h3>")
        if cal.get("error"):
            out.append(f'<p class="outcome-failed">{_e(cal["error"])}</p>')
        if not changes:
            out.append(f"<p>{_e(t['nothing'])}</p>")
            continue
        out.append('<ul class="changes">')
        for change in changes:
            kind = str(change.get("kind"))
            line = (
                f"<strong>{_e(t.get(kind, kind))}</strong> {_e(_short(change.get('start')))} "
                f"{_e(change.get('summary') or change.get('uid'))} – {_e(change.get('reason'))}"
            )
            line += _fields(change.get("fields"))
            status = change.get("status")
            if status == "failed":
                why = f"{t['failed']}: {change.get('error')}"
                line += f' <span class="outcome-failed">({_e(why)})</span>'
            elif not pending and status != "applied" and outcome != "refused":
                line += f" ({_e(t['not_applied'])})"
            out.append(f"<li>{line}</li>")
        out.append("</ul>")
    out.append("</div>")
    return "".join(out)


def _fields(fields: object) -> str:
    """Old → new per changed field, as the report carries them: [[field, old, new], ...]."""
    if not isinstance(fields, list | tuple) or not fields:
        return ""
    items = []
    for entry in fields:
        if isinstance(entry, list | tuple) and len(entry) == 3:
            name, old, new = entry
            items.append(
                f'<li>{_e(name)}: <span class="old">{_e(old)}</span> → '
                f'<span class="new">{_e(new)}</span></li>'
            )
    return f'<ul class="fields">{"".join(items)}</ul>'


def _short(value: object) -> str:
    """'2024-09-17T10:00:00+02:00' → '2024-09-17 10:00'."""
    text = value.isoformat() if isinstance(value, datetime) else "" if value is None else str(value)
    return text[:16].replace("T", " ") if len(text) >= 16 else text
