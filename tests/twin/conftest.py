"""Fixtures of the magento-twin fidelity tests (clause ids from magento-contract.md).

Environment: REINTEGRATE_BASE_URL, REINTEGRATE_DB_HOST, REINTEGRATE_DB_PORT, REINTEGRATE_APP_CONTAINER.
Unreachable stack: skipped, or failed when CI=true.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from twin_support import Listener, Module, Stack, integration_xml, module_xml, registration, unique


@pytest.fixture(scope="session")
def stack() -> Stack:
    return Stack()


@pytest.fixture
def make_module(stack: Stack) -> Iterator[Any]:
    made: list[Module] = []
    orphans: list[int] = []

    def make(
        files: dict[str, str] | None = None,
        setup_version: str | None = None,
        integrations: list[str] | None = None,
        enable: bool = True,
    ) -> Module:
        mod = Module(stack, "Twintest", "M" + uuid.uuid4().hex[:10], list(integrations or []))
        made.append(mod)
        base = {
            "registration.php": registration(mod.name),
            "etc/module.xml": module_xml(mod.name, setup_version),
        }
        mod.write({**base, **(files or {})})
        if enable:
            assert stack.magento("module:enable", mod.name).rc == 0
        return mod

    make.orphans = orphans  # consumer ids left behind on purpose (C3.2), removed at teardown
    yield make
    for mod in made:
        for name in mod.integrations:
            for row in stack.query(
                f"SELECT consumer_id FROM {stack.t('integration')} WHERE name=%s", (name,)
            ):
                orphans.append(row["consumer_id"])
        mod.cleanup()
    for cid in orphans:
        stack.execute(f"DELETE FROM {stack.t('oauth_consumer')} WHERE entity_id=%s", (cid,))


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture
def make_integration(stack: Stack, make_module: Any) -> Any:
    """An integration created by a fixture module's etc/integration.xml and one setup:upgrade."""

    def make(
        endpoint: str | None = None,
        identity: str | None = "http://127.0.0.1:9/identity",
        resources: list[str] | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        name = name or unique()
        spec: dict[str, Any] = {
            "email": f"{name}@example.com",
            "resources": resources or ["Magento_Sales::actions_view"],
        }
        if endpoint:
            spec["endpoint_url"] = endpoint
        if identity:
            spec["identity_link_url"] = identity
        mod = make_module({"etc/integration.xml": integration_xml({name: spec})}, integrations=[name])
        res = stack.magento("setup:upgrade", "--keep-generated")
        assert res.rc == 0, res.out + res.err
        row = stack.query(f"SELECT * FROM {stack.t('integration')} WHERE name=%s", (name,))[0]
        row["module"] = mod
        return row

    return make


HELPER = "Reintegrate_CliActivation"
HELPER_PATH = "/var/www/html/app/code/Reintegrate/CliActivation"


@pytest.fixture
def helper_disabled(stack):
    """The helper module present but not enabled, whatever the stack had; restored afterwards."""
    present = stack.exec("test", "-f", f"{HELPER_PATH}/registration.php").rc == 0
    enabled = (
        present and stack.magento("module:status", HELPER).out.strip() == f"{HELPER} : Module is enabled"
    )
    if not present:
        stack.put_files(
            HELPER_PATH, {"registration.php": registration(HELPER), "etc/module.xml": module_xml(HELPER)}
        )
    if enabled:
        assert stack.magento("module:disable", HELPER).rc == 0
    yield
    if not present:
        stack.exec("rm", "-rf", HELPER_PATH)
        stack.exec("sed", "-i", f"/'{HELPER}' =>/d", "/var/www/html/app/etc/config.php")
    elif enabled:
        assert stack.magento("module:enable", HELPER).rc == 0
