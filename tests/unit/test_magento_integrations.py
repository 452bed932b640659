"""Integration, token and setup-row queries (C2, C3, C6.5, C6.6) against real SQL (SQLite)."""

from __future__ import annotations

import datetime as dt

import pytest
from ansible.module_utils import magento_integrations as mi
from sqlite_db import SqliteDatabase


def ts(seconds_ago: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def db() -> SqliteDatabase:
    db = SqliteDatabase(prefix="mg_")
    for cid, key in ((5, "k" * 32), (6, "j" * 32)):
        db.insert(
            "oauth_consumer",
            entity_id=cid,
            name=f"c{cid}",
            key=key,
            secret=f"0:3:enc{cid}",
            created_at=ts(3600),
            updated_at=ts(100 if cid == 5 else 400),
        )
    db.insert(
        "integration",
        integration_id=3,
        name="Acme Sync",
        email="a@example.com",
        status=1,
        consumer_id=5,
        setup_type=1,
        endpoint="http://127.0.0.1:8099/e",
        identity_link_url="http://x/l",
    )
    db.insert(
        "integration",
        integration_id=4,
        name="Other",
        email="o@example.com",
        status=1,
        consumer_id=6,
        setup_type=0,
    )
    db.insert(
        "oauth_token", entity_id=10, consumer_id=5, type="access", token="t" * 32, secret="s", user_type=1
    )
    db.insert(
        "oauth_token", entity_id=11, consumer_id=6, type="access", token="u" * 32, secret="s", user_type=1
    )
    db.insert("oauth_nonce", nonce="n1", timestamp=1, consumer_id=5)
    db.insert("oauth_nonce", nonce="n1", timestamp=1, consumer_id=6)
    db.insert("setup_module", module="Acme_LegacySync", schema_version="1.0.0", data_version="1.0.0")
    db.insert("setup_module", module="Acme_LegacySyncExtra", schema_version="1.0.0", data_version="1.0.0")
    for name in (
        "Acme\\LegacySync\\Setup\\Patch\\Data\\CreateIntegration",
        "Acme\\LegacySyncExtra\\Setup\\Patch\\Data\\Other",
        "Magento\\Store\\Setup\\Patch\\Schema\\InitializeStoresAndWebsites",
    ):
        db.insert("patch_list", patch_name=name)
    return db


def test_find_integration_and_facts(db: SqliteDatabase) -> None:
    found = mi.find_integration(db, "Acme Sync")
    assert found is not None and found.consumer_id == 5 and found.status_name == "active"
    assert found.facts()["setup_type"] == 1
    assert mi.find_integration(db, "Nope") is None
    assert [i.name for i in mi.list_integrations(db)] == ["Acme Sync", "Other"]
    assert "`mg_integration`" in db.statements[0]


def test_consumer_key_and_age(db: SqliteDatabase) -> None:
    assert mi.consumer_key(db, 5) == "k" * 32
    age = mi.consumer_age_seconds(db, 6)
    assert 395 <= age <= 410
    assert mi.is_expired(age, 300) and not mi.is_expired(mi.consumer_age_seconds(db, 5), 300)
    assert not mi.is_expired(None, 300)


def test_token_rows_never_select_token_values(db: SqliteDatabase) -> None:
    rows = mi.token_rows(db, 5)
    assert [(r.entity_id, r.type) for r in rows] == [(10, "access")]
    assert "secret" not in db.statements[-1] and "token," not in db.statements[-1]


def test_config_values_and_defaults(db: SqliteDatabase) -> None:
    assert mi.expiration_period(db) == 300
    assert mi.bearer_enabled(db) is False
    db.insert(
        "core_config_data", scope="default", scope_id=0, path="oauth/consumer/expiration_period", value="60"
    )
    db.insert(
        "core_config_data",
        scope="default",
        scope_id=0,
        path="oauth/consumer/enable_integration_as_bearer",
        value="1",
    )
    db.insert(
        "core_config_data", scope="websites", scope_id=1, path="oauth/consumer/expiration_period", value="9"
    )
    assert mi.expiration_period(db) == 60
    assert mi.bearer_enabled(db) is True


def T(eid: int, kind: str, user_type: int = 1) -> mi.TokenRow:
    return mi.TokenRow(entity_id=eid, type=kind, user_type=user_type, revoked=0, authorized=0)


@pytest.mark.parametrize(
    ("rows", "wedged", "leftover"),
    [
        ([], False, False),
        ([T(1, "verifier")], False, False),
        ([T(1, "access")], False, True),
        ([T(1, "request")], False, True),
        ([T(1, "access"), T(2, "verifier")], True, True),
        ([T(1, "verifier"), T(2, "verifier")], True, False),
        ([T(1, "verifier"), T(2, "access", user_type=2)], False, False),
    ],
)
def test_diagnose_tokens_c6_6(rows: list, wedged: bool, leftover: bool) -> None:
    diag = mi.diagnose_tokens(rows)
    assert (diag.wedged, diag.leftover) == (wedged, leftover)
    assert (diag.reason is not None) == (wedged or leftover)
    if wedged:
        assert "C6.6" in diag.reason


def test_patch_rows_scoped_to_module_namespace(db: SqliteDatabase) -> None:
    rows = mi.patch_rows(db, "Acme_LegacySync")
    assert [r["patch_name"] for r in rows] == ["Acme\\LegacySync\\Setup\\Patch\\Data\\CreateIntegration"]
    named = mi.patch_rows(
        db, "Acme_LegacySync", ["\\Magento\\Store\\Setup\\Patch\\Schema\\InitializeStoresAndWebsites"]
    )
    assert len(named) == 1


def test_delete_setup_rows_touches_only_one_module(db: SqliteDatabase) -> None:
    ids = [r["patch_id"] for r in mi.patch_rows(db, "Acme_LegacySync")]
    with db.transaction():
        counts = mi.delete_setup_rows(db, "Acme_LegacySync", ids)
    assert counts == {"setup_module": 1, "patch_list": 1}
    assert db.count("setup_module") == 1 and db.count("patch_list") == 2
    assert mi.setup_module_row(db, "Acme_LegacySyncExtra") is not None


def test_delete_oauth_rows_scoped_to_one_consumer(db: SqliteDatabase) -> None:
    assert len(mi.token_rows_for_backup(db, 5)) == 1
    with db.transaction():
        counts = mi.delete_consumer_oauth_rows(db, 5)
    assert counts == {"oauth_token": 1, "oauth_nonce": 1}
    assert db.count("oauth_token", "consumer_id = 6") == 1 and db.count("oauth_nonce", "consumer_id = 6") == 1
    assert mi.nonce_count(db, 5) == 0


def test_delete_all_consumers_only_when_asked(db: SqliteDatabase) -> None:
    with db.transaction():
        counts = mi.delete_consumer_oauth_rows(db, None)
    assert counts == {"oauth_token": 2, "oauth_nonce": 2}


def test_transaction_rolls_back_on_error(db: SqliteDatabase) -> None:
    with pytest.raises(RuntimeError), db.transaction():
        mi.delete_consumer_oauth_rows(db, 5)
        raise RuntimeError("boom")
    assert db.count("oauth_token", "consumer_id = 5") == 1


def test_access_token_present_matches_only_a_live_integration_access_row(db: SqliteDatabase) -> None:
    assert mi.access_token_present(db, 5, "t" * 32)
    assert "`mg_oauth_token`" in db.statements[-1] and "COUNT(*)" in db.statements[-1]
    assert not mi.access_token_present(db, 5, "x" * 32)  # another token
    assert not mi.access_token_present(db, 6, "t" * 32)  # another consumer's
    db.insert("oauth_token", entity_id=20, consumer_id=5, type="request", token="r" * 32, user_type=1)
    assert not mi.access_token_present(db, 5, "r" * 32)  # not an access row
    db.insert("oauth_token", entity_id=21, consumer_id=5, type="access", token="a" * 32, user_type=2)
    assert not mi.access_token_present(db, 5, "a" * 32)  # not an integration's
    db.conn.execute("UPDATE mg_oauth_token SET revoked = 1 WHERE entity_id = 10")
    assert not mi.access_token_present(db, 5, "t" * 32)  # revoked


def test_access_token_present_compares_in_sql_and_reads_no_token_out(db: SqliteDatabase) -> None:
    mi.access_token_present(db, 5, "t" * 32)
    select = db.statements[-1].split("FROM")[0]
    assert select.strip() == "SELECT COUNT(*) AS n"
