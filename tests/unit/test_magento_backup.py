"""JSON backups: private, atomic, typed, restorable (CONTRIBUTING: back up what you delete)."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from decimal import Decimal

import pytest
from ansible.module_utils.magento_backup import read_backup, restore_backup, write_backup
from ansible.module_utils.magento_common import ModuleFailure
from sqlite_db import SqliteDatabase

ROWS = [
    {
        "entity_id": 10,
        "consumer_id": 5,
        "type": "access",
        "token": "t" * 32,
        "secret": "s",
        "created_at": dt.datetime(2024, 3, 5, 10, 12, 44),
        "user_type": 1,
    }
]


def test_backup_is_private_and_complete(tmp_path) -> None:
    folder = tmp_path / "backups" / "site1"
    path = write_backup(
        str(folder),
        "oauth rows of Acme Sync",
        {"db_host": "127.0.0.1"},
        [("oauth_token", ROWS)],
        slug="oauth_tokens-Acme Sync",
    )
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.path.basename(path).endswith("-oauth_tokens-Acme_Sync.json")
    assert [p.name for p in folder.iterdir()] == [os.path.basename(path)]  # no temp files left
    doc = json.loads(open(path).read())
    assert doc["what"] == "oauth rows of Acme Sync" and doc["where"] == {"db_host": "127.0.0.1"}
    assert doc["tables"][0]["table"] == "oauth_token"
    assert doc["created_at"].endswith("+00:00")


def test_values_keep_their_types(tmp_path) -> None:
    rows = [{"a": dt.date(2024, 1, 2), "b": Decimal("1.50"), "c": b"\x00\xff", "d": None}]
    path = write_backup(str(tmp_path), "x", {}, [("t", rows)])
    assert read_backup(path)["tables"][0]["rows"] == rows


def test_restore_puts_missing_rows_back_and_repeats_as_a_no_op(tmp_path) -> None:
    db = SqliteDatabase()
    path = write_backup(str(tmp_path), "x", {}, [("oauth_token", ROWS), ("oauth_nonce", [])])
    assert restore_backup(db, path, check_mode=True)["inserted"] == {"oauth_token": 1, "oauth_nonce": 0}
    assert db.count("oauth_token") == 0
    assert restore_backup(db, path)["inserted"] == {"oauth_token": 1, "oauth_nonce": 0}
    assert db.count("oauth_token", "token = ?", ("t" * 32,)) == 1
    again = restore_backup(db, path)
    assert again == {
        "inserted": {"oauth_token": 0, "oauth_nonce": 0},
        "present": {"oauth_token": 1, "oauth_nonce": 0},
    }


def test_patch_list_restored_by_name_with_a_fresh_id(tmp_path) -> None:
    db = SqliteDatabase()
    db.insert("patch_list", patch_id=7, patch_name="Magento\\Other\\Patch")
    rows = [{"patch_id": 7, "patch_name": "Acme\\LegacySync\\Setup\\Patch\\Data\\CreateIntegration"}]
    path = write_backup(str(tmp_path), "x", {}, [("patch_list", rows)])
    assert restore_backup(db, path)["inserted"] == {"patch_list": 1}
    assert db.count("patch_list") == 2


def test_restore_is_all_or_nothing(tmp_path) -> None:
    db = SqliteDatabase()
    bad = [{"nonce": "n", "timestamp": 1, "consumer_id": 5, "no_such_column": 1}]
    path = write_backup(str(tmp_path), "x", {}, [("oauth_token", ROWS), ("oauth_nonce", bad)])
    with pytest.raises(Exception):  # noqa: B017 - the driver's unknown-column error
        restore_backup(db, path)
    assert db.count("oauth_token") == 0


def test_restore_refuses_tables_the_caller_does_not_own(tmp_path) -> None:
    path = write_backup(str(tmp_path), "x", {}, [("admin_user", [{"user_id": 1}])])
    with pytest.raises(ModuleFailure, match="does not restore"):
        restore_backup(SqliteDatabase(), path, allowed_tables={"oauth_token"})


def test_unwritable_folder_names_the_fix(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ModuleFailure, match="backup_dir"):
        write_backup(str(blocker / "sub"), "x", {}, [])


def test_not_a_backup(tmp_path) -> None:
    bogus = tmp_path / "b.json"
    bogus.write_text('{"rows": []}')
    with pytest.raises(ModuleFailure, match="not a reintegrate backup"):
        read_backup(str(bogus))


def test_an_existing_folder_keeps_its_mode_and_new_parents_are_private(tmp_path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    os.chmod(shared, 0o750)  # noqa: S103 - a folder its owner shares with a group, on purpose
    write_backup(str(shared), "w", {}, [("oauth_token", ROWS)], slug="s")
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o750
    deep = shared / "a" / "b"
    write_backup(str(deep), "w", {}, [("oauth_token", ROWS)], slug="s")
    assert stat.S_IMODE(os.stat(shared / "a").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(deep).st_mode) == 0o700


def test_retention_keeps_the_newest_of_one_kind_only(tmp_path) -> None:
    folder = tmp_path / "b"
    paths = [
        write_backup(str(folder), "w", {}, [("oauth_token", ROWS)], slug="oauth_tokens-A", keep=3)
        for _ in range(5)
    ]
    other = write_backup(str(folder), "w", {}, [("oauth_token", ROWS)], slug="oauth_tokens-B", keep=3)
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(os.path.basename(p) for p in [*paths[-3:], other])
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in paths[-3:])
    write_backup(str(folder), "w", {}, [("oauth_token", ROWS)], slug="oauth_tokens-A", keep=0)
    assert len(list(folder.iterdir())) == 5  # keep 0: nothing pruned
