"""The fast renderer against today's icalendar one: same bytes, and the same events when read
by icalendar and by ical.js, for any event of our shape (property tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from syncsvc.domain.events import DesiredEvent, EventContent, EventStatus
from syncsvc.pipeline import ical, ical_render

JS = Path(__file__).parent / "js"
NODE = shutil.which("node")
NPM = shutil.which("npm")
STAMP = datetime(2030, 5, 17, 8, 30, 15, tzinfo=UTC)

# Zones our plans use, zones with odd offsets or DST rules, and tzinfos outside our shape that
# the fast renderer hands to icalendar (fixed offset, UTC alias, floating).
ZONES: list[tzinfo | None] = [
    ZoneInfo("Europe/Oslo"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Australia/Lord_Howe"),
    ZoneInfo("UTC"),
    UTC,
]
OUTSIDE: list[tzinfo | None] = [timezone(timedelta(hours=2)), ZoneInfo("Etc/UTC"), None]

# Text as plans and overrides give it: any printable character, line breaks (also CR LF and a
# lone CR), tabs, and the characters TEXT escaping is about, often enough to meet line folds.
_special = st.sampled_from(["\\", ";", ",", ":", '"', "\n", "\r\n", "\r", "\t", "^", " "])
_printable = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\x85"
)
text = st.lists(st.one_of(_printable, _special, st.sampled_from("æøåÆØÅ–😀é\u0301")), max_size=120)
texts = text.map("".join)


def _moment(zone: tzinfo | None) -> st.SearchStrategy[datetime]:
    naive = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2040, 12, 31))
    # fold=0: a local time with a TZID cannot say which of two 02:30s it means, nor that a
    # time in the spring gap means the later offset; RFC 5545 (3.3.5) reads both with the
    # offset before the change, as Python does for fold=0. Plans never produce fold=1.
    return naive.map(lambda d: d.replace(microsecond=0, fold=0, tzinfo=zone))


@st.composite
def events(draw: st.DrawFn, zones: Sequence[tzinfo | None] = ZONES) -> DesiredEvent:
    if draw(st.booleans()):
        day = draw(st.dates(min_value=date(1995, 1, 1), max_value=date(2040, 12, 31)))
        start: date | datetime = day
        end: date | datetime = day + timedelta(days=draw(st.integers(1, 400)))
    else:
        begin = draw(_moment(draw(st.sampled_from(zones))))
        start = begin
        end = draw(_moment(draw(st.sampled_from(zones)))) if draw(st.booleans()) else begin
    content = EventContent(
        summary=draw(texts),
        start=start,
        end=end,
        status=draw(st.sampled_from(EventStatus)),
        description=draw(texts),
        location=draw(texts),
        categories=tuple(draw(st.lists(texts, max_size=4))),
    )
    uid = draw(st.one_of(st.uuids().map(lambda u: f"{u}@syncsvc.local"), texts.filter(str.strip)))
    return DesiredEvent(uid=uid, content=content, marker="v2.render")


def _mangled_by_icalendar(event: DesiredEvent) -> bool:
    """icalendar turns a literal backslash + N into a line break; we keep it."""
    c = event.content
    return any("\\N" in t for t in (event.uid, c.summary, c.description, c.location, *c.categories))


def _read_back(value: str, *, first: bool = True) -> str:
    """What a TEXT value reads back as: iCalendar has no escape for CR, so CR LF and a lone CR
    come back as LF; icalendar also drops a leading U+FEFF of a property's (first) value.
    Both renderers do this; plan text never holds either (cells are cleaned)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.removeprefix("\ufeff") if first else value


def _categories_read_back(categories: Sequence[str]) -> tuple[str, ...]:
    return tuple(_read_back(c, first=n == 0) for n, c in enumerate(categories))


# --- the same bytes -----------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events(), sequence=st.integers(0, 10_000))
def test_single_event_bytes_match_icalendar(event: DesiredEvent, sequence: int) -> None:
    fast = ical_render.event_to_ical(event, sequence=sequence, stamp=STAMP)
    if not _mangled_by_icalendar(event):
        assert fast == ical.icalendar_event_to_ical(event, sequence=sequence, stamp=STAMP)
    assert all(len(line) <= 75 for line in fast.split(b"\r\n"))  # folded by octets


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(events(), max_size=12),
    name=st.one_of(st.none(), texts),
    refresh=st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=9))),
    url=st.one_of(st.none(), st.just("https://kalender.example.no/hva-skjer.ics?a=1,2;b")),
    zone=st.one_of(st.none(), st.sampled_from(["Europe/Oslo", "America/Argentina/Salta"])),
)
def test_calendar_bytes_match_icalendar(
    batch: list[DesiredEvent],
    name: str | None,
    refresh: timedelta | None,
    url: str | None,
    zone: str | None,
) -> None:
    extra: dict[str, Any] = {"refresh": refresh, "url": url, "timezone": zone}
    fast = ical_render.calendar_to_ical(batch, name=name, stamp=STAMP, **extra)
    # icalendar cannot write a name with a line break (it fails); we write it on one line.
    if not any(map(_mangled_by_icalendar, batch)) and not {"\r", "\n"} & set(name or ""):
        assert fast == ical.icalendar_calendar_to_ical(batch, name=name, stamp=STAMP, **extra)
    lines = fast.split(b"\r\n")
    assert lines[3].startswith(b"NAME:") == bool(name)
    ttl = [line for line in lines if line.startswith(b"X-PUBLISHED-TTL:")]
    assert len(ttl) == (refresh is not None)
    assert lines.count(b"BEGIN:VEVENT") == len(batch)


@settings(max_examples=60, deadline=None)
@given(event=events(OUTSIDE))
def test_values_outside_our_shape_are_left_to_icalendar(event: DesiredEvent) -> None:
    assert ical_render.event_to_ical(event, stamp=STAMP) == ical.icalendar_event_to_ical(
        event, stamp=STAMP
    )


# --- the same events, read by icalendar ------------------------------------------------------


def _icalendar_view(data: bytes) -> list[dict[str, Any]]:
    """Each VEVENT as icalendar decodes it: property -> (parameters, decoded value)."""
    cal = Calendar.from_ical(data)
    result = []
    for vevent in cal.walk("VEVENT"):
        props: dict[str, Any] = {}
        for name in vevent:
            value = vevent[name]
            if name == "CATEGORIES":
                decoded: Any = [str(c) for c in value.cats]
            else:
                decoded = vevent.decoded(name)
                if isinstance(decoded, datetime):
                    decoded = (decoded, decoded.utcoffset(), str(decoded.tzinfo))
            props[name] = (dict(value.params), decoded)
        result.append(props)
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events(), sequence=st.integers(0, 99))
def test_icalendar_reads_the_same_event_and_our_content(event: DesiredEvent, sequence: int) -> None:
    fast = ical_render.event_to_ical(event, sequence=sequence, stamp=STAMP)
    if not _mangled_by_icalendar(event):
        old = ical.icalendar_event_to_ical(event, sequence=sequence, stamp=STAMP)
        assert _icalendar_view(fast) == _icalendar_view(old)
    # And it reads back as the event we meant, so a later run sees no edit (no drift).
    observed = ical.observe_ical(fast, remote_id="x.ics")
    assert observed is not None
    content = event.content
    assert observed.uid == _read_back(event.uid).strip()
    assert observed.summary == _read_back(content.summary)
    assert observed.sequence == sequence
    assert observed.start == content.start
    assert observed.end == content.end
    read = ical.content_from_ical(fast)
    assert read is not None
    assert read.description == _read_back(content.description)
    assert read.location == _read_back(content.location)
    assert read.categories == _categories_read_back(content.categories)
    assert read.status is content.status
    texts_in = (content.summary, content.description, content.location, *content.categories)
    if not any("\r" in t or t.startswith("\ufeff") for t in texts_in):
        assert not observed.drifted


def test_a_backslash_before_n_survives_the_round_trip() -> None:
    # icalendar renders "C:\Nye" as "C:" + line break + "ye": our event then looked edited in
    # the calendar on every run, and was rewritten every run.
    event = DesiredEvent(
        uid="u1@syncsvc.local",
        content=EventContent(
            summary=r"Filer i C:\Nye", start=date(2030, 1, 2), end=date(2030, 1, 3)
        ),
        marker="v2.render",
    )
    fast = ical.observe_ical(ical_render.event_to_ical(event, stamp=STAMP), remote_id="a.ics")
    old = ical.observe_ical(ical.icalendar_event_to_ical(event, stamp=STAMP), remote_id="a.ics")
    assert fast is not None
    assert old is not None
    assert fast.summary == r"Filer i C:\Nye"
    assert not fast.drifted
    assert old.drifted  # the icalendar rendering, for contrast


# --- the same events, read by ical.js --------------------------------------------------------


@pytest.fixture(scope="module")
def icaljs() -> Path:
    # dev.py installs node and npm; without them this check fails rather than skips.
    assert NODE, "node is needed for the ical.js check (apt-get install nodejs)"
    assert NPM, "npm is needed for the ical.js check (apt-get install npm)"
    if not (JS / "node_modules" / "ical.js").is_dir():
        subprocess.run(
            [NPM, "install", "--no-audit", "--no-fund"],
            cwd=JS,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return JS / "events.mjs"


def _icaljs_view(script: Path, files: Sequence[Path]) -> list[dict[str, Any]]:
    assert NODE
    done = subprocess.run(
        [NODE, str(script), *map(str, files)], check=True, capture_output=True, timeout=120
    )
    parsed: list[dict[str, Any]] = json.loads(done.stdout)
    return [{k: v for k, v in e.items() if k != "file"} for e in parsed]


def _prop(event: dict[str, Any], name: str) -> list[Any]:
    return [p for p in event["props"] if p[0] == name]


# Few examples, each a whole batch of files read by one node process (node starts slowly).
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(events(), min_size=20, max_size=40))
def test_icaljs_reads_the_same_events(
    icaljs: Path, batch: list[DesiredEvent], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("icaljs")
    fast_files, old_files = [], []
    for n, event in enumerate(batch):
        fast_files.append(folder / f"fast-{n}.ics")
        fast_files[-1].write_bytes(ical_render.event_to_ical(event, sequence=n, stamp=STAMP))
        old_files.append(folder / f"old-{n}.ics")
        old_files[-1].write_bytes(ical.icalendar_event_to_ical(event, sequence=n, stamp=STAMP))
    (folder / "fast-all.ics").write_bytes(ical_render.calendar_to_ical(batch, stamp=STAMP))
    (folder / "old-all.ics").write_bytes(ical.icalendar_calendar_to_ical(batch, stamp=STAMP))
    fast = _icaljs_view(icaljs, [*fast_files, folder / "fast-all.ics"])
    old = _icaljs_view(icaljs, [*old_files, folder / "old-all.ics"])
    assert len(fast) == len(old) == 2 * len(batch)
    mangled = [_mangled_by_icalendar(e) for e in batch]
    for n, (got, was) in enumerate(zip(fast[: len(batch)], old[: len(batch)], strict=True)):
        if not mangled[n]:
            assert got == was
        content = batch[n].content
        assert _prop(got, "summary")[0][3] == _read_back(content.summary)
        if content.description:
            assert _prop(got, "description")[0][3] == _read_back(content.description)
        # ical.js reads "a\\,b" (an escaped backslash, then the separator) as one value.
        if content.categories and not any("\\" in c for c in content.categories):
            assert tuple(_prop(got, "categories")[0][3:]) == _categories_read_back(
                content.categories
            )
        for key, value in (("startUtc", content.start), ("endUtc", content.end)):
            if isinstance(value, datetime):
                assert got[key] == value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if not any(mangled):
        assert fast[len(batch) :] == old[len(batch) :]


def test_icaljs_reads_summer_times_right_in_a_feed_over_several_years(
    icaljs: Path, tmp_path: Path
) -> None:
    # A school year runs from August into the next year; the VTIMEZONE then lists onsets
    # as RDATEs, which ical.js reads only when each has its own line, DTSTART's included.
    oslo = ZoneInfo("Europe/Oslo")
    batch = [
        DesiredEvent(
            uid=f"m{year}-{month}@syncsvc.local",
            content=EventContent(
                summary="Møte",
                start=datetime(year, month, 7, 14, tzinfo=oslo),
                end=datetime(year, month, 7, 15, tzinfo=oslo),
            ),
        )
        for year in (2024, 2025, 2026)
        for month in (1, 4, 6, 9, 11)
    ]
    feed = tmp_path / "feed.ics"
    feed.write_bytes(ical_render.calendar_to_ical(batch, name="Hva skjer", stamp=STAMP))
    got = {e["uid"]: e["startUtc"] for e in _icaljs_view(icaljs, [feed])}
    want = {
        e.uid: e.content.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for e in batch
        if isinstance(e.content.start, datetime)
    }
    assert got == want
