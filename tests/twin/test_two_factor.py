"""C5.2: with Magento_TwoFactorAuth enabled (MAGENTO_TWO_FACTOR_AUTH=1) admin login leads to a 2FA page.

Starts its own short-lived stack (DB on 127.0.0.1:13390, twin on 127.0.0.1:18090) so the shared sandbox
is never switched to two-factor auth.
"""

from __future__ import annotations

import pytest
from private_twin import start_private_twin
from twin_clients import AdminClient
from twin_support import DB_CONTAINER

pytestmark = pytest.mark.docker

DB_PORT, APP_PORT = 13390, 18090


@pytest.fixture(scope="module")
def tfa_stack(stack):
    client = stack.docker
    # The very images the running stack uses, by id: whatever their tags, nothing is ever pulled.
    app_image = stack.container.image.id
    db_image = client.containers.get(DB_CONTAINER).image.id
    private = start_private_twin(
        client, app_image, db_image, "twintest-tfa", DB_PORT, APP_PORT, env={"MAGENTO_TWO_FACTOR_AUTH": "1"}
    )
    try:
        yield private.app
    finally:
        private.remove()


def test_c5_2_two_factor_auth_blocks_admin_login(stack, tfa_stack):
    """C5.2: login succeeds (302 to the dashboard) but the dashboard redirects to the 2FA page
    (/admin/tfa/tfa/requestconfig/key/<k>/), never the grid (recorded: admin/tfa_login_ok_*.json)."""
    res = tfa_stack.exec_run(["/var/www/html/bin/magento", "module:status", "Magento_TwoFactorAuth"])
    assert res.output.decode().strip() == "Magento_TwoFactorAuth : Module is enabled"
    admin = AdminClient(stack, base_url=f"http://127.0.0.1:{APP_PORT}/", front="admin")
    resp = admin.login()
    assert resp.status_code == 302 and "/admin/dashboard/index/key/" in resp.headers["Location"]
    page = admin.http.get(resp.headers["Location"], timeout=30)
    assert page.status_code == 200
    assert "You need to configure Two-Factor Authorization" in page.text
    assert "/admin/integration/index/key/" not in page.text
    assert "/admin/tfa/tfa/requestconfig/key/" in page.url
