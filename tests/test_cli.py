"""The CLI as a user meets it: one line per error, documented exit codes, no tracebacks."""

from __future__ import annotations

import json
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


CONFIG_WITH_SECRETS = """
[http]
admin_token = "very-secret-admin-token-for-the-cli-test"
admin_password_hash = "scrypt$32768$8$1$c2FsdHNhbHQ$aGFzaGhhc2g"
[servers.cal]
url = "https://alice:pw-in-the-url@dav.example.no/"
username = "alice"
password_file = "{password_file}"
[graph]
tenant_id = "t"
client_id = "c"
"""


def test_config_check_json_is_json_and_says_which_secrets_are_set(tmp_path: Path) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("file-secret-password\n")
    config = tmp_path / "c.toml"
    config.write_text(CONFIG_WITH_SECRETS.format(password_file=password_file))
    result = syncsvc("--config", str(config), "config", "check", "--json")
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)  # the whole output is one JSON document
    assert view["config_path"] == str(config.resolve())
    settings = view["settings"]
    assert settings["http"]["admin_token"] == "(set)"
    assert settings["http"]["admin_password_hash"] == "(set)"
    assert settings["servers"]["cal"]["password"] == "(set)"  # filled from its file
    assert settings["servers"]["cal"]["token"] == "(not set)"
    assert settings["graph"]["client_secret"] == "(not set)"
    assert settings["servers"]["cal"]["url"] == "https://alice:***@dav.example.no/"
    for secret in ("very-secret-admin-token", "file-secret-password", "pw-in-the-url", "aGFzaGhh"):
        assert secret not in result.stdout + result.stderr


def test_config_check_readable_form(tmp_path: Path) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("file-secret-password")
    config = tmp_path / "c.toml"
    config.write_text(CONFIG_WITH_SECRETS.format(password_file=password_file))
    result = syncsvc("--config", str(config), "config", "check")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"configuration: {config.resolve()}"
    assert "[http]" in lines
    assert "  admin_token = (set)" in lines
    assert "  cal.password = (set)" in lines
    assert "  client_secret = (not set)" in lines
    assert lines[-1] == "configuration ok"
    for secret in ("very-secret-admin-token", "file-secret-password", "pw-in-the-url", "aGFzaGhh"):
        assert secret not in result.stdout + result.stderr


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
