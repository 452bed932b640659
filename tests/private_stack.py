"""A private store for one test module: a DB and an app container from the images the running sandbox
uses (by id, nothing is pulled), on ports of its own (host network), removed afterwards, so the user's
sandbox (make demo's store and credentials) is never touched.

    PrivateStack(name="collection", db_port=13492, app_port=18192, endpoint_port=18193)
        .base_url, .db_port, .endpoint_port, .app_name, .db_name, .app (docker container)
        .db() -> pymysql connection;  .read(path) -> bytes in the app container;  .remove()
    endpoint_copy(src, dest, port) -> dest   a module source whose endpoint URLs point at port (not 8099)
Ports in use: tests/collection 13492/18192/18193, tests/integration/test_playbook.py 13592/18292/18293.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import time
import uuid
from typing import Any

import pymysql
import pytest
import requests

SANDBOX_APP = os.environ.get("REINTEGRATE_APP_CONTAINER", "reintegrate-app")
SANDBOX_DB = os.environ.get("REINTEGRATE_DB_CONTAINER", "reintegrate-db")
ADMIN_PASSWORD = "Admin12345!"  # the twin's own default, private to this stack


def unavailable(msg: str) -> None:
    """Docker or the sandbox images missing: skipped locally, a failure under CI=true (never skipped)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def endpoint_copy(src: pathlib.Path, dest: pathlib.Path, port: int) -> pathlib.Path:
    """A copy of a module source whose integration endpoint URLs use ``port`` instead of 8099 (which the
    sandbox's suites use)."""
    shutil.copytree(src, dest)
    for xml in dest.rglob("*.xml"):
        xml.write_text(xml.read_text().replace("127.0.0.1:8099", f"127.0.0.1:{port}"))
    return dest


class PrivateStack:
    def __init__(
        self,
        name: str = "collection",
        db_port: int = 13492,
        app_port: int = 18192,
        endpoint_port: int = 18193,
    ) -> None:
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
        for port in (db_port, app_port, endpoint_port):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                continue
            pytest.fail(
                f"127.0.0.1:{port} is taken: stop what listens there (a leftover {name}-* container?)"
            )
        tag = uuid.uuid4().hex[:8]
        self.app_name, self.db_name = f"{name}-app-{tag}", f"{name}-db-{tag}"
        self.base_url = f"http://127.0.0.1:{app_port}/"
        self.db_port, self.endpoint_port = db_port, endpoint_port
        self.containers: list[Any] = []
        try:
            self.containers.append(
                self.docker.containers.run(
                    db_image,
                    name=self.db_name,
                    network_mode="host",
                    detach=True,
                    environment={
                        "MARIADB_BIND": f"127.0.0.1:{db_port}",
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
                    "MAGENTO_LISTEN": f"127.0.0.1:{app_port}",
                    "MAGENTO_BASE_URL": self.base_url,
                    "MAGENTO_DB_HOST": f"127.0.0.1:{db_port}",
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
            port=self.db_port,
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
