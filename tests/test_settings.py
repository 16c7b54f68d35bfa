"""Settings: TOML + environment + secret files, strict keys, clear one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncsvc.domain.errors import ConfigError
from syncsvc.settings import CalDAVCalendar, load_settings, secret_values

BASE = """
[plan]
source = "plan.txt"

[servers.main]
url = "https://cal.example.org/dav/"
username = "trine"
password = "pw-in-file-123"

[[calendars]]
name = "org"
target = "caldav"
server = "main"
url = "org/"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "syncsvc.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_file_and_resolves_paths_relative_to_it(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, BASE))
    assert settings.plan_location() == str(tmp_path / "plan.txt")
    assert settings.data_dir == (tmp_path / "../var").resolve()
    cal = settings.calendars[0]
    assert isinstance(cal, CalDAVCalendar)
    assert cal.server == "main"


def test_unknown_nested_key_names_key_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "\n[sync]\ndelete_treshold = 0.5\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    text = str(info.value)
    assert "unknown key 'sync.delete_treshold'" in text
    assert str(path) in text
    assert f"{path}:{len((BASE + chr(10) + '[sync]').splitlines()) + 1}" in text
    assert "\n" not in text


def test_unknown_key_inside_calendar_list(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace('url = "org/"', 'url = "org/"\ncolour = "red"'))
    with pytest.raises(ConfigError, match=r"unknown key 'calendars\.0\.caldav\.colour'"):
        load_settings(path)


def test_wrong_type_and_bad_toml_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sync\.delete_threshold"):
        load_settings(write(tmp_path, "[sync]\ndelete_threshold = 'lots'\n"))
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        load_settings(write(tmp_path, "[sync\n"))
    assert ":1" in str(info.value)


def test_unknown_server_reference(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace('server = "main"', 'server = "other"'))
    with pytest.raises(ConfigError, match="unknown server 'other'"):
        load_settings(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.toml")


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCSVC_SYNC__DELETE_THRESHOLD", "0.5")
    monkeypatch.setenv("SYNCSVC_HTTP__PORT", "9999")
    settings = load_settings(write(tmp_path, BASE))
    assert settings.sync.delete_threshold == 0.5
    assert settings.http.port == 9999


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, BASE)
    monkeypatch.setenv("SYNCSVC_CONFIG", str(path))
    assert load_settings().config_path == path.resolve()


def test_secrets_directory_and_secret_files(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "http__admin_token").write_text("admin-token-xyz-read-from-a-secret-file\n")
    (tmp_path / "graph-secret").write_text("graph-secret-abc\n")
    text = BASE + '\n[graph]\ntenant_id = "t"\nclient_secret_file = "graph-secret"\n'
    settings = load_settings(write(tmp_path, text), secrets_dir=secrets)
    assert settings.http.admin_token is not None
    assert settings.http.admin_token.get_secret_value() == "admin-token-xyz-read-from-a-secret-file"
    assert settings.graph.client_secret is not None
    assert settings.graph.client_secret.get_secret_value() == "graph-secret-abc"
    assert set(secret_values(settings)) == {
        "pw-in-file-123",
        "admin-token-xyz-read-from-a-secret-file",
        "graph-secret-abc",
    }
    # Secrets stay masked in every printable form of the settings.
    dumped = settings.model_dump_json()
    assert "admin-token-xyz-read-from-a-secret-file" not in dumped
    assert "pw-in-file-123" not in repr(settings)


def test_missing_secret_file_is_a_config_error(tmp_path: Path) -> None:
    text = BASE + '\n[http]\nadmin_token_file = "missing"\n'
    with pytest.raises(ConfigError, match="cannot read admin token"):
        load_settings(write(tmp_path, text))


def test_default_configuration_is_valid() -> None:
    root = Path(__file__).resolve().parent.parent
    settings = load_settings(root / "config" / "syncsvc.toml")
    assert {c.name for c in settings.calendars} >= {"org", "hva-skjer"}
    assert settings.person_calendars.enabled


def test_feed_must_come_from_a_public_calendar(tmp_path: Path) -> None:
    text = (
        '[[calendars]]\nname = "org"\ntarget = "folder"\npath = "org"\n[feed]\ncalendar = "org"\n'
    )
    with pytest.raises(ConfigError, match="the public feed may only come from a calendar"):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize("inline", [True, False])
def test_a_short_admin_token_is_a_config_error(tmp_path: Path, inline: bool) -> None:
    short = "x" * 31
    if inline:
        text = BASE + f'\n[http]\nadmin_token = "{short}"\n'
    else:
        (tmp_path / "token").write_text(short + "\n")
        text = BASE + '\n[http]\nadmin_token_file = "token"\n'
    with pytest.raises(ConfigError, match="31 characters; it must be at least 32") as err:
        load_settings(write(tmp_path, text))
    assert short not in str(err.value)  # the message never repeats the token
    ok = BASE + f'\n[http]\nadmin_token = "{short}y"\n'
    assert load_settings(write(tmp_path, ok)).http.admin_token is not None
