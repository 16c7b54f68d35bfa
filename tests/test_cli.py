"""The CLI as a user meets it: one line per error, documented exit codes, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def syncsvc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SYNCSVC_CONFIG", None) if env is None else None
    return subprocess.run(
        [sys.executable, "-m", "syncsvc", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=120,
    )


def test_config_check_masks_secrets(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[http]\nadmin_token = "very-secret-admin-token"\n')
    result = syncsvc("--config", str(config), "config", "check")
    assert result.returncode == 0, result.stderr
    assert "configuration ok" in result.stdout
    assert "very-secret-admin-token" not in result.stdout + result.stderr
    assert '"admin_token": "**********"' in result.stdout


def test_bad_config_is_one_line_with_exit_code_3(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[plan]\nsource = "x.txt"\nsorce = "typo"\n')
    result = syncsvc("--config", str(config), "config", "check")
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == f"syncsvc: config error: {config}:3: unknown key 'plan.sorce'"
    assert "Traceback" not in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    result = syncsvc("--config", str(tmp_path / "none.toml"), "sync", "--dry-run")
    assert result.returncode == 3
    assert "configuration file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_exit_code() -> None:
    result = syncsvc("frobnicate")
    assert result.returncode == 2


def test_global_options_work_before_and_after_the_command(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    for args in (("--config", str(missing), "status"), ("status", "--config", str(missing))):
        result = syncsvc(*args)
        assert result.returncode == 3
        assert str(missing) in result.stderr
