"""The "Hva skjer" agenda: upcoming public events from the feed, as a small Norwegian HTML page.

Parsing (feed bytes → `AgendaEvent`s), Norwegian date text and rendering are pure functions;
the server only supplies the bytes, the clock and the links. Every piece of plan text goes
through `html.escape`; the page carries no script and its one stylesheet is allowed by hash.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from itertools import groupby

import icalendar

from syncsvc.domain.norwegian import MONTH_NAMES, WEEKDAY_NAMES

MAX_EVENTS = 300  # a page, not an archive
MAX_DESCRIPTION = 600  # characters shown of a description


@dataclass(frozen=True, slots=True)
class AgendaEvent:
    summary: str
    start: date | datetime  # datetimes in the display zone
    end: date | datetime  # exclusive, same type as start
    tentative: bool = False
    location: str = ""
    description: str = ""
    uid: str = ""

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def first_day(self) -> date:
        return self.start.date() if isinstance(self.start, datetime) else self.start

    @property
    def last_day(self) -> date:
        if isinstance(self.end, datetime):
            # An event ending at midnight ends on the day before.
            end = self.end - timedelta(microseconds=1) if self.end > self.start else self.end
            return end.date()
        return max(self.first_day, self.end - timedelta(days=1))


# --- parsing ---------------------------------------------------------------------------------
def parse_feed(data: bytes, zone: tzinfo) -> list[AgendaEvent]:
    """Events of an iCalendar feed, sorted by start. Unreadable events are skipped."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError:
        return []
    events: list[AgendaEvent] = []
    for component in calendar.walk("VEVENT"):
        if not isinstance(component, icalendar.Event):
            continue
        try:
            start, end = component.start, component.end
        except (icalendar.InvalidCalendar, ValueError, KeyError):
            continue
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            continue
        events.append(
            AgendaEvent(
                summary=str(component.get("SUMMARY", "")).strip() or "(uten tittel)",
                start=_in_zone(start, zone),
                end=_in_zone(end, zone),
                tentative=str(component.get("STATUS", "")).upper() == "TENTATIVE",
                location=str(component.get("LOCATION", "")).strip(),
                description=str(component.get("DESCRIPTION", "")).strip(),
                uid=str(component.get("UID", "")),
            )
        )
    events.sort(key=_sort_key)
    return events


def _in_zone(value: date | datetime, zone: tzinfo) -> date | datetime:
    if isinstance(value, datetime):
        # Floating times are taken as local time, as calendar clients do.
        return value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
    return value


def _sort_key(event: AgendaEvent) -> tuple[date, int, str, str]:
    minutes = (
        event.start.hour * 60 + event.start.minute if isinstance(event.start, datetime) else -1
    )
    return (event.first_day, minutes, event.summary, event.uid)


def upcoming(events: Iterable[AgendaEvent], now: datetime) -> list[AgendaEvent]:
    """Events not yet over at `now` (an aware datetime in the display zone)."""
    today = now.date()
    kept = [
        e for e in events if (e.end > now if isinstance(e.end, datetime) else e.last_day >= today)
    ]
    return kept[:MAX_EVENTS]


# --- Norwegian date text ---------------------------------------------------------------------
def day_text(day: date, *, weekday: bool = True, month: bool = True) -> str:
    """'tirsdag 17. september'."""
    out = f"{day.day}."
    if month:
        out += f" {MONTH_NAMES[day.month - 1]}"
    return f"{WEEKDAY_NAMES[day.weekday()]} {out}" if weekday else out


def clock_text(value: datetime) -> str:
    return f"{value.hour:02d}.{value.minute:02d}"


def when_text(event: AgendaEvent) -> tuple[str, str]:
    """(date text, time text): ('tirsdag 17. september', 'kl. 10.00–11.30')."""
    first, last = event.first_day, event.last_day
    if isinstance(event.start, datetime) and isinstance(event.end, datetime):
        if first == last:
            span = clock_text(event.start)
            if event.end > event.start:
                span += f"–{clock_text(event.end)}"
            return day_text(first), f"kl. {span}"
        return (
            f"{day_text(first)} kl. {clock_text(event.start)} – "
            f"{day_text(last)} kl. {clock_text(event.end)}",
            "",
        )
    if first == last:
        return day_text(first), ""
    if first.year != last.year:
        return f"{day_text(first)} {first.year} – {day_text(last)} {last.year}", ""
    return f"{day_text(first, month=first.month != last.month)} – {day_text(last)}", ""


def month_heading(day: date) -> str:
    return f"{MONTH_NAMES[day.month - 1].capitalize()} {day.year}"


# --- rendering -------------------------------------------------------------------------------
CSS = """
:root { color-scheme: light; --accent: #005a70; --muted: #555; --line: #d8dde0; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1a1a1a; background: #f6f7f8; }
header, main, footer { max-width: 44rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.5rem; }
h1 { font-size: 1.7rem; line-height: 1.2; margin: 0 0 .25rem; color: var(--accent); }
.lead { margin: 0 0 1rem; color: var(--muted); }
.links { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 1.5rem; }
.links a { display: inline-block; padding: .55rem .9rem; border-radius: .4rem;
  border: 1px solid var(--accent); color: var(--accent); text-decoration: none; font-weight: 600; }
.links a.primary { background: var(--accent); color: #fff; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; padding-bottom: .25rem;
  border-bottom: 2px solid var(--accent); }
ul.events { list-style: none; margin: 0; padding: 0; }
li.event { background: #fff; border: 1px solid var(--line); border-radius: .5rem;
  padding: .75rem 1rem; margin: 0 0 .6rem; }
.when { font-size: .95rem; color: var(--muted); }
.when .date { font-weight: 600; color: #1a1a1a; }
h3 { font-size: 1.05rem; margin: .15rem 0 0; overflow-wrap: anywhere; }
.tag { display: inline-block; font-size: .8rem; font-weight: 600; padding: .05rem .45rem;
  border-radius: 1rem; background: #fff3cd; color: #6b4e00; border: 1px solid #e6c866;
  margin-left: .35rem; vertical-align: middle; }
.where, .desc { margin: .3rem 0 0; font-size: .95rem; overflow-wrap: anywhere; }
.desc { white-space: pre-line; color: #333; }
.empty { padding: 1rem; background: #fff; border-radius: .5rem; border: 1px solid var(--line); }
footer { color: var(--muted); font-size: .85rem; padding-bottom: 2rem; margin-top: 1.5rem; }
"""

STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class AgendaLinks:
    subscribe: str | None  # webcal://host/hva-skjer.ics; None without a public base URL
    download: str  # https://host/hva-skjer.ics or a relative path


def render_agenda(
    events: Sequence[AgendaEvent],
    *,
    title: str,
    links: AgendaLinks,
    today: date,
    updated: datetime | None = None,
) -> str:
    """The complete page for `events` (already filtered to the upcoming ones)."""
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="nb">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{e(title)}</h1>",
        '<p class="lead">Kommende arrangementer</p>',
        '<p class="links">',
        *(
            [f'<a class="primary" href="{e(links.subscribe)}">Abonner på kalenderen</a>']
            if links.subscribe
            else []
        ),
        f'<a href="{e(links.download)}" download>Last ned (.ics)</a>',
        "</p>",
        "</header>",
        "<main>",
    ]
    if not events:
        parts.append('<p class="empty">Ingen kommende arrangementer akkurat nå.</p>')

    def section(event: AgendaEvent) -> date:
        # An event already under way is listed under the current month.
        day = max(event.first_day, today)
        return date(day.year, day.month, 1)

    for month, group in groupby(events, key=section):
        parts.append(f"<section><h2>{e(month_heading(month))}</h2>")
        parts.append('<ul class="events">')
        parts.extend(_event_html(event) for event in group)
        parts.append("</ul></section>")
    parts.append("</main>")
    footer = "Kalenderen oppdateres automatisk fra årsplanen."
    if updated is not None:
        footer += f" Sist oppdatert {day_text(updated.date(), weekday=False)} {updated.year}."
    parts += [f"<footer><p>{e(footer)}</p></footer>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _event_html(event: AgendaEvent) -> str:
    e = html.escape
    date_part, time_part = when_text(event)
    iso = event.first_day.isoformat()
    when = f'<time class="date" datetime="{iso}">{e(date_part)}</time>'
    if time_part:
        when += f' <span class="time">{e(time_part)}</span>'
    cls = "event tentative" if event.tentative else "event"
    tag = ' <span class="tag">foreløpig</span>' if event.tentative else ""
    out = [
        f'<li class="{cls}">',
        f'<div class="when">{when}</div>',
        f"<h3>{e(event.summary)}{tag}</h3>",
    ]
    if event.location:
        out.append(f'<p class="where">{e(event.location)}</p>')
    if event.description:
        text = event.description
        if len(text) > MAX_DESCRIPTION:
            text = text[:MAX_DESCRIPTION].rsplit(" ", 1)[0] + " …"
        out.append(f'<p class="desc">{e(text)}</p>')
    out.append("</li>")
    return "".join(out)
