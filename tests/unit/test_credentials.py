"""magento_credentials: atomic 0600 file in 0700 folders, JSON and .env formats, read back, field diffs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from ansible.module_utils import magento_credentials as mc
from ansible.module_utils.magento_credentials import (
    FIELDS,
    Credentials,
    CredentialsFileError,
    changed_fields,
    file_mode,
    format_for,
    read_credentials,
    write_credentials,
)

CREDS = Credentials(
    base_url="http://127.0.0.1:8080/",
    consumer_key="k" * 32,
    consumer_secret="s" * 32,
    access_token="t" * 32,
    access_token_secret="u" * 32,
    obtained_at="2025-01-01T00:00:00Z",
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_json_file_is_0600_in_new_0700_folders_with_the_documented_keys(tmp_path: Path) -> None:
    path = tmp_path / ".credentials" / "sandbox" / "Acme Sync.json"
    old_umask = os.umask(0o022)
    try:
        write_credentials(str(path), CREDS)
    finally:
        os.umask(old_umask)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700
    data = json.loads(path.read_text())
    assert list(data) == list(FIELDS)
    assert data["consumer_secret"] == "s" * 32
    assert read_credentials(str(path)) == CREDS
    assert file_mode(str(path)) == "0600"


def test_existing_folder_mode_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)  # noqa: S103 (the folder the user chose)
    write_credentials(str(folder / "c.json"), CREDS)
    assert _mode(folder) == 0o755
    assert _mode(folder / "c.json") == 0o600


def test_env_format_round_trips_and_quotes_unsafe_values(tmp_path: Path) -> None:
    path = tmp_path / "magento.env"
    odd = Credentials(
        'http://shop.test/a b/"x"/', "k" * 32, "s" * 32, "t" * 32, "u" * 32, "2025-01-01T00:00:00Z"
    )
    assert format_for(str(path)) == "env"
    write_credentials(str(path), odd)
    text = path.read_text()
    assert "MAGENTO_CONSUMER_KEY=" + "k" * 32 + "\n" in text
    assert 'MAGENTO_BASE_URL="http://shop.test/a b/\\"x\\"/"\n' in text
    assert read_credentials(str(path)) == odd
    assert _mode(path) == 0o600


def test_explicit_format_wins_over_the_name(tmp_path: Path) -> None:
    path = tmp_path / "creds.txt"
    write_credentials(str(path), CREDS, "env")
    assert path.read_text().startswith("MAGENTO_BASE_URL=")
    assert read_credentials(str(path), "env") == CREDS
    with pytest.raises(ValueError, match="json, env"):
        format_for(str(path), "yaml")


def test_rewrite_replaces_atomically_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_credentials(str(path), CREDS)
    inode_before = path.stat().st_ino
    newer = Credentials(**{**CREDS.__dict__, "access_token": "n" * 32})
    write_credentials(str(path), newer)
    assert read_credentials(str(path)) == newer
    assert path.stat().st_ino != inode_before  # a new file was renamed over the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]


def test_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "c.json"
    write_credentials(str(path), CREDS)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mc.os, "replace", broken_replace)
    newer = Credentials(**{**CREDS.__dict__, "access_token": "n" * 32})
    with pytest.raises(CredentialsFileError, match="No space left") as caught:
        write_credentials(str(path), newer)
    assert "n" * 32 not in str(caught.value)
    assert read_credentials(str(path)) == CREDS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]


def test_missing_file_reads_as_none_and_malformed_file_names_the_fix(tmp_path: Path) -> None:
    assert read_credentials(str(tmp_path / "absent.json")) is None
    bad = tmp_path / "bad.json"
    bad.write_text('{"base_url": "x", "consumer_secret": "' + "s" * 32 + '"}')
    with pytest.raises(CredentialsFileError) as caught:
        read_credentials(str(bad))
    message = str(caught.value)
    assert "consumer_key" in message and "access_token" in message and "fix or delete it" in message
    assert "s" * 32 not in message
    bad.write_text("not json")
    with pytest.raises(CredentialsFileError, match="not valid JSON"):
        read_credentials(str(bad))


def test_changed_fields_names_keys_never_values() -> None:
    assert changed_fields(None, CREDS) == list(FIELDS)
    assert changed_fields(CREDS, CREDS) == []
    newer = Credentials(**{**CREDS.__dict__, "access_token": "n" * 32, "obtained_at": "later"})
    assert changed_fields(CREDS, newer) == ["access_token", "obtained_at"]


def test_unusable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    os.chmod(blocker, 0o640)
    with pytest.raises(CredentialsFileError, match="choose a credentials_path"):
        write_credentials(str(blocker / "c.json"), CREDS)
    assert _mode(blocker) == 0o640  # not chmod-ed as if it were a folder we made
