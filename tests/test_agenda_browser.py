"""The "Hva skjer" agenda in a real headless Chromium: what a visitor sees, on a phone width.

Needs Debian's chromium at /usr/bin/chromium and the `playwright` Python package (no browser
download: Playwright drives the system Chromium). Set SYNCSVC_SCREENSHOT_DIR to keep the
screenshot for a look.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from syncsvc.state.sqlite import SqliteState
from syncsvc.web import WebContext, make_server, serve_in_thread
from tests.feedsample import NOW, SCRIPT_TITLE, web_settings, write_feed

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def agenda_url(tmp_path: Path) -> Iterator[str]:
    settings = web_settings(tmp_path, base_url="https://kalender.example.no/bibliotek/")
    write_feed(settings)
    store = SqliteState(tmp_path / "state.sqlite3")
    server = make_server(WebContext(settings, store=store, clock=lambda: NOW))
    thread = serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(5)
    store.close()


def test_agenda_in_a_real_browser(agenda_url: str, tmp_path: Path) -> None:
    # dev.py installs Debian's chromium; without it this check fails rather than skips.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed (apt-get install chromium)"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            dialogs: list[str] = []

            def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            csp_reports: list[str] = []
            page.on(
                "console",
                lambda m: csp_reports.append(m.text) if "Content Security" in m.text else None,
            )
            response = page.goto(agenda_url)
            assert response is not None
            assert response.status == 200

            assert page.title() == "Hva skjer – Troms fylkesbibliotek"
            headings = page.locator("main h2").all_inner_texts()
            assert headings == ["September 2024", "Oktober 2024"]
            titles = page.locator("li.event h3").all_inner_texts()
            assert "Forfatterbesøk" in titles
            assert "Tirsdagsmøte (vår)" not in " ".join(titles)  # in the past
            timed = page.locator("li.event", has_text="Forfatterbesøk")
            assert "tirsdag 17. september" in timed.inner_text()
            assert "kl. 10.00–11.30" in timed.inner_text()
            tentative = page.locator("li.event.tentative")
            assert tentative.count() == 1
            assert "foreløpig" in tentative.inner_text()

            subscribe = page.get_by_role("link", name="Abonner på kalenderen").first
            href = subscribe.get_attribute("href")
            assert href is not None
            assert href == "webcal://kalender.example.no/bibliotek/hva-skjer.ics"
            download = page.get_by_role("link", name="Last ned alle (.ics)")
            assert download.get_attribute("href") == (
                "https://kalender.example.no/bibliotek/hva-skjer.ics"
            )

            # The hostile title is text on the page, and nothing ran: the one script element
            # is the JSON-LD data block, which browsers never execute.
            assert any(SCRIPT_TITLE in t for t in titles)
            types = page.locator("script").evaluate_all("els => els.map(e => e.type)")
            assert types == ["application/ld+json"]
            assert page.title() != "pwned"
            assert dialogs == []
            # The stylesheet is allowed by its hash: no CSP violation, and it applied.
            assert csp_reports == []
            colour = page.locator("h1").evaluate("e => getComputedStyle(e).color")
            assert colour == "rgb(0, 90, 112)"

            # Readable on a phone: nothing wider than the viewport.
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= 390

            shots = Path(os.environ.get("SYNCSVC_SCREENSHOT_DIR") or tmp_path)
            shots.mkdir(parents=True, exist_ok=True)
            shot = shots / "agenda-phone.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()


def test_chromium_path_is_the_debian_one() -> None:
    # The CI script installs Debian's chromium; a moved binary should fail here, loudly.
    found = shutil.which("chromium")
    assert found is not None, "chromium is not installed (apt-get install chromium)"
    assert Path(found).resolve() == Path(CHROMIUM).resolve()
