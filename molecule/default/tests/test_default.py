"""The whole flow on the moldefault stack, as a user relies on it after `reinstall_integration.yml`."""

import json
import os
import stat
from pathlib import Path

import pymysql
import pytest
from delivered import CREDENTIAL_KEYS, PROJECT, signed_get

BASE_URL = "http://127.0.0.1:18082/"
CREDENTIALS = PROJECT / ".credentials" / "moldefault"
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))


@pytest.fixture(scope="module")
def db():
    conn = pymysql.connect(
        host="127.0.0.1", port=13308, user="magento", password="magento", database="magento", autocommit=True
    )
    yield conn
    conn.close()


def query(db, sql, *args):
    with db.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def load(name: str) -> dict:
    return json.loads((CREDENTIALS / f"{name}.json").read_text())


@pytest.mark.parametrize("name", ["acme-sync", "acme-legacy-sync"])
def test_credentials_file_is_private_and_complete(name):
    path = CREDENTIALS / f"{name}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert set(load(name)) == CREDENTIAL_KEYS
    assert load(name)["base_url"] == BASE_URL


def test_delivered_tokens_sign_a_200_on_orders():
    response = signed_get(BASE_URL, load("acme-sync"), "/V1/orders?searchCriteria[pageSize]=1")
    assert response.status_code == 200
    assert {"items", "search_criteria", "total_count"} <= set(response.json())


def test_ungranted_route_gets_the_c7_2_body():
    response = signed_get(BASE_URL, load("acme-sync"), "/V1/customers/search?searchCriteria[pageSize]=1")
    assert response.status_code == 401
    body = response.json()
    # A store in developer mode adds "trace", as the recorded 2.4.7-p3 store's rest/products_not_granted.json
    # shows; message and parameters are what a client reads.
    assert set(body) <= {"message", "parameters", "trace"}
    assert body["message"] == "The consumer isn't authorized to access %resources."
    assert body["parameters"] == {"resources": "Magento_Customer::customer"}


@pytest.mark.parametrize("name", ["Acme Sync", "Acme Legacy Sync"])
def test_one_access_row_for_the_consumer_and_active(db, name):
    rows = query(
        db,
        "SELECT i.status, t.type FROM integration i JOIN oauth_token t ON t.consumer_id = i.consumer_id "
        "WHERE i.name = %s",
        name,
    )
    assert [r["type"] for r in rows] == ["access"]
    assert rows[0]["status"] == 1


def test_legacy_install_code_ran_and_granted_the_hand_listed_tree(db):
    sql = "SELECT schema_version, data_version FROM setup_module WHERE module = %s"
    versions = query(db, sql, "Acme_LegacySync")
    assert versions == [{"schema_version": "1.0.0", "data_version": "1.0.0"}]
    allowed = {
        r["resource_id"]
        for r in query(
            db,
            "SELECT r.resource_id FROM authorization_rule r "
            "JOIN authorization_role ro ON ro.role_id = r.role_id "
            "JOIN integration i ON ro.user_id = i.integration_id AND ro.user_type = '1' "
            "WHERE i.name = 'Acme Legacy Sync' AND r.permission = 'allow'",
        )
    }
    # Rules::saveRel allows Magento_Backend::admin with every grant, as the recorded 2.4.7-p3 store's
    # db/authorization_rule_probesync.json shows.
    assert allowed == {
        "Magento_Backend::admin",
        "Magento_Sales::sales",
        "Magento_Sales::sales_operation",
        "Magento_Sales::sales_order",
        "Magento_Sales::actions",
        "Magento_Sales::actions_view",
    }
    response = signed_get(BASE_URL, load("acme-legacy-sync"), "/V1/orders?searchCriteria[pageSize]=1")
    assert response.status_code == 200


def test_bystander_tokens_untouched_and_still_working(db):
    before = json.loads((EPHEMERAL / "bystander_tokens.json").read_text())
    now = query(
        db,
        "SELECT t.entity_id, t.type, t.token, t.created_at FROM oauth_token t "
        "JOIN integration i ON i.consumer_id = t.consumer_id WHERE i.name = 'Acme ERP' ORDER BY t.entity_id",
    )
    assert [(r["entity_id"], r["type"], r["token"]) for r in now] == [
        (r["entity_id"], r["type"], r["token"]) for r in before
    ]
    response = signed_get(BASE_URL, load("acme-erp"), "/V1/customers/search?searchCriteria[pageSize]=1")
    assert response.status_code == 200
