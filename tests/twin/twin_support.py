"""Support for the magento-twin fidelity tests: the stack, fixture modules, an endpoint listener.

Environment: REINTEGRATE_BASE_URL, REINTEGRATE_DB_HOST, REINTEGRATE_DB_PORT, REINTEGRATE_APP_CONTAINER,
REINTEGRATE_DB_CONTAINER.
Unreachable stack: skipped, or failed when CI=true.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pymysql
import pytest
import requests

BASE_URL = os.environ.get("REINTEGRATE_BASE_URL", "http://127.0.0.1:8080/")
DB_HOST = os.environ.get("REINTEGRATE_DB_HOST", "127.0.0.1")
DB_PORT = int(os.environ.get("REINTEGRATE_DB_PORT", "3306"))
CONTAINER = os.environ.get("REINTEGRATE_APP_CONTAINER", "reintegrate-app")
DB_CONTAINER = os.environ.get("REINTEGRATE_DB_CONTAINER", "reintegrate-db")
ROOT = "/var/www/html"


def _unavailable(msg: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@dataclass
class Result:
    rc: int
    out: str
    err: str


class Stack:
    """The app container (docker SDK), its database and its HTTP side. Defaults: the sandbox stack named
    by the environment; the conformance tests pass their own private stack's."""

    def __init__(
        self,
        base_url: str = BASE_URL,
        container: str = CONTAINER,
        db_host: str = DB_HOST,
        db_port: int = DB_PORT,
    ) -> None:
        import docker

        try:
            self.docker = docker.from_env()
            self.container = self.docker.containers.get(container)
        except Exception as exc:
            _unavailable(f"Docker or container {container!r} not available: {exc}")
        try:
            requests.get(base_url, timeout=5)
        except requests.RequestException as exc:
            _unavailable(f"store not reachable at {base_url}: {exc}")
        self.base_url = base_url
        self.db_host = db_host
        self.db_port = db_port
        env = self.read(f"{ROOT}/app/etc/env.php")
        self.env_php = env
        self.crypt_key = re.search(r"'crypt'\s*=>\s*\[\s*'key'\s*=>\s*'([^']*)'", env).group(1)
        prefix = re.search(r"'table_prefix'\s*=>\s*'([^']*)'", env)
        self.prefix = prefix.group(1) if prefix else ""
        self.front = re.search(r"'frontName'\s*=>\s*'([^']*)'", env).group(1)
        self.db_name = re.search(r"'dbname'\s*=>\s*'([^']*)'", env).group(1)
        self.db_user = re.search(r"'username'\s*=>\s*'([^']*)'", env).group(1)
        self.db_password = re.search(r"'password'\s*=>\s*'([^']*)'", env).group(1)
        mode = re.search(r"'MAGE_MODE'\s*=>\s*'([^']*)'", env)
        # In developer mode REST errors carry `trace` (recorded on a real 2.4.7-p3 in developer mode).
        self.developer_mode = bool(mode and mode.group(1) == "developer")
        try:
            self.db().close()
        except pymysql.MySQLError as exc:
            _unavailable(f"database not reachable at {db_host}:{db_port}: {exc}")

    def t(self, table: str) -> str:
        return f"`{self.prefix}{table}`"

    def rest_error(self, resp: requests.Response) -> dict[str, Any]:
        """A REST error body without its `trace`, which must be there exactly in developer mode (C7.2)."""
        body = dict(resp.json())
        assert ("trace" in body) == self.developer_mode, body
        body.pop("trace", None)
        return body

    def db(self) -> pymysql.connections.Connection:
        return pymysql.connect(
            host=self.db_host,
            port=self.db_port,
            user=self.db_user,
            password=self.db_password,
            database=self.db_name,
            autocommit=True,
            cursorclass=pymysql.cursors.DictCursor,
            init_command="SET time_zone='+00:00'",
        )

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        conn = self.db()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    def execute(self, sql: str, args: Any = None) -> int:
        conn = self.db()
        try:
            with conn.cursor() as cur:
                return cur.execute(sql, args)
        finally:
            conn.close()

    def exec(self, *cmd: str) -> Result:
        res = self.container.exec_run(list(cmd), workdir=ROOT, demux=True)
        out, err = res.output
        return Result(res.exit_code, (out or b"").decode(), (err or b"").decode())

    def magento(self, *args: str) -> Result:
        return self.exec(f"{ROOT}/bin/magento", *args)

    def read(self, path: str) -> str:
        res = self.exec("cat", path)
        assert res.rc == 0, res.err
        return res.out

    def put_files(self, dest: str, files: dict[str, str]) -> None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for rel, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(rel)
                info.size = len(data)
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(data))
        self.exec("mkdir", "-p", dest)
        assert self.container.put_archive(dest, buf.getvalue())

    def config_value(self, path: str) -> str | None:
        rows = self.query(
            f"SELECT value FROM {self.t('core_config_data')} WHERE scope='default' AND "
            f"scope_id=0 AND path=%s",
            (path,),
        )
        return rows[0]["value"] if rows else None


# ---------------------------------------------------------------- fixture modules
def module_xml(name: str, setup_version: str | None = None) -> str:
    version = f' setup_version="{setup_version}"' if setup_version else ""
    return f'<?xml version="1.0"?>\n<config><module name="{name}"{version}/></config>\n'


def registration(name: str) -> str:
    return (
        "<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\n"
        f"ComponentRegistrar::register(ComponentRegistrar::MODULE, '{name}', __DIR__);\n"
    )


def integration_xml(integrations: dict[str, dict[str, Any]]) -> str:
    body = ""
    for name, spec in integrations.items():
        body += f'  <integration name="{name}">\n'
        for tag in ("email", "endpoint_url", "identity_link_url"):
            if tag in spec:
                body += f"    <{tag}>{spec[tag]}</{tag}>\n"
        if "resources" in spec:
            body += "    <resources>\n"
            body += "".join(f'      <resource name="{r}"/>\n' for r in spec["resources"])
            body += "    </resources>\n"
        body += "  </integration>\n"
    return f'<?xml version="1.0"?>\n<config>\n{body}</config>\n'


@dataclass
class Module:
    """A fixture module in app/code; removed with everything it created."""

    stack: Stack
    vendor: str
    short: str
    integrations: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.vendor}_{self.short}"

    @property
    def path(self) -> str:
        return f"{ROOT}/app/code/{self.vendor}/{self.short}"

    def write(self, files: dict[str, str]) -> None:
        self.stack.put_files(self.path, files)

    def remove_file(self, rel: str) -> None:
        self.stack.exec("rm", "-f", f"{self.path}/{rel}")

    def cleanup(self) -> None:
        s = self.stack
        s.exec("rm", "-rf", self.path)
        s.exec("sed", "-i", f"/'{self.name}' =>/d", f"{ROOT}/app/etc/config.php")
        for name in self.integrations:
            for row in s.query(
                f"SELECT integration_id, consumer_id FROM {s.t('integration')} WHERE name=%s", (name,)
            ):
                delete_integration_rows(s, row["integration_id"], row["consumer_id"])
        s.execute(f"DELETE FROM {s.t('setup_module')} WHERE module=%s", (self.name,))
        s.execute(
            f"DELETE FROM {s.t('patch_list')} WHERE patch_name LIKE %s",
            (f"{self.vendor}\\\\{self.short}\\\\%",),
        )


def delete_integration_rows(s: Stack, integration_id: int, consumer_id: int | None) -> None:
    s.execute(
        f"DELETE FROM {s.t('authorization_role')} WHERE user_id=%s AND user_type='1' AND role_type='U'",
        (integration_id,),
    )
    s.execute(f"DELETE FROM {s.t('integration')} WHERE integration_id=%s", (integration_id,))
    if consumer_id:
        s.execute(f"DELETE FROM {s.t('oauth_consumer')} WHERE entity_id=%s", (consumer_id,))


def unique(prefix: str = "twin") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- endpoint listener (C5.3)
class Listener:
    """A tiny endpoint on 127.0.0.1 that records each form POST Magento makes to it."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.posts: list[dict[str, Any]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                outer.posts.append(
                    {
                        "form": dict(urllib.parse.parse_qsl(body)),
                        "content_type": self.headers.get("Content-Type"),
                        "path": self.path,
                        "at": time.time(),
                    }
                )
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()
                self.wfile.write(b"no")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/endpoint"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def dead_endpoint() -> str:
    """A 127.0.0.1 URL nothing listens on."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/endpoint"


# ---------------------------------------------------------------- integrations made through config (C3.1)
