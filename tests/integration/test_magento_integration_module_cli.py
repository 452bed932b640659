"""magento_integration_module and magento_cli against the live stack: six steps with observed state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

MODULE = "Itest_Files"
DEST = "/var/www/html/app/code/Itest/Files"


def _spec(resources: list[str]) -> dict:
    return {
        "integrations": [
            {"name": "Itest Files", "email": "itest@example.com", "resources": resources},
        ]
    }


@pytest.fixture
def clean_module(stack) -> Iterator[None]:
    import docker

    container = docker.from_env().containers.get(stack["container"])
    container.exec_run(["rm", "-rf", DEST])
    yield
    container.exec_run(["rm", "-rf", DEST])


def _api_xml(stack) -> str | None:
    import docker

    container = docker.from_env().containers.get(stack["container"])
    rc, out = container.exec_run(["cat", f"{DEST}/etc/integration/api.xml"])
    return out.decode() if rc == 0 else None


def test_integration_module_six_steps(run_module, site_args, stack, clean_module) -> None:
    args = {**site_args, "module": MODULE, "format": "legacy", "spec": _spec(["Magento_Sales::actions_view"])}
    # 1 check mode: nothing written; diff lists the files.
    r = run_module("magento_integration_module", args, check=True, diff=True)
    assert r["changed"] is True and "etc/integration/api.xml" in r["added"], r
    assert "etc/integration/api.xml" in r["diff"][0]["after"]
    assert _api_xml(stack) is None
    # 2 apply: legacy format gets every ancestor below the root (C3.3); the root is never demanded (C4.3).
    r = run_module("magento_integration_module", args)
    assert r["changed"] is True
    api = _api_xml(stack)
    assert 'name="Magento_Backend::admin"' not in api
    for rid in (
        "Magento_Sales::sales",
        "Magento_Sales::actions",
        "Magento_Sales::actions_view",
    ):
        assert f'name="{rid}"' in api
    assert r["acl_parents_added"]["Itest Files"]["Magento_Sales::actions_view"][0] == "Magento_Sales::actions"
    assert r["new_to_config"] is True
    # 3, 4 idempotent.
    assert run_module("magento_integration_module", args, check=True)["changed"] is False
    assert run_module("magento_integration_module", args)["changed"] is False
    # 5 change in check mode, 6 change.
    changed = {**args, "spec": _spec(["Magento_Catalog::products"])}
    r = run_module("magento_integration_module", changed, check=True)
    assert r["changed"] is True and r["modified"] == ["etc/integration/api.xml"]
    assert 'name="Magento_Sales::actions_view"' in _api_xml(stack)
    r = run_module("magento_integration_module", changed)
    assert r["changed"] is True
    api = _api_xml(stack)
    assert 'name="Magento_Catalog::products"' in api and "actions_view" not in api
    # Switching format prunes the legacy files.
    r = run_module("magento_integration_module", {**changed, "format": "consolidated"})
    assert sorted(r["removed"]) == [
        "Setup/InstallData.php",
        "etc/integration/api.xml",
        "etc/integration/config.xml",
    ]
    assert _api_xml(stack) is None


def test_unknown_acl_id_fails_with_suggestion_and_writes_nothing(
    run_module, site_args, stack, clean_module
) -> None:
    args = {**site_args, "module": MODULE, "spec": _spec(["Magento_Sales::action_view"])}
    r = run_module("magento_integration_module", args)
    assert r["failed"] is True
    assert "Magento_Sales::actions_view" in r["msg"]
    assert _api_xml(stack) is None


def test_cli_read_only_and_config_set_six_steps(run_module, site_args, db) -> None:
    r = run_module("magento_cli", {**site_args, "command": "module:status"})
    assert r["changed"] is False and r["rc"] == 0, r
    path = "oauth/consumer/expiration_period"
    with db.cursor() as cur:
        cur.execute("SELECT value FROM core_config_data WHERE path = %s AND scope = 'default'", (path,))
        row = cur.fetchone()
    original = row["value"] if row else None
    target = "301" if original != "301" else "302"
    args = {**site_args, "command": "config:set", "args": [path, target]}
    try:
        assert run_module("magento_cli", args, check=True)["changed"] is True
        assert run_module("magento_cli", args)["changed"] is True
        assert run_module("magento_cli", args, check=True)["changed"] is False
        assert run_module("magento_cli", args)["changed"] is False
        with db.cursor() as cur:
            cur.execute("SELECT value FROM core_config_data WHERE path = %s AND scope = 'default'", (path,))
            assert cur.fetchone()["value"] == target
    finally:
        with db.cursor() as cur:
            if original is None:
                cur.execute("DELETE FROM core_config_data WHERE path = %s AND scope = 'default'", (path,))
            else:
                cur.execute(
                    "UPDATE core_config_data SET value = %s WHERE path = %s AND scope = 'default'",
                    (original, path),
                )


def test_cli_check_mode_runs_no_setup_upgrade(run_module, site_args) -> None:
    r = run_module("magento_cli", {**site_args, "command": "setup:upgrade"}, check=True)
    assert r["changed"] is True and "rc" not in r and r["cmd"] == ["setup:upgrade", "--keep-generated"]


def test_cli_bad_command_is_refused(run_module, site_args) -> None:
    r = run_module("magento_cli", {**site_args, "command": "setup:upgrade; rm -rf /"})
    assert r["failed"] is True and "not a bin/magento command" in r["msg"]
