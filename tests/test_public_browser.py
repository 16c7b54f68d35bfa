"""The public "Hva skjer" page in Debian's headless Chromium, used the way a visitor uses it:
subscribe help, the address to copy, month navigation into past events, an event's anchor
and its "add to my calendar" file, the JSON-LD a search engine reads, the page embedded in
another site's iframe; and axe-core (npm) finding no accessibility violations at desktop and
phone widths. SYNCSVC_SCREENSHOT_DIR keeps the screenshots (docs/screenshots/ has them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from syncsvc.state.sqlite import SqliteState
from syncsvc.web import WebContext, make_server, serve_in_thread
from syncsvc.web.public_data import anchor
from tests import a11y
from tests.feedsample import NOW, feed_bytes, sample_events, web_settings, write_feed
from tests.test_agenda_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

BASE = "https://kalender.example.no/bibliotek/"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ONLINE = {
    "summary": "Digital forfatterprat",
    "start": NOW.replace(month=9, day=24, hour=19),
    "end": NOW.replace(month=9, day=24, hour=20),
    "location": "Teams https://teams.example.com/l/meetup/abc",
    "description": "Samtale med årets debutant. Still spørsmål i chatten.",
}
FORFATTERBESOK = anchor("test-2@syncsvc.local")  # tests/feedsample.py, third event


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("public")
    settings = web_settings(tmp, base_url=BASE)
    write_feed(settings, feed_bytes([*sample_events(), ONLINE]))
    store = SqliteState(tmp / "state.sqlite3")
    server = make_server(WebContext(settings, store=store, clock=lambda: NOW))
    thread = serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed (apt-get install chromium)"
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page: Any, name: str) -> None:
    where = os.environ.get("SYNCSVC_SCREENSHOT_DIR")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(where) / name), full_page=True)


def test_subscribe_help_and_the_address_to_copy(site: str, browser: Any) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{site}/")
    help_box = page.locator("details.help")
    assert not help_box.evaluate("d => d.open")
    page.get_by_text("Slik får du arrangementene i din egen kalender").click()
    assert help_box.evaluate("d => d.open")
    for client in ("Outlook", "Google Kalender", "iPhone og iPad"):
        assert page.get_by_role("heading", name=client).is_visible()
    field = page.get_by_label("Kalenderadresse (kopier denne)")
    assert field.input_value() == f"{BASE}hva-skjer.ics"
    assert field.get_attribute("readonly") is not None
    field.select_text()  # what a visitor does before copying
    selected = field.evaluate("e => e.value.substring(e.selectionStart, e.selectionEnd)")
    assert selected == f"{BASE}hva-skjer.ics"
    shot(page, "hva-skjer-phone-subscribe.png")
    page.close()


def test_month_navigation_reaches_past_events_and_back(site: str, browser: Any) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{site}/")
    assert "Tirsdagsmøte (vår)" not in page.locator("main").inner_text()
    # Links are absolute (public_base_url); follow them on this server instead.
    href = page.get_by_role("link", name="← Tidligere arrangementer").get_attribute("href")
    assert href == f"{BASE}?maaned=2024-06"
    page.goto(f"{site}/?maaned=2024-06")
    past = page.locator("li.event.past")
    assert past.count() == 1
    assert "Tirsdagsmøte (vår)" in past.inner_text()
    assert "har vært" in past.inner_text()
    assert page.title() == "Hva skjer – Troms fylkesbibliotek – Juni 2024"
    forward = page.get_by_role("link", name="September 2024 →")
    assert forward.get_attribute("href") == f"{BASE}?maaned=2024-09"
    page.goto(f"{site}/?maaned=2024-09")
    assert page.locator("main h2").all_inner_texts() == ["September 2024"]
    assert "Digital forfatterprat" in page.locator("main").inner_text()
    page.close()


def test_event_anchor_add_to_calendar_and_meeting_link(site: str, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{site}/#{FORFATTERBESOK}")
    target = page.locator(f"li#{FORFATTERBESOK}")
    assert target.evaluate("e => e.matches(':target')")
    assert "Forfatterbesøk" in target.inner_text()
    link = target.get_by_role("link", name="Legg til i min kalender: Forfatterbesøk")
    assert link.get_attribute("href") == f"{BASE}hva-skjer/{FORFATTERBESOK}.ics"
    # The file behind it, fetched from this server the way the browser downloads it.
    with page.expect_download() as download_info:
        page.evaluate(
            """url => { const a = document.createElement('a'); a.href = url;
                        a.download = ''; document.body.appendChild(a); a.click(); }""",
            f"{site}/hva-skjer/{FORFATTERBESOK}.ics",
        )
    data = Path(download_info.value.path()).read_bytes()
    assert data.count(b"BEGIN:VEVENT") == 1
    assert b"Forfatterbes" in data
    online = page.locator("li.event", has_text="Digital forfatterprat")
    assert "Sted: Teams" in online.inner_text()
    meeting = online.get_by_role("link", name="Bli med på nett")
    assert meeting.get_attribute("href") == "https://teams.example.com/l/meetup/abc"
    context.close()


def test_json_ld_is_what_a_search_engine_reads(site: str, browser: Any) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{site}/")
    blocks = page.locator('script[type="application/ld+json"]').all_inner_texts()
    assert len(blocks) == 1
    graph = json.loads(blocks[0])["@graph"]
    names = [e["name"] for e in graph]
    visible = page.locator("li.event h3").all_inner_texts()
    assert len(names) == len(visible)  # one Event per event shown
    talk = next(e for e in graph if e["name"] == "Digital forfatterprat")
    assert talk["startDate"] == "2024-09-24T19:00+02:00"
    assert talk["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    assert {"@type": "VirtualLocation", "url": "https://teams.example.com/l/meetup/abc"} in (
        talk["location"]
    )
    page.close()


def test_embed_view_works_in_an_iframe_and_the_full_page_refuses_one(
    site: str, browser: Any
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{site}/healthz")  # any page of another document to host the frames
    page.set_content(
        f'<iframe id="ok" title="Hva skjer" src="{site}/embed" width="600" height="800"></iframe>'
        f'<iframe id="no" title="full" src="{site}/" width="600" height="300"></iframe>'
    )
    embedded = page.frame_locator("#ok")
    assert embedded.locator("li.event h3").first.inner_text()
    assert "Forfatterbesøk" in embedded.locator("main").inner_text()
    assert embedded.locator("header").count() == 0
    assert embedded.locator("h1").inner_text() == "Hva skjer – Troms fylkesbibliotek"
    page.wait_for_load_state("load")
    shot(page, "hva-skjer-embedded.png")
    # frame-ancestors 'none': Chromium shows its own error page in that frame, not ours.
    full = page.frame_locator("#no")
    assert "Forfatterbesøk" not in full.locator("body").inner_text(timeout=5000)
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violations(site: str, browser: Any, viewport: dict[str, int]) -> None:
    # bypass_csp: axe is a script, and the pages allow none (the CSP is checked elsewhere).
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    page = context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}
    width = "desktop" if viewport is DESKTOP else "phone"
    for path, label in [
        ("/", "upcoming"),
        ("/?maaned=2024-06", "past-month"),
        ("/embed", "embed"),
    ]:
        page.goto(f"{site}{path}")
        if label == "upcoming":
            page.locator("details.help").evaluate("d => d.open = true")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            shot(page, f"hva-skjer-{width}.png")
        found[label] = a11y.violations(page)
    context.close()
    assert found == {"upcoming": [], "past-month": [], "embed": []}


def test_axe_catches_what_it_should(browser: Any) -> None:
    # The check itself: a page with known faults must show them, or "no violations" is empty.
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_content('<html><body><img src="x.png"><a href="#"></a></body></html>')
    ids = {v["id"] for v in a11y.violations(page)}
    assert {"image-alt", "link-name", "html-has-lang"} <= ids
    context.close()
