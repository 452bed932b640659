"""A private store for the collection test: a DB and an app container from the images the running sandbox
uses (by id, nothing is pulled), on ports of its own (DB 127.0.0.1:13492, store http://127.0.0.1:18192/,
the handshake's endpoint 18193; host network), removed afterwards. The user's sandbox is never touched.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any

import pymysql
import pytest
import requests

SANDBOX_APP = os.environ.get("REINTEGRATE_APP_CONTAINER", "reintegrate-app")
SANDBOX_DB = os.environ.get("REINTEGRATE_DB_CONTAINER", "reintegrate-db")
DB_PORT, APP_PORT, ENDPOINT_PORT = 13492, 18192, 18193
ADMIN_PASSWORD = "Admin12345!"  # the twin's own default, private to this stack


def unavailable(msg: str) -> None:
    """Docker or the sandbox images missing: skipped locally, a failure under CI=true (never skipped)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


class PrivateStack:
    def __init__(self) -> None:
        try:
            import docker

            self.docker = docker.from_env()
            app_image = self.docker.containers.get(SANDBOX_APP).image.id
            db_image = self.docker.containers.get(SANDBOX_DB).image.id
        except Exception as exc:
            unavailable(
                f"Docker or the sandbox containers ({SANDBOX_APP}, {SANDBOX_DB}) not available "
                f"({type(exc).__name__}: {exc}): start the sandbox with make up"
            )
        for port in (DB_PORT, APP_PORT, ENDPOINT_PORT):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                continue
            pytest.fail(
                f"127.0.0.1:{port} is taken: stop what listens there (a leftover collection-* container?)"
            )
        tag = uuid.uuid4().hex[:8]
        self.app_name, self.db_name = f"collection-app-{tag}", f"collection-db-{tag}"
        self.base_url = f"http://127.0.0.1:{APP_PORT}/"
        self.db_port, self.endpoint_port = DB_PORT, ENDPOINT_PORT
        self.containers: list[Any] = []
        try:
            self.containers.append(
                self.docker.containers.run(
                    db_image,
                    name=self.db_name,
                    network_mode="host",
                    detach=True,
                    environment={
                        "MARIADB_BIND": f"127.0.0.1:{DB_PORT}",
                        "MARIADB_DATABASE": "magento",
                        "MARIADB_USER": "magento",
                        "MARIADB_PASSWORD": "magento",
                        "MARIADB_ROOT_PASSWORD": "root",
                    },
                )
            )
            self.app = self.docker.containers.run(
                app_image,
                name=self.app_name,
                network_mode="host",
                detach=True,
                environment={
                    "MAGENTO_LISTEN": f"127.0.0.1:{APP_PORT}",
                    "MAGENTO_BASE_URL": self.base_url,
                    "MAGENTO_DB_HOST": f"127.0.0.1:{DB_PORT}",
                    "MAGENTO_DB_PASSWORD": "magento",
                    "MAGENTO_ADMIN_PASSWORD": ADMIN_PASSWORD,
                },
            )
            self.containers.append(self.app)
            self.wait_http(180)
        except BaseException:
            self.remove()
            raise

    def wait_http(self, seconds: float) -> None:
        deadline = time.time() + seconds
        while True:
            try:
                if requests.get(self.base_url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise AssertionError("private store did not answer:\n" + self.app.logs().decode()[-2000:])
            time.sleep(0.5)

    def db(self) -> Any:
        return pymysql.connect(
            host="127.0.0.1",
            port=DB_PORT,
            user="magento",
            password="magento",
            database="magento",
            autocommit=True,
        )

    def read(self, path: str) -> bytes:
        rc, out = self.app.exec_run(["cat", path])
        assert rc == 0, out
        return out

    def remove(self) -> None:
        for container in reversed(self.containers):
            try:
                container.remove(force=True, v=True)
            except Exception:  # noqa: S112 - best effort at teardown; the next one still goes
                continue
