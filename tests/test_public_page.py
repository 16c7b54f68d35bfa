"""The public "Hva skjer" page as pure functions: which events a view shows, month links,
subscribe help, anchors and single-event .ics, JSON-LD, the embed view, escaping."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from html.parser import HTMLParser

import icalendar

from syncsvc.web.agenda import AgendaEvent, parse_feed
from syncsvc.web.public_data import (
    anchor,
    event_jsonld,
    online_link,
    parse_month,
    place,
    select,
    single_event_ics,
)
from syncsvc.web.public_page import PageLinks, content_security_policy, page
from tests.feedsample import NOW, OSLO, SCRIPT_TITLE, feed_bytes, sample_events

BASE = "https://kalender.example.no/bibliotek/"
LINKS = PageLinks(
    BASE,
    f"{BASE}hva-skjer.ics",
    "webcal://kalender.example.no/bibliotek/hva-skjer.ics",
    f"{BASE}hva-skjer/",
)
RELATIVE = PageLinks("/", "/hva-skjer.ics", None, "/hva-skjer/")
ONLINE = {
    "summary": "Digital forfatterprat",
    "start": datetime(2024, 11, 5, 19, 0, tzinfo=OSLO),
    "end": datetime(2024, 11, 5, 20, 0, tzinfo=OSLO),
    "location": "Teams https://teams.example.com/l/meetup/abc?x=1",
}


def events(extra: list[dict[str, object]] | None = None) -> list[AgendaEvent]:
    return parse_feed(feed_bytes(sample_events() + (extra or [])), OSLO)


def render(month: str | None = None, *, embed: bool = False, links: PageLinks = LINKS) -> str:
    view = select(events([ONLINE]), NOW, parse_month(month))
    return page(view, title="Hva skjer <i>", links=links, now=NOW, embed=embed)


class Doc(HTMLParser):
    """The parts of a page the tests look at: ids, links, JSON-LD, scripts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[str | None, str]] = []
        self._script: str | None = None
        self._text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "a":
            self.links.append((str(found.get("href")), found))
        if tag == "script":
            self._script, self._text = found.get("type"), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.scripts.append((self._script, "".join(self._text)))

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def test_upcoming_view_groups_by_month_and_links_to_earlier_events() -> None:
    text = render()
    assert text.index("<h2>September 2024</h2>") < text.index("<h2>Oktober 2024</h2>")
    assert "Tirsdagsmøte (vår)" not in text  # June: over
    hrefs = [h for h, _ in Doc(text).links]
    # The latest month with something over is June (nothing else has ended by 10 Sept).
    assert f"{BASE}?maaned=2024-06" in hrefs
    assert "foreløpig" in text
    assert "tirsdag 17. september" in text
    assert "kl. 10.00–11.30" in text


def test_month_view_shows_past_events_marked_and_skips_empty_months() -> None:
    june = render("2024-06")
    assert "Tirsdagsmøte (vår)" in june
    assert "har vært" in june
    assert "hva-skjer/e-" not in june  # nothing to add to one's calendar once it is over
    hrefs = [h for h, _ in Doc(june).links]
    assert f"{BASE}?maaned=2024-09" in hrefs  # July and August have nothing: skipped
    assert not [h for h in hrefs if "2024-05" in h]  # nothing before June
    november = render("2024-11")
    # Biblioteksjefmøte runs 30 Oct – 1 Nov: it belongs to November too.
    assert "Biblioteksjefmøte" in november
    assert "Digital forfatterprat" in november
    assert "Lesefestival" not in november


def test_unknown_month_text_is_the_upcoming_view() -> None:
    for text in ("2024-13", "x", "", "2024-1", "../etc"):
        assert parse_month(text) is None
    assert parse_month("2024-02") == date(2024, 2, 1)


def test_subscribe_help_names_the_three_clients_and_the_address_to_copy() -> None:
    text = render()
    for client in ("Outlook", "Google Kalender", "iPhone og iPad"):
        assert f'<h2 class="client">{client}</h2>' in text
    assert (
        f'<input class="feed" id="feed-url" type="text" readonly value="{BASE}hva-skjer.ics">'
        in (text)
    )
    assert '<label class="feed" for="feed-url">' in text
    assert 'href="webcal://kalender.example.no/bibliotek/hva-skjer.ics"' in text
    # Without the public address there is nothing sensible to copy or subscribe to.
    relative = render(links=RELATIVE)
    assert "feed-url" not in relative
    assert "webcal:" not in relative
    assert 'href="/hva-skjer.ics"' in relative


def test_each_event_has_an_anchor_and_an_ics_link_named_after_it() -> None:
    text = render()
    doc = Doc(text)
    for event in select(events([ONLINE]), NOW, None).events:
        name = anchor(event.uid)
        assert name in doc.ids
        assert re.fullmatch(r"e-[0-9a-f]{12}", name)
        assert f"{BASE}hva-skjer/{name}.ics" in [h for h, _ in doc.links]
    assert len(set(doc.ids)) == len(doc.ids)
    assert "syncsvc.local" not in text  # the UID (which may name the plan) stays out


def test_single_event_ics_holds_that_event_and_its_time_zone_only() -> None:
    feed = icalendar.Calendar()
    feed.add("PRODID", "-//t//t//EN")
    feed.add("VERSION", "2.0")
    feed.add_component(icalendar.Timezone.from_tzid("Europe/Oslo"))
    for n, spec in enumerate(sample_events()):
        ev = icalendar.Event()
        ev.add("UID", f"u{n}@x")
        ev.add("SUMMARY", spec["summary"])
        ev.add("DTSTART", spec["start"])
        ev.add("DTEND", spec["end"])
        feed.add_component(ev)
    data = feed.to_ical()
    timed = single_event_ics(data, anchor("u2@x"))  # Forfatterbesøk, 10:00-11:30 Oslo
    assert timed is not None
    cal = icalendar.Calendar.from_ical(timed)
    (only,) = cal.walk("VEVENT")
    assert str(only["SUMMARY"]) == "Forfatterbesøk"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Oslo"]
    assert str(cal["METHOD"]) == "PUBLISH"
    all_day = icalendar.Calendar.from_ical(single_event_ics(data, anchor("u0@x")) or b"")
    assert all_day.walk("VTIMEZONE") == []  # a DATE event needs none
    assert single_event_ics(data, "e-000000000000") is None
    assert single_event_ics(b"not a calendar", anchor("u0@x")) is None


def test_online_link_and_place_are_told_apart() -> None:
    (online,) = [e for e in events([ONLINE]) if e.summary == "Digital forfatterprat"]
    assert online_link(online) == "https://teams.example.com/l/meetup/abc?x=1"
    assert place(online) == "Teams"
    text = render("2024-11")
    assert 'href="https://teams.example.com/l/meetup/abc?x=1" rel="noopener">Bli med på nett' in (
        text
    )
    hostile = AgendaEvent("x", date(2024, 9, 20), date(2024, 9, 21), location="javascript:x()")
    assert online_link(hostile) is None  # only http(s) becomes a link


def test_json_ld_lists_the_shown_events_as_schema_org_events() -> None:
    doc = Doc(render("2024-11"))
    (kind, body), *_ = doc.scripts
    assert kind == "application/ld+json"
    assert len(doc.scripts) == 1  # and no other script at all
    data = json.loads(body)
    assert data["@context"] == "https://schema.org"
    by_name = {e["name"]: e for e in data["@graph"]}
    talk = by_name["Digital forfatterprat"]
    assert talk["@type"] == "Event"
    assert talk["startDate"] == "2024-11-05T19:00+01:00"
    assert talk["endDate"] == "2024-11-05T20:00+01:00"
    assert talk["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    assert talk["location"] == [
        {"@type": "Place", "name": "Teams"},
        {"@type": "VirtualLocation", "url": "https://teams.example.com/l/meetup/abc?x=1"},
    ]
    meeting = by_name["Biblioteksjefmøte"]
    assert meeting["startDate"] == "2024-10-30"
    assert meeting["endDate"] == "2024-11-01"  # the last day, not iCalendar's exclusive end
    assert "location" not in meeting
    assert meeting["url"].startswith(f"{BASE}?maaned=2024-10#e-")


def test_json_ld_cannot_be_closed_by_plan_text() -> None:
    hostile = AgendaEvent(
        "</script><script>alert(1)</script>", date(2024, 9, 20), date(2024, 9, 21)
    )
    url = f"{BASE}?maaned=2024-09#{anchor(hostile.uid)}"
    item = event_jsonld(hostile, page_url=url, organizer="t")
    view = select([hostile], NOW, None)
    text = page(view, title="t", links=LINKS, now=NOW)
    assert "</script><script>" not in text
    (_, body), *_ = Doc(text).scripts
    assert json.loads(body)["@graph"] == [item]


def test_titles_are_text_never_markup() -> None:
    text = render("2024-10")
    assert SCRIPT_TITLE not in text
    assert "&lt;script&gt;" in text
    assert "Hva skjer &lt;i&gt;" in text
    assert [t for t, _ in Doc(text).scripts] == ["application/ld+json"]


def test_embed_view_is_the_list_alone_and_may_be_framed() -> None:
    text = render(embed=True)
    assert "<header>" not in text
    assert "feed-url" not in text
    assert '<base target="_top">' in text
    doc = Doc(text)
    months = [(h, a) for h, a in doc.links if a.get("rel") in ("prev", "next")]
    assert months
    assert all(a.get("target") == "_self" for _, a in months)  # month links stay in the frame
    assert all(not h.startswith("#") for h, _ in doc.links)  # anchors lead to the full page
    assert "frame-ancestors *" in content_security_policy(embed=True)
    assert "frame-ancestors 'none'" in content_security_policy(embed=False)
    assert "script-src" not in content_security_policy(embed=True)


def test_no_events_says_so() -> None:
    view = select([], NOW, None)
    assert "Ingen kommende arrangementer" in page(view, title="t", links=LINKS, now=NOW)
    view = select(events(), NOW, date(2024, 7, 1))
    assert "Ingen arrangementer i juli 2024." in page(view, title="t", links=LINKS, now=NOW)
