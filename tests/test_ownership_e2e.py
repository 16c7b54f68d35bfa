"""Ownership and privacy through the CLI on folder calendars: copies made in a calendar
client, foreign events that copied our marker, negated visibility, plan text in public UIDs
and file names, and the one-time adoption of events an older version wrote."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from icalendar import Calendar, vText

ROOT = Path(__file__).resolve().parent.parent

HEADER = (
    "ARBEIDSOPPGAVER AKTIVITETER",
    "DATO/TID",
    "KNYTTET TIL TILTAK NR",
    "SAMARBEID/ANSVAR",
    "KOMPETANSE",
    "SYNLIGGJØRING",
    "ANNET EGNE NOTATER",
)
ROWS = (
    ("Oppfølging av Ola Nordmann sykemelding", "14. januar", "1", "Fylkesbiblioteket v/Trine",
     "", "Hva skjer", "Fortrolig"),
    ("H10 Møte", "1. juni v/Trine Mellem sykemeldt - hemmelig", "2", "Fylkesbiblioteket", "",
     "Hva skjer", ""),
    ("Tirsdagsmøter", "4. februar – Lesekampanjen 4. mars – Trine orienterer", "3",
     "Fylkesbiblioteket", "", 'Temaoversikt i "Hva skjer"-kalender', ""),
    ("Internt budsjettmøte", "3. mars", "4", "Fylkesbiblioteket v/Ellen", "",
     "Skal IKKE i Hva skjer-kalenderen", "Kutt i stillinger"),
    ("Strategimøte", "7. april", "5", "Fylkesbiblioteket", "", "Hva skjer: nei", ""),
    ("Kanskje-møte", "8. april", "6", "Fylkesbiblioteket", "", "Kanskje Hva skjer", ""),
    ("Leseløftet", "9. april", "7", "Fylkesbiblioteket", "", "Kalender Hva skjer", ""),
)  # fmt: skip
PLAN = (
    "Årsplan 2025\n\nVåren 2025\n\n"
    + "\n".join("\t".join(row) for row in (HEADER, *ROWS))
    + "\n\nKontaktpersoner ved spørsmål:\n\nTrine Mellem trine.mellem@tromsfylke.no\n\n"
    "Ellen Berg Larsen ellen.larsen@tromsfylke.no\n"
)

OVERRIDES = """[[override]]
title = "Oppfølging av Ola Nordmann"
public_title = "Personalmøte"
"""

PRIVATE_WORDS = (
    "Ola",
    "Nordmann",
    "sykemeld",
    "Trine",
    "Mellem",
    "Ellen",
    "hemmelig",
    "Fortrolig",
    "budsjett",
    "Kutt",
    "Strategi",
    "Kanskje",
    "tromsfylke",
    "oppfolging",
)


def write_config(tmp: Path, source: str | None = None) -> Path:
    (tmp / "plan.txt").write_text(PLAN, encoding="utf-8")
    (tmp / "overrides.toml").write_text(OVERRIDES, encoding="utf-8")
    config = tmp / "syncsvc.toml"
    config.write_text(
        f"""[plan]
source = "{source or "plan.txt"}"
overrides = "overrides.toml"

[sync]
data_dir = "var"
delete_threshold = 1.0

[[calendars]]
name = "org"
target = "folder"
path = "calendars/org"

[[calendars]]
name = "hva-skjer"
target = "folder"
selector = "public"
audience = "public"
path = "calendars/hva-skjer"

[feed]
calendar = "hva-skjer"
path = "public/hva-skjer.ics"
title = "Hva skjer"
""",
        encoding="utf-8",
    )
    return config


def syncsvc(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCSVC_")}
    return subprocess.run(
        [sys.executable, "-m", "syncsvc", "--config", str(config), "--log-format", "json", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def sync_json(config: Path) -> dict[str, object]:
    result = syncsvc(config, "sync", "--json")
    assert result.returncode in (0, 4, 7), result.stderr  # ok, target failed, partial
    report: dict[str, object] = json.loads(result.stdout)
    return report


def calendar_report(report: dict[str, object], name: str) -> dict[str, object]:
    calendars = report["calendars"]
    assert isinstance(calendars, list)
    found: dict[str, object] = next(c for c in calendars if c["name"] == name)
    return found


def events_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.ics"))}


def summaries(folder: Path) -> list[str]:
    found = []
    for data in events_in(folder).values():
        for vevent in Calendar.from_ical(data).walk("VEVENT"):
            found.append(str(vevent["SUMMARY"]))
    return sorted(found)


def test_public_calendar_holds_only_what_the_plan_makes_public(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    report = sync_json(config)
    assert report["outcome"] == "ok"
    public = tmp_path / "var" / "calendars" / "hva-skjer"
    assert summaries(public) == [
        "H10 Møte",  # the free text after the date names a person: never public
        "Leseløftet",
        "Personalmøte",  # the override's public title; the plan title shows nowhere
        "Tirsdagsmøter",  # "Trine orienterer" names a person: the topic is dropped
        "Tirsdagsmøter – Lesekampanjen",  # topics are public: "Temaoversikt i Hva skjer"
    ]
    feed = (tmp_path / "var" / "public" / "hva-skjer.ics").read_bytes()
    for blob in [feed, *events_in(public).values(), *(n.encode() for n in events_in(public))]:
        for word in PRIVATE_WORDS:
            text = blob.replace(b"\r\n ", b"").decode().casefold()  # unfolded lines
            assert word.casefold() not in text, (word, text[:300])
    for name in events_in(public):
        assert re.fullmatch(r"[0-9a-f]{32}@syncsvc\.local\.ics", name), name
    assert b"X-SYNCSVC-HASH" not in feed
    assert b"X-SYNCSVC-OWNER" not in feed
    # The unclear cell is a problem the admin sees, and private.
    check = syncsvc(config, "plan", "check")
    assert "Kanskje Hva skjer" in check.stdout + check.stderr


def test_a_users_copy_and_a_foreign_event_with_a_copied_marker_survive(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    sync_json(config)
    org = tmp_path / "var" / "calendars" / "org"
    before = events_in(org)
    ours = next(iter(before.values()))
    # A client's "duplicate event": a new UID, every other property kept (the marker too).
    copy = _with_uid(ours, "copy-made-in-thunderbird-1")
    (org / "copy-made-in-thunderbird-1.ics").write_bytes(copy)
    # A foreign event that copied the marker of another event and holds the UID of this one.
    other = list(before.values())[1]
    victim_uid = list(before)[2].removesuffix(".ics")
    foreign = _with_uid(other, victim_uid).replace(b"SUMMARY:", b"SUMMARY:Mitt eget ")
    (org / list(before)[2]).write_bytes(foreign)

    report = sync_json(config)
    cal = calendar_report(report, "org")
    assert (org / "copy-made-in-thunderbird-1.ics").read_bytes() == copy
    assert (org / list(before)[2]).read_bytes() == foreign  # never overwritten
    changes = cal["changes"]
    assert isinstance(changes, list)
    assert not [c for c in changes if c["kind"] == "delete"]
    # Re-creating the event the foreign one displaced is a failure, not "create 1".
    assert cal["outcome"] == "failed"
    assert "not ours" in str(cal["error"])
    (create,) = [c for c in changes if c["uid"] == victim_uid]
    assert create["kind"] == "create"
    assert create["status"] == "failed"
    assert "not ours already holds" in create["error"]
    assert report["outcome"] in ("partial", "failed")
    # Everything else stayed exactly as it was.
    for entry, data in before.items():
        if entry != list(before)[2]:
            assert (org / entry).read_bytes() == data


def test_events_of_the_old_constant_marker_are_adopted_once(tmp_path: Path) -> None:
    """What the previous version wrote: shared readable UIDs and `X-SYNCSVC-OWNER:syncsvc`."""
    config = write_config(tmp_path)
    sync_json(config)
    org = tmp_path / "var" / "calendars" / "org"
    ours = events_in(org)
    for p in org.glob("*.ics"):
        p.unlink()
    legacy = _as_legacy(ours)
    edited_name = sorted(legacy)[0]
    for entry, data in legacy.items():
        if entry == edited_name:  # edited in a client after the old version wrote it
            data = data.replace(b"SUMMARY:", b"SUMMARY:Endret ")
        (org / entry).write_bytes(data)
    (stranger,) = _as_legacy(
        {"x.ics": next(iter(ours.values()))}, uid="not-our-formula@syncsvc.local"
    ).values()
    (org / "stranger.ics").write_bytes(stranger)

    report = sync_json(config)
    assert report["outcome"] == "ok", report
    cal = calendar_report(report, "org")
    changes = cal["changes"]
    assert isinstance(changes, list)
    replaced = [c for c in changes if c["kind"] == "delete"]
    left = set(legacy) - {c["uid"] + ".ics" for c in replaced}
    assert left == {edited_name}, (left, cal["notes"])  # all but the edited one
    assert all(c["reason"] == "replaced by its new identity" for c in replaced)
    after = events_in(org)
    assert (org / edited_name).exists()  # edited: not provably ours, left alone
    assert after[edited_name].startswith(b"BEGIN:VCALENDAR")
    assert (org / "stranger.ics").read_bytes() == stranger  # not our UID formula
    assert any("older syncsvc" in n for n in cal["notes"])  # type: ignore[union-attr]
    # Every plan event is there under its new identity, exactly once.
    new_names = set(after) - set(legacy) - {"stranger.ics"}
    assert new_names == set(ours)
    # A second run has nothing left to migrate.
    again = calendar_report(sync_json(config), "org")
    kinds = {c["kind"] for c in again["changes"]}  # type: ignore[union-attr]
    assert kinds == {"unchanged"}


def _with_uid(data: bytes, uid: str) -> bytes:
    cal = Calendar.from_ical(data)
    cal.walk("VEVENT")[0]["UID"] = vText(uid)
    return bytes(cal.to_ical())


def _as_legacy(events: dict[str, bytes], uid: str | None = None) -> dict[str, bytes]:
    """Rewrite our events the way the version before keyed markers wrote them."""
    from syncsvc.pipeline.uid import legacy_uid

    out = {}
    for data in events.values():
        cal = Calendar.from_ical(data)
        vevent = cal.walk("VEVENT")[0]
        old_uid = uid or _legacy_uid_of(str(vevent["UID"]), legacy_uid)
        vevent["UID"] = vText(old_uid)
        vevent["X-SYNCSVC-OWNER"] = vText("syncsvc")
        out[f"{old_uid}.ics"] = cal.to_ical()
    return out


def _legacy_uid_of(new_uid: str, legacy_uid: object) -> str:
    # new staff UID: <readable>-<ordinal>-<8 hex of calendar+key>@domain; the old one hashed
    # the key alone. The readable part is the key slug: recover the key from the plan.
    from syncsvc.plan.readers.text import read_text_table
    from syncsvc.plan.table import build_plan

    plan = build_plan(read_text_table(PLAN, "plan.txt"))
    readable, ordinal = re.match(r"(.+)-(\d+)-[0-9a-f]{8}@", new_uid).groups()  # type: ignore[union-attr]
    for item in plan.items:
        if re.sub(r"[^a-z0-9-]+", "-", item.key.lower()).strip("-")[:60] == readable:
            return legacy_uid(item.key, int(ordinal), "syncsvc.local")  # type: ignore[operator,no-any-return]
    raise AssertionError(new_uid)


def test_a_public_calendars_errors_and_notes_name_no_plan_text(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    sync_json(config)
    public = tmp_path / "var" / "calendars" / "hva-skjer"
    name, data = next(iter(events_in(public).items()))
    # Someone replaced our file with their own event under the same UID (no marker): the
    # event is not ours any more, and re-creating ours meets their file.
    cal = Calendar.from_ical(data)
    vevent = cal.walk("VEVENT")[0]
    del vevent["X-SYNCSVC-OWNER"]
    vevent["SUMMARY"] = vText("Eget arrangement")
    (public / name).write_bytes(cal.to_ical())
    (public / "a-copy.ics").write_bytes(_with_uid(next(iter(events_in(public).values())), "c@x"))
    report = sync_json(config)
    hva = calendar_report(report, "hva-skjer")
    assert hva["outcome"] == "failed"
    # What the report says about the public calendar's events (the admin's report also
    # names each change's plan item, by design: that is the admin's own plan).
    changes = hva["changes"]
    assert isinstance(changes, list)
    said = [hva["error"], *hva["notes"]]  # type: ignore[list-item]
    said += [str(c.get(k)) for c in changes for k in ("uid", "summary", "error", "reason")]
    shown = json.dumps(said, ensure_ascii=False).casefold()
    assert "not ours" in shown
    for word in PRIVATE_WORDS:
        assert word.casefold() not in shown, word
