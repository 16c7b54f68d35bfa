"""Our .ics output, read by ical.js: the same events, dates and times as our model."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from syncsvc.domain.events import DesiredEvent
from syncsvc.domain.ownership import OwnerKey
from syncsvc.engine import run as sync
from syncsvc.pipeline.ical import calendar_to_ical
from tests.builders import STAMP, TZ
from tests.test_route import ORG_AND_PUBLIC, seed_overrides, seed_plan
from tests.test_sync_engine import make_settings

JS = Path(__file__).parent / "js"
NODE = shutil.which("node")
NPM = shutil.which("npm")


@pytest.fixture(scope="module")
def icaljs() -> Path:
    # dev.py installs node and npm; without them this check fails rather than skips.
    assert NODE, "node is needed for the ical.js check (apt-get install nodejs)"
    assert NPM, "npm is needed for the ical.js check (apt-get install npm)"
    if not (JS / "node_modules" / "ical.js").is_dir():
        subprocess.run(
            [str(NPM), "install", "--no-audit", "--no-fund"],
            cwd=JS,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return JS / "parse.mjs"


def parse(script: Path, *files: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [str(NODE), str(script), *map(str, files)], check=True, capture_output=True, timeout=60
    )
    result: list[dict[str, object]] = json.loads(done.stdout)
    return result


def expected(event: DesiredEvent) -> dict[str, object]:
    start, end = event.content.start, event.content.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        return {
            "uid": event.uid,
            "summary": event.content.summary,
            "start": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "end": end.strftime("%Y-%m-%dT%H:%M:%S"),
            "startUtc": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "endUtc": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "isDate": False,
            "tz": "Europe/Oslo",
        }
    assert isinstance(start, date)
    assert isinstance(end, date)
    return {
        "uid": event.uid,
        "summary": event.content.summary,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "startUtc": None,
        "endUtc": None,
        "isDate": True,
        "tz": None,
    }


def model() -> dict[str, list[DesiredEvent]]:
    from syncsvc.pipeline.route import desired_events

    return desired_events(
        seed_plan(),
        ORG_AND_PUBLIC,
        seed_overrides(),
        domain="syncsvc.local",
        owner_key=OwnerKey(b"test" * 8),
        timezone=TZ,
    )


def test_folder_files_parse_with_icaljs(icaljs: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, person_calendars={"enabled": False})
    sync.run_sync(settings, plan=seed_plan(), now=datetime(2024, 1, 1, tzinfo=UTC))
    files = sorted((tmp_path / "calendars" / "org").glob("*.ics"))
    parsed = parse(icaljs, *files)
    assert len(parsed) == len(files)
    got = sorted(
        ({k: v for k, v in p.items() if k != "file"} for p in parsed), key=lambda e: str(e["uid"])
    )
    want = sorted((expected(e) for e in model()["org"]), key=lambda e: str(e["uid"]))
    assert got == want


def test_feed_file_parses_with_icaljs_including_summer_and_winter_time(
    icaljs: Path, tmp_path: Path
) -> None:
    events = model()["hva-skjer"]
    offsets = {e.content.start.utcoffset() for e in events if isinstance(e.content.start, datetime)}
    assert offsets == {timedelta(hours=2), timedelta(hours=1)}  # CEST and CET meetings
    feed = tmp_path / "feed.ics"
    feed.write_bytes(calendar_to_ical(events, name="Hva skjer", stamp=STAMP))
    got = sorted(
        ({k: v for k, v in p.items() if k != "file"} for p in parse(icaljs, feed)),
        key=lambda e: str(e["uid"]),
    )
    want = sorted((expected(e) for e in events), key=lambda e: str(e["uid"]))
    assert got == want
