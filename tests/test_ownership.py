"""The owner marker: only this installation, this calendar and this UID verify."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncsvc.domain.errors import ConfigError
from syncsvc.domain.ownership import LEGACY_MARKER, Claim, OwnerKey
from syncsvc.settings import Settings, secret_values
from syncsvc.state.owner_key import KEY_FILE, load_owner_key, owner_key_for

KEY = OwnerKey(b"k" * 32)
UIDS = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=80)


@given(UIDS, UIDS, st.sampled_from(["staff", "hva-skjer", "person-ola"]))
def test_marker_verifies_only_its_own_uid(uid: str, other: str, calendar: str) -> None:
    owner = KEY.for_calendar(calendar)
    assert owner.claim(uid, owner.marker(uid)) is Claim.OWNED
    if other != uid:  # a copy with a new UID keeps the marker: foreign
        assert owner.claim(other, owner.marker(uid)) is Claim.FOREIGN


def test_marker_is_bound_to_calendar_and_key() -> None:
    uid = "x-1-abc@syncsvc.local"
    staff = KEY.for_calendar("staff")
    assert KEY.for_calendar("public").claim(uid, staff.marker(uid)) is Claim.FOREIGN
    other_install = OwnerKey(b"z" * 32).for_calendar("staff")
    assert other_install.claim(uid, staff.marker(uid)) is Claim.FOREIGN
    assert staff.claim(uid, LEGACY_MARKER) is Claim.LEGACY
    assert staff.claim(uid, None) is Claim.FOREIGN
    assert staff.claim(uid, "v2.") is Claim.FOREIGN
    assert "k" * 8 not in repr(KEY)
    assert "k" * 8 not in repr(staff)


def test_key_is_created_once_with_private_permissions(
    tmp_path: Path,
) -> None:
    first = load_owner_key(tmp_path / "var")
    path = tmp_path / "var" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_owner_key(tmp_path / "var") == first
    assert not [p for p in path.parent.iterdir() if p.name != KEY_FILE]  # no temp files left


def test_concurrent_first_runs_agree_on_one_key(
    tmp_path: Path,
) -> None:
    keys: list[OwnerKey] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(load_owner_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8
    assert len(set(keys)) == 1


def test_bad_key_file_names_the_file_not_the_content(
    tmp_path: Path,
) -> None:
    (tmp_path / KEY_FILE).write_text("not-hex-secretvalue\n")
    with pytest.raises(ConfigError) as err:
        load_owner_key(tmp_path)
    assert KEY_FILE in str(err.value.where)
    assert "secretvalue" not in str(err.value)


def test_configured_key_wins_and_nothing_is_written(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"sync": {"data_dir": str(tmp_path), "owner_key": "ab" * 32}}
    )
    assert owner_key_for(settings) == OwnerKey(bytes.fromhex("ab" * 32))
    assert not (tmp_path / KEY_FILE).exists()
    assert "ab" * 32 in secret_values(settings)  # the log redactor masks it
    bad = Settings.model_validate({"sync": {"data_dir": str(tmp_path), "owner_key": "xyz"}})
    with pytest.raises(ConfigError):
        owner_key_for(bad)
