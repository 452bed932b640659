"""A private twin stack for one test module: a DB and an app container from the very images the running
sandbox uses (by id: nothing is pulled), host network, on ports of the test's choosing, so the sandbox
that other suites share is never touched.

    twin = start_private_twin(docker_client, app_image, db_image, "conf", db_port, app_port, env={...})
    twin.base_url, twin.app, twin.db_container;  twin.remove()
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

DB_ENV = {
    "MARIADB_DATABASE": "magento",
    "MARIADB_USER": "magento",
    "MARIADB_PASSWORD": "magento",
    "MARIADB_ROOT_PASSWORD": "root",
}
ADMIN_PASSWORD = "Admin12345!"


@dataclass
class PrivateTwin:
    base_url: str
    db_port: int
    app: Any = None
    db_container: Any = None
    containers: list[Any] = field(default_factory=list)

    def remove(self) -> None:
        for container in reversed(self.containers):
            try:
                container.remove(force=True, v=True)
            except Exception:  # noqa: S110 - already gone
                pass


def start_private_twin(
    client: Any,
    app_image: str,
    db_image: str,
    name: str,
    db_port: int,
    app_port: int,
    env: dict[str, str] | None = None,
    wait: float = 180,
) -> PrivateTwin:
    """Start the DB and the twin (setup:install on first start) and wait until the store answers 200."""
    tag = uuid.uuid4().hex[:8]
    twin = PrivateTwin(base_url=f"http://127.0.0.1:{app_port}/", db_port=db_port)
    try:
        twin.db_container = client.containers.run(
            db_image,
            name=f"{name}-db-{tag}",
            network_mode="host",
            detach=True,
            environment={**DB_ENV, "MARIADB_BIND": f"127.0.0.1:{db_port}"},
        )
        twin.containers.append(twin.db_container)
        twin.app = client.containers.run(
            app_image,
            name=f"{name}-app-{tag}",
            network_mode="host",
            detach=True,
            environment={
                "MAGENTO_LISTEN": f"127.0.0.1:{app_port}",
                "MAGENTO_BASE_URL": twin.base_url,
                "MAGENTO_DB_HOST": f"127.0.0.1:{db_port}",
                "MAGENTO_DB_PASSWORD": "magento",
                "MAGENTO_ADMIN_PASSWORD": ADMIN_PASSWORD,
                **(env or {}),
            },
        )
        twin.containers.append(twin.app)
        deadline = time.time() + wait
        while True:
            try:
                if requests.get(twin.base_url, timeout=2).status_code == 200:
                    return twin
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise AssertionError("private twin did not answer:\n" + twin.app.logs().decode()[-2000:])
            time.sleep(0.3)
    except BaseException:
        twin.remove()
        raise
