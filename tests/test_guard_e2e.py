"""The deletion guard through the real command line (`python -m syncsvc sync`).

A plan shrunk by half, or a valid plan with no activities, is refused with exit code 5 and
no calendar file or feed byte changes; `--force` applies it. An empty or unreadable plan file
is a plan error (exit 4) and deletes nothing, with or without `--force`.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date
from pathlib import Path

from tests.reliability import activity_list, folder_objects

YEAR = date.today().year + 1  # the CLI uses the real clock: keep every event in the future
EVENTS = 40
ROOT = Path(__file__).resolve().parent.parent


def syncsvc(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCSVC_")}
    return subprocess.run(
        [sys.executable, "-m", "syncsvc", "--config", str(config), "--log-format", "json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )


def setup(tmp_path: Path) -> tuple[Path, Path]:
    plan = tmp_path / "plan.txt"
    plan.write_text(activity_list(random.Random(7), EVENTS, YEAR), encoding="utf-8")
    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f'[plan]\nsource = "{plan}"\n'
        f'[sync]\ndata_dir = "{tmp_path / "var"}"\n'
        '[[calendars]]\nname = "org"\ntarget = "folder"\npath = "calendars/org"\n'
        '[[calendars]]\nname = "all-public"\ntarget = "folder"\npath = "calendars/all"\n'
        'audience = "public"\n'
        '[feed]\ncalendar = "all-public"\npath = "public/feed.ics"\n',
        encoding="utf-8",
    )
    return config, plan


def snapshot(var: Path) -> dict[str, tuple[bytes, int]]:
    """Calendar files and the feed with their mtimes (the state store is allowed to change,
    and so is the cache, which keeps the plan's last reading whatever the run did)."""
    return {
        str(p.relative_to(var)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(var.rglob("*"))
        if p.is_file()
        and not p.name.startswith("state.sqlite3")
        and p.relative_to(var).parts[0] != "cache"
    }


def half_of(plan: Path) -> str:
    lines = plan.read_text(encoding="utf-8").splitlines()
    activities = [i for i, line in enumerate(lines) if ": Aktivitet " in line]
    drop = set(activities[::2])
    return "\n".join(line for i, line in enumerate(lines) if i not in drop) + "\n"


def test_half_plan_refused_then_forced(tmp_path: Path) -> None:
    config, plan = setup(tmp_path)
    org = tmp_path / "var" / "calendars" / "org"
    first = syncsvc(config, "sync")
    assert first.returncode == 0, first.stderr
    assert len(folder_objects(org)) == EVENTS
    before = snapshot(tmp_path / "var")

    plan.write_text(half_of(plan), encoding="utf-8")
    refused = syncsvc(config, "sync", "--json")
    assert refused.returncode == 5, refused.stderr
    report = json.loads(refused.stdout)
    assert report["calendars"][0]["outcome"] == "refused"
    assert "deletion guard" in report["calendars"][0]["error"]
    assert snapshot(tmp_path / "var") == before

    forced = syncsvc(config, "sync", "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(folder_objects(org)) == EVENTS - EVENTS // 2


def test_plan_without_activities_refused_then_forced(tmp_path: Path) -> None:
    config, plan = setup(tmp_path)
    org = tmp_path / "var" / "calendars" / "org"
    assert syncsvc(config, "sync").returncode == 0
    before = snapshot(tmp_path / "var")

    empty = tmp_path / "empty.yaml"
    empty.write_text(f"year: {YEAR}\nitems: []\n", encoding="utf-8")
    config.write_text(config.read_text().replace(str(plan), str(empty)), encoding="utf-8")
    refused = syncsvc(config, "sync")
    assert refused.returncode == 5, refused.stderr
    assert snapshot(tmp_path / "var") == before

    forced = syncsvc(config, "sync", "--force")
    assert forced.returncode == 0, forced.stderr
    assert folder_objects(org) == {}


def test_empty_or_binary_plan_file_deletes_nothing_even_forced(tmp_path: Path) -> None:
    config, plan = setup(tmp_path)
    assert syncsvc(config, "sync").returncode == 0
    before = snapshot(tmp_path / "var")
    for content in (b"", b"\n  \n", b"\x00\x01\x02binary\xff" * 50):
        plan.write_bytes(content)
        for extra in ((), ("--force",)):
            result = syncsvc(config, "sync", *extra)
            assert result.returncode == 4, (content[:10], extra, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert lines[-1].startswith("syncsvc: plan error: "), lines
            assert str(plan) in lines[-1]
            assert "Traceback" not in result.stderr
            assert snapshot(tmp_path / "var") == before
