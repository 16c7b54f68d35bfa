"""A small public feed and HTTP settings for the web tests (agenda, feed, browser)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from pydantic import SecretStr

from syncsvc.settings import FeedSettings, HttpSettings, Settings, SyncSettings

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2024, 9, 10, 12, 0, tzinfo=OSLO)  # a Tuesday
SCRIPT_TITLE = '<script>document.title="pwned"</script>Lesekveld & "quiz"'


def sample_events() -> list[dict[str, object]]:
    """Past, ongoing, timed, all-day, multi-day, tentative and hostile-title events."""
    return [
        {"summary": "Tirsdagsmøte (vår)", "start": date(2024, 6, 18), "end": date(2024, 6, 19)},
        {
            "summary": "Lesefestival",
            "start": date(2024, 9, 9),
            "end": date(2024, 9, 12),
            "location": "Tromsø bibliotek",
        },
        {
            "summary": "Forfatterbesøk",
            "start": datetime(2024, 9, 17, 10, 0, tzinfo=OSLO),
            "end": datetime(2024, 9, 17, 11, 30, tzinfo=OSLO),
            "description": "Åpent for alle.\nGratis inngang.",
        },
        {
            "summary": "Sommerles avslutning",
            "start": date(2024, 10, 3),
            "end": date(2024, 10, 4),
            "status": "TENTATIVE",
        },
        {"summary": SCRIPT_TITLE, "start": date(2024, 10, 15), "end": date(2024, 10, 16)},
        {"summary": "Biblioteksjefmøte", "start": date(2024, 10, 30), "end": date(2024, 11, 2)},
    ]


def feed_bytes(events: list[dict[str, object]] | None = None) -> bytes:
    cal = icalendar.Calendar()
    cal.add("PRODID", "-//syncsvc tests//NO")
    cal.add("VERSION", "2.0")
    for n, spec in enumerate(events if events is not None else sample_events()):
        ev = icalendar.Event()
        ev.add("UID", f"test-{n}@syncsvc.local")
        ev.add("DTSTAMP", datetime(2024, 1, 1, tzinfo=OSLO))
        for key in ("summary", "start", "end", "location", "description", "status"):
            if key in spec:
                name = {"start": "DTSTART", "end": "DTEND"}.get(key, key.upper())
                ev.add(name, spec[key])
        cal.add_component(ev)
    data: bytes = cal.to_ical()
    return data


def web_settings(
    data_dir: Path,
    *,
    token: str | None = "s3cret-token-for-the-web-tests-0123",
    base_url: str | None = None,
    public_metrics: bool = False,
    trusted_proxies: tuple[str, ...] = (),
) -> Settings:
    return Settings(
        sync=SyncSettings(data_dir=str(data_dir), interval_minutes=15),
        feed=FeedSettings(title="Hva skjer – Troms fylkesbibliotek"),
        http=HttpSettings(
            port=0,
            admin_token=SecretStr(token) if token else None,
            public_base_url=base_url,
            public_metrics=public_metrics,
            trusted_proxies=trusted_proxies,
        ),
    )


def write_feed(settings: Settings, data: bytes | None = None) -> Path:
    path = settings.data_path(settings.feed.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(feed_bytes() if data is None else data)
    tmp.replace(path)
    return path


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)
