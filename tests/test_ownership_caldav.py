"""Ownership and public identity through the CLI on a real CalDAV server (Radicale): a user's
copy of an owned event and a foreign event that copied our marker survive byte for byte;
public hrefs, UIDs and ETags carry no plan text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from icalendar import Calendar, vText

from tests.servers import DavServer, calendar_path
from tests.test_ownership_e2e import PLAN, PRIVATE_WORDS, syncsvc

pytestmark = pytest.mark.servers


def write_config(tmp: Path, server: DavServer, org: str, public: str) -> Path:
    (tmp / "plan.txt").write_text(PLAN, encoding="utf-8")
    (tmp / "overrides.toml").write_text(
        '[[override]]\ntitle = "Oppfølging av Ola Nordmann"\npublic_title = "Personalmøte"\n',
        encoding="utf-8",
    )
    config = tmp / "syncsvc.toml"
    config.write_text(
        f"""[plan]
source = "plan.txt"
overrides = "overrides.toml"

[sync]
data_dir = "var"
delete_threshold = 1.0

[servers.dav]
url = "{server.url}"
username = "{server.username}"
password = "{server.password}"
timeout_seconds = 10

[[calendars]]
name = "org"
target = "caldav"
server = "dav"
url = "{calendar_path(server, org)}"

[[calendars]]
name = "hva-skjer"
target = "caldav"
server = "dav"
selector = "public"
audience = "public"
url = "{calendar_path(server, public)}"

[feed]
calendar = ""
""",
        encoding="utf-8",
    )
    return config


def sync(config: Path) -> dict[str, object]:
    result = syncsvc(config, "sync", "--json")
    assert result.returncode in (0, 6, 7), result.stderr  # ok, failed, partial
    report: dict[str, object] = json.loads(result.stdout)
    return report


def objects(server: DavServer, calendar: str) -> dict[str, bytes]:
    found = {}
    for href in server.list_hrefs(calendar):
        data = server.get_raw(href)
        assert data is not None
        found[href] = data
    return found


def with_uid(data: bytes, uid: str, summary_prefix: str = "") -> bytes:
    cal = Calendar.from_ical(data)
    vevent = cal.walk("VEVENT")[0]
    vevent["UID"] = vText(uid)
    if summary_prefix:
        vevent["SUMMARY"] = vText(summary_prefix + str(vevent["SUMMARY"]))
    return bytes(cal.to_ical())


def test_copies_and_copied_markers_survive_on_caldav(radicale: DavServer, tmp_path: Path) -> None:
    org, public = radicale.new_calendar("own-org"), radicale.new_calendar("own-pub")
    config = write_config(tmp_path, radicale, org, public)
    assert sync(config)["outcome"] == "ok"
    ours = objects(radicale, org)
    assert len(ours) >= 5
    hrefs = sorted(ours)
    # A client's duplicate: new UID, our marker and hash kept.
    copy = with_uid(ours[hrefs[0]], "copy-from-a-client-1@example.org")
    copy_href = radicale.put_raw(org, "copy-from-a-client-1.ics", copy)
    # Someone's own event that copied one event's marker and took the UID of another: we
    # delete that other event first (a person removed it), so the UID is free for theirs.
    victim = hrefs[1]
    victim_uid = str(Calendar.from_ical(ours[victim]).walk("VEVENT")[0]["UID"])
    radicale.delete_raw(victim)
    foreign = with_uid(ours[hrefs[2]], victim_uid, summary_prefix="Mitt eget: ")
    foreign_href = radicale.put_raw(org, "someone-elses-event.ics", foreign)
    copy_stored = radicale.get_raw(copy_href)
    foreign_stored = radicale.get_raw(foreign_href)

    report = sync(config)
    assert radicale.get_raw(copy_href) == copy_stored  # byte for byte
    assert radicale.get_raw(foreign_href) == foreign_stored
    calendars = report["calendars"]
    assert isinstance(calendars, list)
    org_report = next(c for c in calendars if c["name"] == "org")
    deletes = [c for c in org_report["changes"] if c["kind"] == "delete"]
    assert deletes == []  # the copy is not "removed from plan"
    (create,) = [c for c in org_report["changes"] if c["uid"] == victim_uid]
    assert create["status"] == "failed"
    assert org_report["outcome"] == "failed"
    # Our other events are untouched.
    for href in hrefs[2:]:
        assert radicale.get_raw(href) == ours[href]


def test_public_hrefs_uids_and_etags_carry_no_plan_text(
    radicale: DavServer, tmp_path: Path
) -> None:
    org, public = radicale.new_calendar("pub-org"), radicale.new_calendar("pub-pub")
    config = write_config(tmp_path, radicale, org, public)
    report = sync(config)
    assert report["outcome"] == "ok"
    held = objects(radicale, public)
    assert len(held) == 5
    body = b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
    with radicale.client() as http:
        listing = http.request(
            "PROPFIND", public, content=body, headers={"Depth": "1"}
        ).content.decode()
    for href, data in held.items():
        uid = str(Calendar.from_ical(data).walk("VEVENT")[0]["UID"])
        assert re.fullmatch(r"[0-9a-f]{32}@syncsvc\.local", uid), uid
        text = (href + listing + data.replace(b"\r\n ", b"").decode()).casefold()
        for word in PRIVATE_WORDS:
            assert word.casefold() not in text, (word, href)
    calendars = report["calendars"]
    assert isinstance(calendars, list)
    public_report = next(c for c in calendars if c["name"] == "hva-skjer")
    for change in public_report["changes"]:
        assert re.fullmatch(r"[0-9a-f]{32}@syncsvc\.local", change["uid"])


def test_upgrade_adopts_the_old_versions_events_also_from_the_sync_token_memory(
    radicale: DavServer, tmp_path: Path
) -> None:
    """An installation upgraded from the constant marker: Radicale holds the old version's
    events (shared readable UIDs, `X-SYNCSVC-OWNER:syncsvc`), and the state store remembers
    them from before it kept markers. One run replaces each by its new identity, exactly once;
    nothing is duplicated, nothing else is touched."""
    import sqlite3

    from syncsvc.state.sqlite import SqliteState
    from tests.servers import open_caldav
    from tests.test_ownership_e2e import _as_legacy

    org, public = radicale.new_calendar("up-org"), radicale.new_calendar("up-pub")
    config = write_config(tmp_path, radicale, org, public)
    assert sync(config)["outcome"] == "ok"
    current = objects(radicale, org)
    for href in current:
        radicale.delete_raw(href)
    legacy = _as_legacy({h.rsplit("/", 1)[-1]: d for h, d in current.items()})
    for name, data in legacy.items():
        radicale.put_raw(org, name, data)
    mine = radicale.put_raw(org, "my-own.ics", with_uid(next(iter(current.values())), "mine@x"))
    mine_data = radicale.get_raw(mine)
    # The state the old version left: its events in memory (no marker column yet), and a sync
    # token that already covers them, so the target answers from memory.
    db = tmp_path / "var" / "state.sqlite3"
    with SqliteState(db) as state:
        target = open_caldav(radicale, org, state, name="org")
        target.observe()
        target.close()
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE events SET marker = NULL WHERE calendar = 'org'")

    report = sync(config)
    assert report["outcome"] == "ok", report
    calendars = report["calendars"]
    assert isinstance(calendars, list)
    org_report = next(c for c in calendars if c["name"] == "org")
    replaced = [c for c in org_report["changes"] if c["kind"] == "delete"]
    assert len(replaced) == len(legacy)
    assert all(c["status"] == "applied" for c in org_report["changes"] if c["kind"] != "unchanged")
    after = objects(radicale, org)
    uids = sorted(str(Calendar.from_ical(d).walk("VEVENT")[0]["UID"]) for d in after.values())
    expected = sorted(str(Calendar.from_ical(d).walk("VEVENT")[0]["UID"]) for d in current.values())
    assert uids == sorted([*expected, "mine@x"])  # new identities, once each, and mine
    assert radicale.get_raw(mine) == mine_data
    again = next(c for c in sync(config)["calendars"] if c["name"] == "org")  # type: ignore[union-attr]
    assert {c["kind"] for c in again["changes"]} == {"unchanged"}
