"""magento_setup_module and magento_oauth_tokens against the live stack: the six steps, scoping, backups."""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Iterator

import pytest

MODULE = "Itest_SetupRows"
OTHER_MODULE = "Itest_SetupRowsKeep"
PATCH = "Itest\\SetupRows\\Setup\\Patch\\Data\\CreateIntegration"
OTHER_PATCH = "Itest\\SetupRowsKeep\\Setup\\Patch\\Data\\CreateIntegration"


def _q(db, sql: str, params=()) -> list[dict]:
    with db.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


@pytest.fixture
def setup_rows(db) -> Iterator[None]:
    def clean() -> None:
        _q(db, "DELETE FROM setup_module WHERE module IN (%s, %s)", (MODULE, OTHER_MODULE))
        _q(db, "DELETE FROM patch_list WHERE patch_name IN (%s, %s)", (PATCH, OTHER_PATCH))

    clean()
    for module in (MODULE, OTHER_MODULE):
        _q(
            db,
            "INSERT INTO setup_module (module, schema_version, data_version) VALUES (%s, '1.0.0', '1.0.0')",
            (module,),
        )
    for patch in (PATCH, OTHER_PATCH):
        _q(db, "INSERT INTO patch_list (patch_name) VALUES (%s)", (patch,))
    yield
    clean()


def _setup_state(db, module: str, patch: str) -> tuple[int, int]:
    rows = _q(db, "SELECT COUNT(*) AS n FROM setup_module WHERE module = %s", (module,))[0]["n"]
    patches = _q(db, "SELECT COUNT(*) AS n FROM patch_list WHERE patch_name = %s", (patch,))[0]["n"]
    return rows, patches


def test_setup_module_six_steps(run_module, site_args, db, setup_rows, tmp_path) -> None:
    args = {**site_args, "module": MODULE, "backup_dir": str(tmp_path / "bk")}
    # 1 check mode: reports, changes nothing, writes no backup.
    r = run_module("magento_setup_module", args, check=True, diff=True)
    assert r["changed"] is True and r["backup"] is None, r
    assert [p["patch_name"] for p in r["removed"]["patch_list"]] == [PATCH]
    assert "setup_module: Itest_SetupRows" in r["diff"]["before"]
    assert _setup_state(db, MODULE, PATCH) == (1, 1) and not (tmp_path / "bk").exists()
    # 2 apply: rows gone, backup 0600 in a 0700 folder, the other module untouched.
    r = run_module("magento_setup_module", args)
    assert r["changed"] is True, r
    assert _setup_state(db, MODULE, PATCH) == (0, 0)
    assert _setup_state(db, OTHER_MODULE, OTHER_PATCH) == (1, 1)
    assert stat.S_IMODE(os.stat(r["backup"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "bk").st_mode) == 0o700
    backup = json.loads(open(r["backup"]).read())
    assert {t["table"]: len(t["rows"]) for t in backup["tables"]} == {"setup_module": 1, "patch_list": 1}
    # 3 idempotent check, 4 idempotent apply.
    assert run_module("magento_setup_module", args, check=True)["changed"] is False
    assert run_module("magento_setup_module", args)["changed"] is False
    # 5 change in check mode (restore), 6 change (restore), then restoring again is a no-op.
    restore = {**site_args, "module": MODULE, "state": "present", "restore_from": r["backup"]}
    rc = run_module("magento_setup_module", restore, check=True)
    assert rc["changed"] is True and rc["restored"] == {"setup_module": 1, "patch_list": 1}, rc
    assert _setup_state(db, MODULE, PATCH) == (0, 0)
    assert run_module("magento_setup_module", restore)["changed"] is True
    assert _setup_state(db, MODULE, PATCH) == (1, 1)
    assert run_module("magento_setup_module", restore)["changed"] is False


def test_setup_module_bad_name_changes_nothing(run_module, site_args, db, setup_rows, tmp_path) -> None:
    r = run_module(
        "magento_setup_module", {**site_args, "module": "itest_setuprows", "backup_dir": str(tmp_path)}
    )
    assert r["failed"] is True and "Vendor_Module" in r["msg"]
    assert _setup_state(db, MODULE, PATCH) == (1, 1)


def test_setup_module_named_patch_only(run_module, site_args, db, setup_rows, tmp_path) -> None:
    args = {**site_args, "module": MODULE, "patches": [OTHER_PATCH], "backup_dir": str(tmp_path)}
    r = run_module("magento_setup_module", args)
    assert r["changed"] is True
    # Named patches replace the namespace match; the module's setup_module row still goes.
    assert _setup_state(db, OTHER_MODULE, OTHER_PATCH) == (1, 0)
    assert _setup_state(db, MODULE, PATCH) == (0, 1)


# --- magento_oauth_tokens --------------------------------------------------------------------------

TARGET = "Itest Tokens Target"
BYSTANDER = "Itest Tokens Bystander"


def _make_integration(db, name: str) -> int:
    key, secret = secrets.token_hex(16), secrets.token_hex(16)
    _q(
        db,
        "INSERT INTO oauth_consumer (name, `key`, secret, callback_url, rejected_callback_url) "
        "VALUES (%s, %s, %s, NULL, '')",
        (name, key, secret),
    )
    cid = _q(db, "SELECT entity_id FROM oauth_consumer WHERE `key` = %s", (key,))[0]["entity_id"]
    _q(
        db,
        "INSERT INTO integration (name, email, status, consumer_id, setup_type) VALUES (%s, %s, 1, %s, 0)",
        (name, "itest@example.com", cid),
    )
    _q(
        db,
        "INSERT INTO oauth_token (consumer_id, type, token, secret, callback_url, user_type, authorized) "
        "VALUES (%s, 'access', %s, %s, 'oob', 1, 1)",
        (cid, secrets.token_hex(16), secrets.token_hex(16)),
    )
    for _ in range(2):
        _q(
            db,
            "INSERT INTO oauth_nonce (nonce, timestamp, consumer_id) VALUES (%s, 1700000000, %s)",
            (secrets.token_hex(16), cid),
        )
    return cid


@pytest.fixture
def token_rows(db) -> Iterator[dict[str, int]]:
    def clean() -> None:
        for row in _q(db, "SELECT consumer_id FROM integration WHERE name IN (%s, %s)", (TARGET, BYSTANDER)):
            _q(db, "DELETE FROM oauth_consumer WHERE entity_id = %s", (row["consumer_id"],))
        _q(db, "DELETE FROM integration WHERE name IN (%s, %s)", (TARGET, BYSTANDER))

    clean()
    yield {"target": _make_integration(db, TARGET), "bystander": _make_integration(db, BYSTANDER)}
    clean()


def _counts(db, cid: int) -> tuple[int, int]:
    tokens = _q(db, "SELECT COUNT(*) AS n FROM oauth_token WHERE consumer_id = %s", (cid,))[0]["n"]
    nonces = _q(db, "SELECT COUNT(*) AS n FROM oauth_nonce WHERE consumer_id = %s", (cid,))[0]["n"]
    return tokens, nonces


def test_oauth_tokens_six_steps(run_module, site_args, db, token_rows, tmp_path) -> None:
    cid, other = token_rows["target"], token_rows["bystander"]
    token_value = _q(db, "SELECT token FROM oauth_token WHERE consumer_id = %s", (cid,))[0]["token"]
    args = {**site_args, "integration": TARGET, "backup_dir": str(tmp_path / "bk")}
    # 1 check mode.
    r = run_module("magento_oauth_tokens", args, check=True, diff=True)
    assert r["changed"] is True and r["removed"] == {"oauth_token": 1, "oauth_nonce": 2}, r
    assert r["diff"]["before"] == "oauth_token rows: 1 (access)\noauth_nonce rows: 2\n"
    assert token_value not in json.dumps(r)
    assert _counts(db, cid) == (1, 2)
    # 2 apply: only this consumer, backup first.
    r = run_module("magento_oauth_tokens", args, diff=True)
    assert r["changed"] is True and r["consumer_id"] == cid
    assert token_value not in json.dumps(r)
    assert _counts(db, cid) == (0, 0) and _counts(db, other) == (1, 2)
    assert stat.S_IMODE(os.stat(r["backup"]).st_mode) == 0o600
    # 3, 4 idempotent.
    assert run_module("magento_oauth_tokens", args, check=True)["changed"] is False
    assert run_module("magento_oauth_tokens", args)["changed"] is False
    # 5, 6 change: restore from the backup (check mode first).
    restore = {**site_args, "integration": TARGET, "state": "present", "restore_from": r["backup"]}
    assert run_module("magento_oauth_tokens", restore, check=True)["changed"] is True
    assert _counts(db, cid) == (0, 0)
    assert run_module("magento_oauth_tokens", restore)["changed"] is True
    assert _counts(db, cid) == (1, 2) and _counts(db, other) == (1, 2)


def test_scope_all_needs_the_second_flag(run_module, site_args, db, token_rows, tmp_path) -> None:
    r = run_module("magento_oauth_tokens", {**site_args, "scope": "all", "backup_dir": str(tmp_path)})
    assert r["failed"] is True and "i_know_this_deletes_every_token" in r["msg"]
    assert _counts(db, token_rows["target"]) == (1, 2)
    r = run_module(
        "magento_oauth_tokens",
        {**site_args, "scope": "all", "i_know_this_deletes_every_token": True, "backup_dir": str(tmp_path)},
        check=True,
    )
    assert r["changed"] is True and r["removed"]["oauth_token"] >= 2
    assert _counts(db, token_rows["bystander"]) == (1, 2)


def test_unknown_integration_fails_cleanly(run_module, site_args, tmp_path) -> None:
    r = run_module(
        "magento_oauth_tokens", {**site_args, "integration": "Itest Nope", "backup_dir": str(tmp_path)}
    )
    assert r["failed"] is True and "does not exist" in r["msg"]
