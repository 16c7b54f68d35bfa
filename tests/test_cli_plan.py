"""`syncsvc plan show|export|check` and `sync` through the real command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.test_cli import ROOT, syncsvc

SEED = ROOT / "config" / "arsplan-2024.txt"


def test_plan_show_lists_semesters_items_and_problems() -> None:
    result = syncsvc("plan", "show", str(SEED))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("Våren 2024") < out.index("Høsten 2024")
    assert "Samisk språkuke" in out
    assert "21.10.2024–27.10.2024" in out
    assert "'leder' is a role" in out


def test_plan_export_json_and_yaml_agree() -> None:
    as_json = json.loads(syncsvc("plan", "export", str(SEED), "--format", "json").stdout)
    as_yaml = yaml.safe_load(syncsvc("plan", "export", str(SEED), "--format", "yaml").stdout)
    assert [i["key"] for i in as_json["items"]] == [i["key"] for i in as_yaml["items"]]
    assert len(as_json["items"]) == 23
    assert {p["email"] for p in as_json["people"]} >= {"trine.mellem@tromsfylke.no"}


def test_plan_check_exit_code_follows_errors(tmp_path: Path) -> None:
    assert syncsvc("plan", "check", str(SEED)).returncode == 0
    bad = tmp_path / "plan.txt"
    # 30. februar does not exist: an error, reported with its place.
    bad.write_text("Årsplan 2024\nAKTIVITET\tDATO/TID\nMøte\t30. februar\n", encoding="utf-8")
    result = syncsvc("plan", "check", str(bad))
    assert result.returncode == 1
    assert f"error: {bad}:3 (column DATO/TID)" in result.stdout


def test_unreadable_plan_is_one_line_exit_4(tmp_path: Path) -> None:
    binary = tmp_path / "plan.bin"
    binary.write_bytes(b"\x00\x01\x02garbage\xff" * 10)
    result = syncsvc("plan", "show", str(binary))
    assert result.returncode == 4
    assert result.stderr.strip().splitlines() == [
        f"syncsvc: plan error: {binary}: the plan looks like binary data, not text"
    ]


def test_sync_with_broken_plan_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("compose"))
    toml = config / "syncsvc.toml"
    assert syncsvc("--config", str(toml), "sync").returncode == 0
    calendars = tmp_path / "var" / "calendars"
    before = {p: p.read_bytes() for p in calendars.rglob("*.ics")}
    assert len(before) > 20
    (config / "arsplan-2024.txt").write_bytes(b"")
    result = syncsvc("--config", str(toml), "sync")
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in calendars.rglob("*.ics")} == before


def test_plan_show_gives_each_items_key_for_overrides() -> None:
    out = syncsvc("plan", "show", str(SEED)).stdout
    assert "      key:    hosten-2024/samisk-sprakuke\n" in out


def _config_copy(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("compose"))
    return config


def test_override_matching_nothing_is_reported_by_plan_check_and_dry_run(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    overrides = config / "overrides.toml"
    text = overrides.read_text(encoding="utf-8")
    assert 'item = "hosten-2024/samisk-sprakuke"' in text
    overrides.write_text(
        text.replace('item = "hosten-2024/samisk-sprakuke"', 'item = "hosten-2024/samisk-sprakuk"'),
        encoding="utf-8",
    )
    line = 1 + text[: text.index("samisk-sprakuke")].count("\n")
    header = line - 1  # the rule's [[override]] line
    toml = str(config / "syncsvc.toml")
    expected = (
        f'{overrides}:{header}: override item = "hosten-2024/samisk-sprakuk" matches no plan item'
    )

    check = syncsvc("--config", toml, "plan", "check")
    assert check.returncode == 0, check.stderr  # a warning, not an error
    assert f"warning: {expected}" in check.stdout.splitlines()[-2] + check.stdout

    dry = syncsvc("--config", toml, "sync", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[1].startswith(f"warning: {expected}")

    as_json = json.loads(syncsvc("--config", toml, "sync", "--dry-run", "--json").stdout)
    assert [n for n in as_json["notes"] if n.startswith(expected)]


def test_selector_with_a_typo_is_one_config_error_naming_the_calendar(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    toml = config / "syncsvc.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8")
        + '\n[[calendars]]\nname = "trine"\ntarget = "folder"\npath = "calendars/trine"\n'
        'selector = "person:trine.melem@tromsfylke.no"\n',
        encoding="utf-8",
    )
    result = syncsvc("--config", str(toml), "sync", "--dry-run")
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "calendar 'trine'" in lines[0]
    assert "person:trine.melem@tromsfylke.no is not in the plan" in lines[0]
    assert "did you mean person:trine.mellem@tromsfylke.no" in lines[0]
    assert not (tmp_path / "var" / "calendars" / "trine").exists()


def test_plan_show_says_which_reader_it_chose_and_check_fails_on_a_misspelt_month(
    tmp_path: Path,
) -> None:
    plan = tmp_path / "skolerute.csv"
    # Norwegian Excel writes CSV in Windows-1252: read with a warning.
    plan.write_bytes("Dato;Hva\n17.09.2024;Fagdag\n18. septmber;Planleggingsdag\n".encode("cp1252"))
    shown = syncsvc("plan", "show", str(plan))
    assert shown.returncode == 0, shown.stderr
    assert "read as table-csv" in shown.stdout
    assert "17.09.2024" in shown.stdout
    checked = syncsvc("plan", "check", str(plan))
    assert checked.returncode == 1
    assert f"error: {plan}:3 (column Dato)" in checked.stdout
    assert "'septmber' is not a month" in checked.stdout
