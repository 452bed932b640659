"""C1 (layout, env.php, commands), C2 (tables, encryption) and C8 (setup:upgrade) of the twin."""

from __future__ import annotations

import re

import pytest
from twin_clients import AdminClient, decrypt, handshake, rest_get

pytestmark = pytest.mark.docker

ROOT = "/var/www/html"


def columns(stack, table):
    return {
        r["COLUMN_NAME"]: r
        for r in stack.query(
            "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=DATABASE() AND TABLE_NAME=%s",
            (stack.prefix + table,),
        )
    }


def fks(stack, table):
    return {
        (r["COLUMN_NAME"], r["REFERENCED_TABLE_NAME"], r["DELETE_RULE"])
        for r in stack.query(
            "SELECT k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, c.DELETE_RULE "
            "FROM information_schema.KEY_COLUMN_USAGE k "
            "JOIN information_schema.REFERENTIAL_CONSTRAINTS c ON c.CONSTRAINT_NAME=k.CONSTRAINT_NAME "
            "AND c.CONSTRAINT_SCHEMA=k.CONSTRAINT_SCHEMA WHERE k.TABLE_SCHEMA=DATABASE() AND k.TABLE_NAME=%s",
            (stack.prefix + table,),
        )
    }


def test_c1_1_root_layout(stack):
    """C1.1: bin/magento (executable), app/etc/env.php, app/etc/config.php, app/code, vendor."""
    res = stack.exec(
        "sh",
        "-c",
        f"cd {ROOT} && test -x bin/magento && test -f app/etc/env.php && "
        "test -f app/etc/config.php && test -d app/code && test -d vendor/magento && echo ok",
    )
    assert res.out.strip() == "ok"
    acl = stack.read(f"{ROOT}/vendor/magento/module-sales/etc/acl.xml")
    assert 'id="Magento_Sales::actions_view"' in acl
    assert "Magento_Sales::actions_view" in stack.read(f"{ROOT}/vendor/magento/module-sales/etc/webapi.xml")


def test_c1_2_env_php_is_a_php_array(stack):
    """C1.2: env.php returns a PHP array with db connection, backend.frontName and a crypt key."""
    env = stack.env_php
    assert env.startswith("<?php\nreturn [")
    assert env.rstrip().endswith("];")
    assert re.search(r"'connection' => \[\s*'default' => \[\s*'host' => '[^']+'", env)
    assert re.search(r"'frontName' => '\w+'", env)
    # 2.4.7's setup:install writes `base64` + 32 random bytes (recorded: site/env.php); older twins wrote
    # a 32-character key, which Magento reads too.
    assert re.fullmatch(r"base64[A-Za-z0-9+/]{43}=|[A-Za-z0-9]{32}", stack.crypt_key)
    assert "'table_prefix' => " in env


def test_c1_3_config_php_lists_modules(stack):
    """C1.3: config.php is `'modules' => ['V_M' => 1|0]`."""
    cfg = stack.read(f"{ROOT}/app/etc/config.php")
    assert re.search(r"'modules' => \[\s*'Magento_Store' => 1,", cfg)
    assert re.search(r"'Magento_TwoFactorAuth' => [01]", cfg)


def test_c1_4_module_status_and_enable(stack, make_module):
    """C1.4: module:status [V_M], module:enable V_M; unknown module exits 1 on enable, 0 on status."""
    mod = make_module(enable=False)
    assert stack.magento("module:status", mod.name).out == f"{mod.name} :  Module is disabled\n"
    res = stack.magento("module:enable", mod.name)
    assert res.rc == 0 and f"- {mod.name}" in res.out
    assert stack.magento("module:status", mod.name).out == f"{mod.name} : Module is enabled\n"
    unknown = stack.magento("module:status", "Nope_Nothing")
    assert (unknown.rc, unknown.out) == (0, "Nope_Nothing : Module does not exist\n")
    assert mod.name in stack.magento("module:status").out
    bad = stack.magento("module:enable", "Nope_Nothing")
    assert bad.rc == 1 and "Unknown module(s): 'Nope_Nothing'" in bad.err


def test_c1_4_cache_config_maintenance(stack):
    """C1.4: cache:flush, cache:clean, config:set/config:show, maintenance:status."""
    assert stack.magento("cache:flush").out.startswith("Flushed cache types:")
    assert stack.magento("cache:clean").out.startswith("Cleaned cache types:")
    path = "twin/test/value"
    try:
        assert stack.magento("config:set", path, "42").out.strip() == "Value was saved."
        assert stack.magento("config:show", path).out.strip() == "42"
    finally:
        stack.execute(f"DELETE FROM {stack.t('core_config_data')} WHERE path=%s", (path,))
    missing = stack.magento("config:show", path)
    assert (missing.rc, missing.out, missing.err) == (
        1,
        f'The "{path}" path doesn\'t exist. Verify and try again.\n',
        "",
    )
    assert "maintenance mode is not active" in stack.magento("maintenance:status").out


def test_c1_4_setup_db_status(stack, make_module):
    """C1.4: setup:db:status exits 2 when an upgrade is needed, 0 when up to date."""
    mod = make_module(setup_version="1.2.3")
    needs = stack.magento("setup:db:status")
    assert needs.rc == 2, needs.out
    assert mod.name in needs.out
    assert stack.magento("setup:upgrade", "--keep-generated").rc == 0
    assert stack.magento("setup:db:status").rc == 0


def test_c2_1_c8_1_setup_module_and_upgrade_data(stack, make_module):
    """C2.1/C8.1: setup_module row = setup_version; a higher setup_version updates it (UpgradeData)."""
    mod = make_module(setup_version="1.0.0")
    stack.magento("setup:upgrade", "--keep-generated")
    q = f"SELECT schema_version, data_version FROM {stack.t('setup_module')} WHERE module=%s"
    assert stack.query(q, (mod.name,)) == [{"schema_version": "1.0.0", "data_version": "1.0.0"}]
    mod.write(
        {
            "etc/module.xml": f'<?xml version="1.0"?><config><module name="{mod.name}" '
            'setup_version="1.1.0"/>'
            "</config>"
        }
    )
    stack.magento("setup:upgrade", "--keep-generated")
    assert stack.query(q, (mod.name,)) == [{"schema_version": "1.1.0", "data_version": "1.1.0"}]
    cols = columns(stack, "setup_module")
    assert cols["module"]["COLUMN_KEY"] == "PRI" and cols["module"]["CHARACTER_MAXIMUM_LENGTH"] == 50


def test_c2_2_to_c2_8_columns_keys_cascades(stack):
    """C2.2-C2.8: the real columns, unique keys and ON DELETE CASCADE foreign keys."""
    assert columns(stack, "patch_list")["patch_name"]["CHARACTER_MAXIMUM_LENGTH"] == 1024
    integ = columns(stack, "integration")
    assert {
        "integration_id",
        "name",
        "email",
        "endpoint",
        "status",
        "consumer_id",
        "created_at",
        "updated_at",
        "setup_type",
        "identity_link_url",
    } <= set(integ)
    assert integ["name"]["COLUMN_KEY"] == "UNI" and integ["consumer_id"]["COLUMN_KEY"] == "UNI"
    assert ("consumer_id", stack.prefix + "oauth_consumer", "CASCADE") in fks(stack, "integration")
    consumer = columns(stack, "oauth_consumer")
    assert consumer["key"]["CHARACTER_MAXIMUM_LENGTH"] == 32 and consumer["key"]["COLUMN_KEY"] == "UNI"
    assert consumer["secret"]["CHARACTER_MAXIMUM_LENGTH"] == 128
    token = columns(stack, "oauth_token")
    assert {
        "consumer_id",
        "admin_id",
        "customer_id",
        "type",
        "token",
        "secret",
        "verifier",
        "callback_url",
        "revoked",
        "authorized",
        "user_type",
        "created_at",
    } <= set(token)
    assert ("consumer_id", stack.prefix + "oauth_consumer", "CASCADE") in fks(stack, "oauth_token")
    nonce_pk = stack.query(
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA=DATABASE() "
        "AND TABLE_NAME=%s AND CONSTRAINT_NAME='PRIMARY' ORDER BY ORDINAL_POSITION",
        (stack.prefix + "oauth_nonce",),
    )
    assert [r["COLUMN_NAME"] for r in nonce_pk] == ["nonce", "consumer_id"]
    assert ("consumer_id", stack.prefix + "oauth_consumer", "CASCADE") in fks(stack, "oauth_nonce")
    assert ("role_id", stack.prefix + "authorization_role", "CASCADE") in fks(stack, "authorization_rule")
    ccd = stack.query(
        "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS cols FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA=DATABASE() AND TABLE_NAME=%s AND NON_UNIQUE=0 AND INDEX_NAME<>'PRIMARY' "
        "GROUP BY INDEX_NAME",
        (stack.prefix + "core_config_data",),
    )
    assert {"cols": "scope,scope_id,path"} in ccd
    assert columns(stack, "admin_user")["username"]["COLUMN_KEY"] == "UNI"


def test_c2_3_c2_7_role_of_integration(stack, make_integration):
    """C2.3/C2.7: setup_type 1 from config; role_type U, user_type 1, user_id = integration_id."""
    row = make_integration()
    assert row["setup_type"] == 1
    role = stack.query(
        f"SELECT * FROM {stack.t('authorization_role')} WHERE user_id=%s AND user_type='1'",
        (row["integration_id"],),
    )
    assert len(role) == 1 and role[0]["role_type"] == "U"


def test_c2_4_c2_5_secrets_encrypted_with_env_key(stack, make_integration, listener):
    """C2.4/C2.5: consumer and access-token secrets are `<ver>:3:<base64>` ChaCha20-Poly1305.

    Decrypted here with env.php's crypt key.
    """
    row = make_integration(endpoint=listener.url)
    creds = handshake(stack, AdminClient(stack), row["integration_id"], listener)
    consumer = stack.query(
        f"SELECT * FROM {stack.t('oauth_consumer')} WHERE entity_id=%s", (row["consumer_id"],)
    )[0]
    assert re.fullmatch(r"0:3:[A-Za-z0-9+/=]+", consumer["secret"])
    assert decrypt(stack, consumer["secret"]) == creds.consumer_secret
    assert consumer["key"] == creds.consumer_key and len(consumer["key"]) == 32
    token = stack.query(
        f"SELECT * FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )[0]
    assert token["token"] == creds.access_token
    assert re.fullmatch(r"0:3:[A-Za-z0-9+/=]+", token["secret"])
    assert decrypt(stack, token["secret"]) == creds.access_token_secret


def test_c2_6_nonce_rows_cascade_with_consumer(stack, make_integration, listener):
    """C2.6/C2.5: deleting a consumer removes its nonces and tokens (ON DELETE CASCADE)."""
    row = make_integration(endpoint=listener.url)
    handshake(stack, AdminClient(stack), row["integration_id"], listener)
    assert stack.query(f"SELECT 1 FROM {stack.t('oauth_nonce')} WHERE consumer_id=%s", (row["consumer_id"],))
    stack.execute(f"DELETE FROM {stack.t('oauth_consumer')} WHERE entity_id=%s", (row["consumer_id"],))
    assert (
        stack.query(f"SELECT 1 FROM {stack.t('oauth_nonce')} WHERE consumer_id=%s", (row["consumer_id"],))
        == []
    )
    assert (
        stack.query(f"SELECT 1 FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],))
        == []
    )
    assert (
        stack.query(
            f"SELECT 1 FROM {stack.t('integration')} WHERE integration_id=%s", (row["integration_id"],)
        )
        == []
    )


def test_c2_8_core_config_and_admin_user(stack):
    """C2.8: core_config_data holds the base URL at default scope; admin_user has a hashed password."""
    assert stack.config_value("web/unsecure/base_url") == stack.base_url
    admin = stack.query(f"SELECT * FROM {stack.t('admin_user')} WHERE username='admin'")[0]
    assert admin["is_active"] == 1 and "Admin12345!" not in admin["password"]


def test_c8_1_generated_deleted_unless_keep_generated(stack):
    """C8.1: setup:upgrade deletes generated/ contents unless --keep-generated."""
    stack.exec(
        "sh", "-c", f"mkdir -p {ROOT}/generated/code/Twin && touch {ROOT}/generated/code/Twin/Marker.php"
    )
    assert stack.magento("setup:upgrade", "--keep-generated").rc == 0
    assert stack.exec("test", "-f", f"{ROOT}/generated/code/Twin/Marker.php").rc == 0
    assert stack.magento("setup:upgrade").rc == 0
    assert stack.exec("test", "-e", f"{ROOT}/generated/code/Twin/Marker.php").rc != 0


def test_c8_1_dry_run_changes_nothing(stack, make_module):
    """C1.4/C8.1: setup:upgrade --dry-run=1 leaves config.php and setup_module untouched."""
    mod = make_module(setup_version="1.0.0", enable=False)
    res = stack.magento("setup:upgrade", "--dry-run=1")
    assert res.rc == 0
    assert f"'{mod.name}'" not in stack.read(f"{ROOT}/app/etc/config.php")
    assert stack.query(f"SELECT 1 FROM {stack.t('setup_module')} WHERE module=%s", (mod.name,)) == []


def test_c8_3_rest_answers_with_setup_row_missing(stack, make_module, make_integration, listener):
    """C8.3: with a setup_version module lacking its row, db:status says 2 and REST keeps answering."""
    row = make_integration(endpoint=listener.url)
    creds = handshake(stack, AdminClient(stack), row["integration_id"], listener)
    make_module(setup_version="9.9.9")
    assert stack.magento("setup:db:status").rc == 2
    assert rest_get(stack, creds, "V1/orders", {"searchCriteria[pageSize]": "1"}).status_code == 200


def test_c8_4_realistic_timing_knob(stack):
    """C8.4: with MAGENTO_TWIN_REALISTIC_TIMING=1, setup:upgrade --keep-generated takes about 4 s."""
    import time

    started = time.monotonic()
    res = stack.container.exec_run(
        [f"{ROOT}/bin/magento", "setup:upgrade", "--keep-generated"],
        workdir=ROOT,
        environment={"MAGENTO_TWIN_REALISTIC_TIMING": "1"},
    )
    elapsed = time.monotonic() - started
    assert res.exit_code == 0
    assert 3.4 < elapsed < 5.5
