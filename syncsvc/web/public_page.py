"""The public "Hva skjer" page: events by month with navigation to later and past months, how
to subscribe (Outlook, Google Calendar, iPhone) with the feed's https address to copy, an
anchor and a single-event .ics per event, place and meeting link, schema.org JSON-LD, and an
embeddable view (`embed=True`: the list alone, for an iframe on the library's own site).

Pure rendering: `page()` returns the whole document. Every piece of plan text goes through
`html.escape`; no script runs (the JSON-LD block is data) and the stylesheet is allowed by
hash in `content_security_policy()`.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from syncsvc.web.agenda import MAX_DESCRIPTION, AgendaEvent, day_text, month_heading, when_text
from syncsvc.web.public_data import (
    View,
    anchor,
    event_jsonld,
    jsonld_script,
    month_key,
    online_link,
    place,
)

CSS = """
:root { color-scheme: light; --accent: #005a70; --muted: #4d4d4d; --line: #cfd6da; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1a1a1a; background: #f6f7f8; }
body.embed { background: transparent; }
h1.embed-title { font-size: 1.2rem; max-width: 46rem; margin: .5rem auto 0; padding: 0 1rem; }
header, main, footer, nav.months { max-width: 46rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.5rem; }
h1 { font-size: 1.7rem; line-height: 1.2; margin: 0 0 .25rem; color: var(--accent); }
.lead { margin: 0 0 1rem; color: var(--muted); }
.links { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 1rem; }
a.button { display: inline-block; padding: .55rem .9rem; border-radius: .4rem;
  border: 1px solid var(--accent); color: var(--accent); text-decoration: none; font-weight: 600;
  background: #fff; }
a.button.primary { background: var(--accent); color: #fff; }
a:focus-visible, summary:focus-visible, input:focus-visible { outline: 3px solid #e08a00;
  outline-offset: 2px; }
details.help { background: #fff; border: 1px solid var(--line); border-radius: .5rem;
  padding: .5rem 1rem; margin: 0 0 1rem; }
details.help summary { cursor: pointer; font-weight: 600; color: var(--accent); }
.help a { color: var(--accent); font-weight: 600; }
.help h2.client { font-size: 1rem; margin: .9rem 0 .2rem; padding: 0; border: 0; }
.help ol { margin: .2rem 0 .4rem; padding-left: 1.4rem; }
label.feed { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
input.feed { width: 100%; font: inherit; font-size: .95rem; padding: .45rem .6rem;
  border: 1px solid #767676; border-radius: .3rem; background: #fff; color: #1a1a1a; }
nav.months ul { list-style: none; display: flex; flex-wrap: wrap; gap: .5rem 1rem;
  margin: .5rem 0 0; padding: 0; }
nav.months a { color: var(--accent); font-weight: 600; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; padding-bottom: .25rem;
  border-bottom: 2px solid var(--accent); }
ul.events { list-style: none; margin: 0; padding: 0; }
li.event { background: #fff; border: 1px solid var(--line); border-radius: .5rem;
  padding: .75rem 1rem; margin: 0 0 .6rem; }
li.event:target { border: 2px solid var(--accent); }
li.event.past { background: #eef0f2; }
.when { font-size: .95rem; color: var(--muted); }
.when .date { font-weight: 600; color: #1a1a1a; }
h3.title { font-size: 1.05rem; margin: .15rem 0 0; overflow-wrap: anywhere; }
h3.title a { color: inherit; text-decoration: none; }
.tag { display: inline-block; font-size: .8rem; font-weight: 600; padding: .05rem .45rem;
  border-radius: 1rem; background: #fff3cd; color: #5c4300; border: 1px solid #e6c866;
  margin-left: .35rem; vertical-align: middle; }
.tag.past { background: #e2e5e8; color: #333; border-color: #b9c0c5; }
.where, .desc, .actions { margin: .3rem 0 0; font-size: .95rem; overflow-wrap: anywhere; }
.desc { white-space: pre-line; color: #333; }
.actions a { color: var(--accent); font-weight: 600; margin-right: 1rem; }
.empty { padding: 1rem; background: #fff; border-radius: .5rem; border: 1px solid var(--line); }
footer { color: var(--muted); font-size: .85rem; padding-bottom: 2rem; margin-top: 1.5rem; }
"""

STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()


def content_security_policy(*, embed: bool, frame_ancestors: str = "*") -> str:
    """No script, this stylesheet only; the embed view may be framed (it changes nothing)."""
    frames = frame_ancestors if embed else "'none'"
    return (
        f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; "
        f"form-action 'none'; frame-ancestors {frames}"
    )


@dataclass(frozen=True, slots=True)
class PageLinks:
    """Absolute with `http.public_base_url`; else relative, and then no subscribe link or
    address to copy (both need the public host name, which the request must not supply)."""

    page: str  # the page itself: https://host/ or "/"
    feed: str  # the feed: https://host/hva-skjer.ics or "/hva-skjer.ics"
    subscribe: str | None  # webcal:// form of the feed
    event_ics: str  # prefix of single-event files: f"{event_ics}{anchor}.ics"

    @property
    def absolute(self) -> bool:
        return self.feed.startswith(("https://", "http://"))


def _month_href(links: PageLinks, month: date | None, *, embed: bool) -> str:
    if embed:  # relative to /embed itself
        return f"?maaned={month_key(month)}" if month else "embed"
    return f"{links.page}?maaned={month_key(month)}" if month else links.page


def page(
    view: View,
    *,
    title: str,
    links: PageLinks,
    now: datetime,
    embed: bool = False,
    updated: datetime | None = None,
) -> str:
    e = html.escape
    today = now.date()
    heading = "Kommende arrangementer" if view.month is None else month_heading(view.month)
    parts = [
        "<!doctype html>",
        '<html lang="nb">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}{'' if view.month is None else ' – ' + e(heading)}</title>",
        f'<link rel="alternate" type="text/calendar" title="{e(title)}" href="{e(links.feed)}">',
        f"<style>{CSS}</style>",
    ]
    if embed:
        parts.append('<base target="_top">')  # links open in the library's page, not the frame
    parts.append(
        jsonld_script(
            [
                event_jsonld(ev, page_url=_event_url(ev, links), organizer=title)
                for ev in view.events
            ]
        )
    )
    parts += ["</head>", f'<body class="{"embed" if embed else "full"}">']
    if not embed:
        parts += [
            "<header>",
            f"<h1>{e(title)}</h1>",
            f'<p class="lead">{e(heading)}</p>',
            '<p class="links">',
            (
                f'<a class="button primary" href="{e(links.subscribe)}">Abonner på kalenderen</a>'
                if links.subscribe
                else ""
            ),
            f'<a class="button" href="{e(links.feed)}" download>Last ned alle (.ics)</a>',
            "</p>",
            _subscribe_help(links) if links.absolute else "",
            "</header>",
        ]
    if embed:  # the list alone: its heading and month links inside the one landmark
        parts += ["<main>", f'<h1 class="embed-title">{e(title)}</h1>']
        parts.append(_month_nav(view, links, embed=embed))
    else:
        parts += [_month_nav(view, links, embed=embed), "<main>"]
    if not view.events:
        empty = (
            "Ingen kommende arrangementer akkurat nå."
            if view.month is None
            else f"Ingen arrangementer i {e(heading.lower())}."
        )
        parts.append(f'<p class="empty">{empty}</p>')

    def section(event: AgendaEvent) -> date:
        # In the upcoming view an event already under way is listed under this month.
        day = max(event.first_day, today) if view.month is None else event.first_day
        return max(date(day.year, day.month, 1), view.month or date.min)

    for month, group in groupby(view.events, key=section):
        parts.append(f"<section><h2>{e(month_heading(month))}</h2>")
        parts.append('<ul class="events">')
        parts.extend(_event_html(ev, links, now, embed=embed) for ev in group)
        parts.append("</ul></section>")
    parts.append("</main>")
    if not embed:
        footer = "Kalenderen oppdateres automatisk fra årsplanen."
        if updated is not None:
            footer += f" Sist oppdatert {day_text(updated.date(), weekday=False)} {updated.year}."
        parts.append(f"<footer><p>{e(footer)}</p></footer>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _event_url(event: AgendaEvent, links: PageLinks) -> str:
    month = date(event.first_day.year, event.first_day.month, 1)
    return f"{links.page}?maaned={month_key(month)}#{anchor(event.uid)}"


def _month_nav(view: View, links: PageLinks, *, embed: bool) -> str:
    e = html.escape
    items: list[str] = []
    # Month links stay inside the frame when embedded; everything else opens outside it.
    frame = ' target="_self"' if embed else ""
    if view.previous is not None:
        label = "Tidligere arrangementer" if view.month is None else month_heading(view.previous)
        href = _month_href(links, view.previous, embed=embed)
        items.append(f'<li><a href="{href}"{frame} rel="prev">← {e(label)}</a></li>')
    if view.month is not None:
        href = _month_href(links, None, embed=embed)
        items.append(f'<li><a href="{href}"{frame}>Kommende arrangementer</a></li>')
    if view.next is not None:
        href = _month_href(links, view.next, embed=embed)
        label = month_heading(view.next)
        items.append(f'<li><a href="{href}"{frame} rel="next">{e(label)} →</a></li>')
    if not items:
        return ""
    return f'<nav class="months" aria-label="Måneder"><ul>{"".join(items)}</ul></nav>'


def _subscribe_help(links: PageLinks) -> str:
    e = html.escape
    return "".join(
        [
            '<details class="help">',
            "<summary>Slik får du arrangementene i din egen kalender</summary>",
            "<p>Et abonnement holder seg oppdatert av seg selv. «Legg til i min kalender» ved "
            "et arrangement lagrer bare det ene, slik det er nå.</p>",
            '<label class="feed" for="feed-url">Kalenderadresse (kopier denne)</label>',
            f'<input class="feed" id="feed-url" type="text" readonly value="{e(links.feed)}">',
            '<h2 class="client">Outlook</h2><ol>',
            "<li>Åpne kalenderen i Outlook på nett eller nye Outlook.</li>",
            "<li>Velg <strong>Legg til kalender</strong>, så <strong>Abonner fra "
            "nettet</strong>.</li>",
            "<li>Lim inn adressen, gi kalenderen et navn og velg <strong>Importer</strong>."
            "</li></ol>",
            '<h2 class="client">Google Kalender</h2><ol>',
            "<li>Gå til calendar.google.com på en datamaskin (det går ikke i appen).</li>",
            "<li>Velg <strong>+</strong> ved <strong>Andre kalendere</strong>, så "
            "<strong>Fra nettadresse</strong>.</li>",
            "<li>Lim inn adressen og velg <strong>Legg til kalender</strong>. Google henter "
            "endringer noen ganger i døgnet, ikke med en gang.</li></ol>",
            '<h2 class="client">iPhone og iPad</h2><ol>',
            (
                f'<li>Trykk <a href="{e(links.subscribe)}">Abonner på kalenderen</a> på '
                "telefonen og bekreft, eller:</li>"
                if links.subscribe
                else ""
            ),
            "<li>Åpne <strong>Innstillinger</strong> → <strong>Kalender</strong> → "
            "<strong>Kontoer</strong> → <strong>Legg til konto</strong> → "
            "<strong>Annet</strong> → <strong>Legg til abonnert kalender</strong>, og lim "
            "inn adressen.</li></ol>",
            "</details>",
        ]
    )


def _event_html(event: AgendaEvent, links: PageLinks, now: datetime, *, embed: bool) -> str:
    e = html.escape
    name = anchor(event.uid)
    # Embedded, the title leads to the event on the full page (links open outside the frame).
    own = _event_url(event, links) if embed else f"#{name}"
    date_part, time_part = when_text(event)
    when = f'<time class="date" datetime="{event.first_day.isoformat()}">{e(date_part)}</time>'
    if time_part:
        when += f' <span class="time">{e(time_part)}</span>'
    past = event.end <= now if isinstance(event.end, datetime) else event.last_day < now.date()
    classes = ["event"] + (["tentative"] if event.tentative else []) + (["past"] if past else [])
    tags = ' <span class="tag">foreløpig</span>' if event.tentative else ""
    tags += ' <span class="tag past">har vært</span>' if past else ""
    out = [
        f'<li class="{" ".join(classes)}" id="{name}">',
        f'<div class="when">{when}</div>',
        f'<h3 class="title"><a href="{e(own)}">{e(event.summary)}</a>{tags}</h3>',
    ]
    where, link = place(event), online_link(event)
    if where:
        out.append(f'<p class="where">Sted: {e(where)}</p>')
    if event.description:
        text = event.description
        if len(text) > MAX_DESCRIPTION:
            text = text[:MAX_DESCRIPTION].rsplit(" ", 1)[0] + " …"
        out.append(f'<p class="desc">{e(text)}</p>')
    actions = []
    if link:
        actions.append(f'<a href="{e(link)}" rel="noopener">Bli med på nett</a>')
    if not past:
        # Named after the event for screen readers, whose link lists lose the context.
        label = e(f"Legg til i min kalender: {event.summary}")
        actions.append(
            f'<a href="{e(links.event_ics)}{name}.ics" download aria-label="{label}">'
            "Legg til i min kalender</a>"
        )
    if actions:
        out.append(f'<p class="actions">{"".join(actions)}</p>')
    out.append("</li>")
    return "".join(out)
