"""issue 5 / C5.3: `bin/magento integration:activate NAME [--reauthorize]` from the helper module."""

from __future__ import annotations

import pytest
from twin_clients import access_token, parse_pair, request_token
from twin_support import dead_endpoint, module_xml, registration, unique

pytestmark = pytest.mark.docker

HELPER = "Reintegrate_CliActivation"
HELPER_PATH = "/var/www/html/app/code/Reintegrate/CliActivation"


@pytest.fixture
def helper(stack):
    """The helper module, installed for the test when the stack does not have it already."""
    present = stack.exec("test", "-f", f"{HELPER_PATH}/registration.php").rc == 0
    enabled = (
        present and stack.magento("module:status", HELPER).out.strip() == f"{HELPER} : Module is enabled"
    )
    if not present:
        stack.put_files(
            HELPER_PATH, {"registration.php": registration(HELPER), "etc/module.xml": module_xml(HELPER)}
        )
    if not enabled:
        assert stack.magento("module:enable", HELPER).rc == 0
    yield
    if not present:
        stack.exec("rm", "-rf", HELPER_PATH)
        stack.exec("sed", "-i", f"/'{HELPER}' =>/d", "/var/www/html/app/etc/config.php")
    elif not enabled:
        stack.magento("module:disable", HELPER)


def test_issue5_command_needs_enabled_helper_module(stack, helper_disabled):
    """C5.5 + issue 5: the command exists only while the helper module is present and enabled."""
    res = stack.magento("integration:activate", "x")
    assert res.rc == 1
    assert 'Command "integration:activate" is not defined.' in res.err  # present, not enabled


def test_issue5_activate_success(stack, helper, make_integration, listener):
    """C5.3 via CLI: output lines, POST delivered, verifier row, status kept; the handshake then succeeds."""
    row = make_integration(endpoint=listener.url)
    res = stack.magento("integration:activate", row["name"])
    assert res.rc == 0, res.err
    assert res.out.splitlines() == [
        f"integration_id: {row['integration_id']}",
        f"consumer_id: {row['consumer_id']}",
        f"endpoint: {listener.url}",
        "reauthorized: no",
        "posted: yes",
    ]
    form = listener.posts[-1]["form"]
    assert (
        form["oauth_consumer_secret"] not in res.out + res.err and form["oauth_consumer_key"] not in res.out
    )
    token, secret = parse_pair(
        request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    )
    done = access_token(
        stack,
        form["oauth_consumer_key"],
        form["oauth_consumer_secret"],
        token,
        secret,
        form["oauth_verifier"],
    )
    assert done.status_code == 200
    again = stack.magento("integration:activate", row["name"], "--reauthorize")
    assert again.rc == 0 and "reauthorized: yes" in again.out
    status = stack.query(
        f"SELECT status FROM {stack.t('integration')} WHERE integration_id=%s", (row["integration_id"],)
    )[0]["status"]
    assert status == 0
    types = stack.query(
        f"SELECT type FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )
    assert [t["type"] for t in types] == ["verifier"]


def test_issue5_activate_unknown_name(stack, helper):
    """issue 5: unknown name -> exit 1, `Integration "NAME" does not exist.` on stderr."""
    name = unique()
    res = stack.magento("integration:activate", name)
    assert (res.rc, res.err.strip(), res.out) == (1, f'Integration "{name}" does not exist.', "")


def test_issue5_activate_without_endpoint(stack, helper, make_integration):
    """issue 5 / C5.1: no identity link -> exit 1 with the exact message."""
    row = make_integration(endpoint="http://127.0.0.1:9/e", identity=None)
    res = stack.magento("integration:activate", row["name"])
    assert res.rc == 1
    assert res.err.strip() == (
        f'Integration "{row["name"]}" has no endpoint URL or identity link URL: Magento '
        f"activates it without the "
        "OAuth handshake (set both in its configuration)."
    )


def test_issue5_activate_endpoint_down(stack, helper, make_integration):
    """issue 5 / C5.3: POST undeliverable -> exit 1 with Magento's text; the verifier row exists."""
    row = make_integration(endpoint=dead_endpoint())
    res = stack.magento("integration:activate", row["name"])
    assert res.rc == 1
    assert res.err.strip() == (
        "The attempt to post data to consumer failed due to an unexpected error. Please try again later."
    )
    types = stack.query(
        f"SELECT type FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )
    assert [t["type"] for t in types] == ["verifier"]
