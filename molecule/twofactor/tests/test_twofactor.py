"""Issue 5 on a store with Magento_TwoFactorAuth enabled: cli activation completes, admin fails clearly."""

import json
import re

import pymysql
from delivered import PROJECT, run_playbook, signed_get

CREDENTIALS = PROJECT / ".credentials" / "twofa" / "acme-sync.json"


def db_rows(sql: str, *args):
    conn = pymysql.connect(
        host="127.0.0.1", port=13310, user="magento", password="magento", database="magento"
    )
    with conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_two_factor_auth_is_enabled_on_this_store(host):
    config = host.check_output("docker exec twofa-app cat /var/www/html/app/etc/config.php")
    assert "'Magento_TwoFactorAuth' => 1" in config


def test_cli_helper_installed_and_enabled(host):
    config = host.check_output("docker exec twofa-app cat /var/www/html/app/etc/config.php")
    assert "'Reintegrate_CliActivation' => 1" in config


def test_reinstall_completed_through_cli():
    response = signed_get("http://127.0.0.1:18084/", json.loads(CREDENTIALS.read_text()))
    assert response.status_code == 200
    assert db_rows(
        "SELECT i.status, t.type FROM integration i JOIN oauth_token t ON t.consumer_id = i.consumer_id "
        "WHERE i.name = %s",
        "Acme Sync",
    ) == ((1, "access"),)


def test_admin_activation_fails_with_cause_and_fix():
    rc, out = run_playbook(
        "reinstall_integration.yml",
        "-e",
        "reintegrate_force=true",
        "-e",
        "magento_integration_activation=admin",
    )
    assert rc != 0
    assert re.search(r"^twofa\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=1", out, re.M), out[-3000:]
    assert "two-factor" in out.lower()
    assert "activation: cli" in out
    assert "Nothing was changed" in out  # stopped in the preflight, before any step that deletes
