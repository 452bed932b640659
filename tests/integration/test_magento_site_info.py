"""magento_site_info against the live stack: read-only preflight (issue 4 item 1)."""

from __future__ import annotations


def test_preflight_reports_facts_without_secrets(run_module, site_args) -> None:
    result = run_module("magento_site_info", {**site_args, "fail_on": "never"}, check=True)
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert result["checks"]["db"]["ok"] is True
    assert result["checks"]["http"]["status"] in (200, 301, 302)
    # Check mode does not log in (Magento records a login); two-factor auth is read from config.php.
    assert result["checks"]["admin_login"]["ok"] is None
    assert isinstance(result["checks"]["admin_login"]["two_factor_auth"], bool)
    assert "db_password" not in result["env"] and result["env"]["crypt_key_present"] is True
    assert isinstance(result["expiration_period"], int)
    text = repr(result)
    assert site_args["admin_password"] not in text


def test_wrong_db_port_fails_naming_the_fix(run_module, site_args) -> None:
    result = run_module("magento_site_info", {**site_args, "db_port": 1})
    assert result["failed"] is True
    assert "db_host/db_port" in result["msg"] and "127.0.0.1:1" in result["msg"]


def test_wrong_admin_password_fails(run_module, site_args) -> None:
    result = run_module("magento_site_info", {**site_args, "admin_password": "wrong-password-1"})
    assert result["failed"] is True
    assert "admin_password" in result["msg"]
    assert "wrong-password-1" not in repr(result)
