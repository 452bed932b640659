"""The private stack of the fault suite and what its tests measure on it.

A PrivateStack is a DB and an app container started from the very images the running sandbox uses (by
id, nothing is pulled), on other ports (DB 127.0.0.1:13392, store http://127.0.0.1:18092/, host
network), with an inventory of its own in a temporary folder. Every playbook of this suite runs against
it, never against the sandbox, which other suites share.

    run_playbook(stack, extra, env=None, args=())   -> Run (rc, changed, seconds, message, out)
    stack.snapshot()                                -> {"tables": CHECKSUM TABLE of every table,
                                                        "files": hashes of app/, config.php,
                                                        the credentials and backup folders}
    stack.signed_get(creds)                         -> status of the signed probe with those credentials
    stack.token_rows() / stack.backed_up()          -> the rows that matter, and every row in a backup
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors
import pytest
import requests
from requests_oauthlib import OAuth1

PROJECT = Path(__file__).resolve().parents[2]
PLAYBOOK = PROJECT / "playbooks" / "reinstall_integration.yml"
ANSIBLE_PLAYBOOK = PROJECT / ".venv" / "bin" / "ansible-playbook"
SANDBOX_APP = os.environ.get("REINTEGRATE_APP_CONTAINER", "reintegrate-app")
SANDBOX_DB = os.environ.get("REINTEGRATE_DB_CONTAINER", "reintegrate-db")
DB_PORT, APP_PORT, ENDPOINT_PORT = 13392, 18092, 18093
BASE_URL = f"http://127.0.0.1:{APP_PORT}/"
HOST = "faults"
ROOT = "/var/www/html"
ADMIN_PASSWORD = "Admin12345!"
PROBE_PATH = "/V1/orders?searchCriteria[pageSize]=1"
SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
# The staging reset: clear the setup rows, rerun setup:upgrade, purge the tokens, mint new credentials
# (a role that does not know reintegrate_force_setup ignores it; force alone then does all of it).
FORCED = {"reintegrate_force": True, "reintegrate_force_setup": True}

# The integration under test and a bystander whose tokens must survive every fault. The module under test
# declares a setup_version, so setup:upgrade writes its setup_module row and a staging reset has setup
# rows to clear (and back up).
MAIN = {
    "name": "Faults Sync",
    "module": "Faults_Sync",
    "slug": "faults-sync",
    "example": "Sync",
    "setup_version": "1.0.0",
}
BYSTANDER = {"name": "Faults ERP", "module": "Faults_Erp", "slug": "faults-erp", "example": "Erp"}
RESOURCES = ("Magento_Sales::actions_view", "Magento_Catalog::products")


def unavailable(msg: str) -> None:
    """Docker or the sandbox images missing: skipped locally, a failure under CI=true (never skipped)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


# ---------------------------------------------------------------- playbook runs
@dataclass
class Run:
    rc: int
    changed: int
    seconds: float
    message: str  # msg of the last failed task (or the ERROR! line of ansible-playbook)
    task: str  # name of the first failed task
    out: str  # stdout + stderr
    doc: dict[str, Any] | None = None  # the json callback's document (None when stdout was not JSON)

    def outcome(self) -> dict[str, Any]:
        return {"rc": self.rc, "message": self.message, "changed": self.changed, "seconds": self.seconds}

    def results(self, task: str) -> list[dict[str, Any]]:
        """The host results of every task whose name contains ``task``, in the order they ran."""
        return [
            result
            for play in (self.doc or {}).get("plays", [])
            for entry in play.get("tasks", [])
            if task in entry.get("task", {}).get("name", "")
            for result in entry.get("hosts", {}).values()
        ]


def _failure(doc: dict[str, Any]) -> tuple[str, str]:
    """The message of the last failed task (the role's rescue repeats the first failure's message and
    adds what it left behind and how to restore it) and the name of the first failed task."""
    failed = [
        (str(result.get("msg", "")), task.get("task", {}).get("name", ""))
        for play in doc.get("plays", [])
        for task in play.get("tasks", [])
        for result in task.get("hosts", {}).values()
        if result.get("failed") or result.get("unreachable")
    ]
    return (failed[-1][0], failed[0][1]) if failed else ("", "")


def run_playbook(
    stack: PrivateStack,
    extra: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    timeout: int = 600,
) -> Run:
    """reinstall_integration.yml on the private stack's inventory, as test_playbook.py runs it, with the
    json callback so the failed task's message can be read exactly."""
    run_env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        **(env or {}),
    }
    argv = [str(ANSIBLE_PLAYBOOK), "-i", str(stack.inventory), str(PLAYBOOK)]
    if extra:
        argv += ["-e", json.dumps(extra)]
    started = time.monotonic()
    proc = subprocess.run(
        [*argv, *args], cwd=PROJECT, env=run_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = round(time.monotonic() - started, 1)
    out = proc.stdout + proc.stderr
    changed, message, task = -1, "", ""
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        changed = int(doc.get("stats", {}).get(HOST, {}).get("changed", -1))
        message, task = _failure(doc)
    if not message and proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        errors = [ln for ln in lines if "ERROR" in ln]
        message = (errors or lines or [""])[0].strip()
    return Run(
        proc.returncode, changed, seconds, message.strip(), task, out, doc if isinstance(doc, dict) else None
    )


def run_module(stack: PrivateStack, name: str, args: dict[str, Any], timeout: int = 300) -> Run:
    """One module through ``ansible localhost -m`` (as tests/integration runs them), for inputs the
    playbook cannot express; the site options point at the private stack."""
    site = {
        "container": stack.app_name,
        "base_url": stack.base_url,
        "db_host": "127.0.0.1",
        "db_port": DB_PORT,
    }
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_LIBRARY": str(PROJECT / "library"),
        "ANSIBLE_MODULE_UTILS": str(PROJECT / "module_utils"),
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_NOCOLOR": "1",
    }
    argv = [
        str(ANSIBLE_PLAYBOOK.parent / "ansible"),
        "localhost",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={ANSIBLE_PLAYBOOK.parent / 'python'}",
        "-m",
        name,
        "-a",
        json.dumps({**site, **args}),
    ]
    started = time.monotonic()
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=PROJECT, timeout=timeout, check=False
    )
    seconds = round(time.monotonic() - started, 1)
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        result = {"msg": (proc.stderr.strip().splitlines() or [""])[0], "failed": True}
    message = str(result.get("msg", "")) if result.get("failed") else ""
    return Run(
        proc.returncode, int(bool(result.get("changed"))), seconds, message, name, proc.stdout + proc.stderr
    )


def first_line(message: str, limit: int = 160) -> str:
    """The message's first line, whitespace folded, trimmed to about ``limit`` characters."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()] or [""]
    # "Validation of arguments failed:" says nothing on its own; the next line names the option.
    line = " ".join(lines[:2]) if lines[0].endswith(":") and len(lines) > 1 else lines[0]
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def has_words(text: str, *words: str) -> bool:
    low = " ".join(text.split()).lower()
    return all(w.lower() in low for w in words)


# ---------------------------------------------------------------- the private stack
def free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _tree_hashes(data: bytes) -> dict[str, str]:
    """Every member of a tar archive (name, type, mode, link target, content) as one hash each."""
    out: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            h = hashlib.sha256(f"{member.type!r}:{member.mode:o}:{member.linkname}:".encode())
            if member.isfile():
                fh = tar.extractfile(member)
                h.update(fh.read() if fh else b"")
            out[member.name] = h.hexdigest()
    return out


def local_hashes(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (mode and content); {} when it does not exist."""
    out: dict[str, str] = {}
    if not folder.exists():
        return out
    for path in sorted([folder, *folder.rglob("*")]):
        st = path.lstat()
        h = hashlib.sha256(f"{st.st_mode:o}:".encode())
        if path.is_file() and not path.is_symlink():
            h.update(path.read_bytes())
        out[str(path.relative_to(folder.parent))] = h.hexdigest()
    return out


def module_files(spec: dict[str, str], endpoint_port: int) -> dict[str, str]:
    """The example module (examples/Acme/<example>) renamed to spec's module and integration, its
    endpoint on ``endpoint_port``, the resources the default probe needs and spec's setup_version."""
    src = PROJECT / "examples" / "Acme" / spec["example"]
    vendor_module = "Acme_" + ("Sync" if spec["example"] == "Sync" else "Erp")
    old_name = "Acme Sync" if spec["example"] == "Sync" else "Acme ERP"
    files = {}
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        text = path.read_text()
        text = text.replace(vendor_module, spec["module"]).replace(old_name, spec["name"])
        text = text.replace("127.0.0.1:8099", f"127.0.0.1:{endpoint_port}")
        if path.name == "module.xml" and spec.get("setup_version"):
            tag = f'<module name="{spec["module"]}"'
            text = text.replace(tag, f'{tag} setup_version="{spec["setup_version"]}"', 1)
        if path.name == "integration.xml":
            body = "".join(f'            <resource name="{r}"/>\n' for r in RESOURCES)
            text = re.sub(
                r"(<resources>\n).*?(\s*</resources>)", rf"\g<1>{body.rstrip()}\g<2>", text, flags=re.S
            )
        files[str(path.relative_to(src))] = text
    return files


class PrivateStack:
    """DB + app containers of this suite, the inventory that points at them, and the local folders."""

    def __init__(self, workdir: Path) -> None:
        import docker

        try:
            self.docker = docker.from_env()
            app_image = self.docker.containers.get(SANDBOX_APP).image.id
            db_image = self.docker.containers.get(SANDBOX_DB).image.id
        except Exception as exc:
            unavailable(
                f"Docker or the sandbox containers ({SANDBOX_APP}, {SANDBOX_DB}) not available "
                f"({type(exc).__name__}: {exc}): start the sandbox with make up"
            )
        self.workdir = workdir
        self.tag = uuid.uuid4().hex[:8]
        self.app_name = f"faults-app-{self.tag}"
        self.db_name = f"faults-db-{self.tag}"
        self.base_url = BASE_URL
        self.db_port = DB_PORT
        self.endpoint_port = ENDPOINT_PORT
        self.credentials = workdir / "credentials"
        self.backups = workdir / "backups"
        self.src = workdir / "src"
        self.inventory = workdir / "inventory"
        self.containers: list[Any] = []
        for port in (DB_PORT, APP_PORT, ENDPOINT_PORT):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                continue
            pytest.fail(
                f"127.0.0.1:{port} is taken: stop what listens there (a leftover faults-* container?)"
            )
        self.db_container = self.docker.containers.run(
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
        self.containers.append(self.db_container)
        self.app = self.docker.containers.run(
            app_image,
            name=self.app_name,
            network_mode="host",
            detach=True,
            environment={
                "MAGENTO_LISTEN": f"127.0.0.1:{APP_PORT}",
                "MAGENTO_BASE_URL": BASE_URL,
                "MAGENTO_DB_HOST": f"127.0.0.1:{DB_PORT}",
                "MAGENTO_DB_PASSWORD": "magento",
                "MAGENTO_ADMIN_PASSWORD": ADMIN_PASSWORD,
            },
        )
        self.containers.append(self.app)
        self.wait_http(120)
        self.write_sources()
        self.write_inventory()

    # ---- lifecycle
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
            time.sleep(0.3)

    def wait_db(self, seconds: float) -> None:
        deadline = time.time() + seconds
        while True:
            try:
                self.db().close()
                return
            except pymysql.MySQLError:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)

    def remove(self) -> None:
        for container in reversed(self.containers):
            try:
                container.remove(force=True, v=True)
            except Exception:  # noqa: S112 - best effort at teardown; the next one still goes
                continue

    def write_sources(self) -> None:
        for spec in (MAIN, BYSTANDER):
            for rel, text in module_files(spec, self.endpoint_port).items():
                path = self.src / spec["example"] / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)

    def write_inventory(self) -> None:
        """The sandbox inventory's variables, pointed at this stack (and its own local folders)."""
        (self.inventory / "host_vars").mkdir(parents=True, exist_ok=True)
        (self.inventory / "hosts.yml").write_text(
            f"---\nall:\n  children:\n    magento_sites:\n      hosts:\n        {HOST}:\n"
        )
        host_vars = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "magento_integration_container": self.app_name,
            "magento_integration_base_url": self.base_url,
            "magento_integration_db_host": "127.0.0.1",
            "magento_integration_db_port": DB_PORT,
            "magento_integration_admin_password": ADMIN_PASSWORD,
            **self.integration_vars(MAIN),
            # The helper module makes activation never log in to the Admin (a login writes admin_user).
            "magento_integration_activation": "cli",
            "magento_integration_backup_dir": str(self.backups),
        }
        (self.inventory / "host_vars" / f"{HOST}.yml").write_text(json.dumps(host_vars, indent=2) + "\n")

    def integration_vars(self, spec: dict[str, str]) -> dict[str, Any]:
        return {
            "magento_integration_name": spec["name"],
            "magento_integration_module": spec["module"],
            "magento_integration_src": str(self.src / spec["example"]),
            "magento_integration_credentials_path": str(self.credentials_file(spec)),
        }

    def credentials_file(self, spec: dict[str, str] = MAIN) -> Path:
        return self.credentials / f"{spec['slug']}.json"

    # ---- the app container
    def exec(self, *cmd: str, user: str = "") -> tuple[int, str]:
        rc, out = self.app.exec_run(list(cmd), workdir=ROOT, user=user)
        return rc, out.decode(errors="replace")

    def magento(self, *args: str) -> str:
        rc, out = self.exec("bin/magento", *args)
        assert rc == 0, f"bin/magento {' '.join(args)}: {out[-2000:]}"
        return out

    def read(self, path: str) -> bytes:
        stream, _ = self.app.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmembers()[0]
            fh = tar.extractfile(member)
            return fh.read() if fh else b""

    def write(self, path: str, content: bytes, mode: int = 0o644) -> None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(os.path.basename(path))
            info.size, info.mode, info.mtime = len(content), mode, int(time.time())
            tar.addfile(info, io.BytesIO(content))
        assert self.app.put_archive(os.path.dirname(path), buf.getvalue())

    @contextlib.contextmanager
    def env_php_replaced(self, change: Callable[[str], str] | None) -> Iterator[None]:
        """app/etc/env.php rewritten by ``change`` (None: a folder in its place), put back afterwards
        with its own mode and owner."""
        env, keep = f"{ROOT}/app/etc/env.php", f"{ROOT}/var/env.php.faults-{self.tag}"
        assert self.exec("cp", "-p", env, keep)[0] == 0
        try:
            if change is None:
                assert self.exec("sh", "-c", f"rm -f {env} && mkdir {env}")[0] == 0
            else:
                self.write(keep + ".new", change(self.read(env).decode()).encode())
                assert self.exec("sh", "-c", f"cat {keep}.new > {env} && rm -f {keep}.new")[0] == 0
            yield
        finally:
            assert self.exec("sh", "-c", f"rm -rf {env} && cp -p {keep} {env} && rm -f {keep}")[0] == 0

    # ---- the database
    def db(self) -> pymysql.connections.Connection:
        return pymysql.connect(
            host="127.0.0.1",
            port=DB_PORT,
            user="magento",
            password="magento",
            database="magento",
            autocommit=True,
            connect_timeout=5,
            cursorclass=pymysql.cursors.DictCursor,
        )

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        conn = self.db()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    def table_checksums(self) -> dict[str, int]:
        conn = self.db()
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW TABLES")
                tables = [next(iter(row.values())) for row in cur.fetchall()]
                cur.execute("CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in tables))
                return {row["Table"]: row["Checksum"] for row in cur.fetchall()}
        finally:
            conn.close()

    @contextlib.contextmanager
    def config_set(self, path: str, value: Any) -> Iterator[None]:
        """One core_config_data row (scope default, scope_id 0) set to ``value`` (the twin's fault knobs
        twin/fault/* are read per request), put back as it was afterwards (removed when there was none)."""
        where = "scope='default' AND scope_id=0 AND path=%s"
        old = self.query(f"SELECT value FROM core_config_data WHERE {where}", (path,))
        self.query(
            "INSERT INTO core_config_data (scope, scope_id, path, value) VALUES ('default', 0, %s, %s) "
            "ON DUPLICATE KEY UPDATE value=VALUES(value)",
            (path, str(value)),
        )
        try:
            yield
        finally:
            if old:
                self.query(f"UPDATE core_config_data SET value=%s WHERE {where}", (old[0]["value"], path))
            else:
                self.query(f"DELETE FROM core_config_data WHERE {where}", (path,))

    def run_lock_holder(self, spec: dict[str, str] = MAIN) -> int | None:
        """The MariaDB connection holding the role's run lock of ``spec`` (GET_LOCK), None when free."""
        rows = self.query("SELECT IS_USED_LOCK(%s) AS id", (f"reintegrate:magento::{spec['name']}",))
        return rows[0]["id"] if rows else None

    def kill_in_app(self, *words: str) -> list[str]:
        """SIGTERM to every process of the app container whose command line holds ``words`` in this
        order (pkill -f, which the image lacks); the shell doing it never matches itself."""
        pattern = "*".join(f'"${{w{i}}}"' for i in range(len(words)))
        assign = " ".join(f"w{i}={shlex.quote(w)}" for i, w in enumerate(words))
        script = (
            f'{assign}; for d in /proc/[0-9]*; do p=${{d#/proc/}}; [ "$p" = "$$" ] && continue; '
            'c=$(tr "\\0" " " < "$d/cmdline" 2>/dev/null) || continue; '
            f'case "$c" in *{pattern}*) kill -TERM "$p" 2>/dev/null && echo "$p $c";; esac; done'
        )
        rc, out = self.exec("sh", "-c", script)
        assert rc == 0, out
        return [ln for ln in out.splitlines() if ln.strip()]

    # ---- what the tests compare
    def file_hashes(self) -> dict[str, str]:
        stream, _ = self.app.get_archive(f"{ROOT}/app")
        hashes = {f"app:{k}": v for k, v in _tree_hashes(b"".join(stream)).items()}
        hashes["config.php"] = hashlib.sha256(self.read(f"{ROOT}/app/etc/config.php")).hexdigest()
        for folder in (self.credentials, self.backups):
            hashes.update({f"local:{k}": v for k, v in local_hashes(folder).items()})
        return hashes

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {"tables": self.table_checksums(), "files": self.file_hashes()}

    def integration(self, spec: dict[str, str]) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM integration WHERE name=%s", (spec["name"],))
        return rows[0] if rows else None

    def token_rows(self, spec: dict[str, str]) -> list[dict[str, Any]]:
        integ = self.integration(spec)
        if integ is None:
            return []
        return self.query(
            "SELECT * FROM oauth_token WHERE consumer_id=%s ORDER BY entity_id", (integ["consumer_id"],)
        )

    def rows_that_a_run_may_delete(self) -> dict[str, set[str]]:
        """Identity of every row the role's destructive steps may delete (C3.3, C6.6)."""
        return {
            "oauth_token": {r["token"] for r in self.query("SELECT token FROM oauth_token")},
            "setup_module": {r["module"] for r in self.query("SELECT module FROM setup_module")},
            "patch_list": {r["patch_name"] for r in self.query("SELECT patch_name FROM patch_list")},
        }

    def backed_up(self) -> dict[str, set[str]]:
        """The same identities, for every row in every backup file of the backup folder."""
        key = {"oauth_token": "token", "setup_module": "module", "patch_list": "patch_name"}
        out: dict[str, set[str]] = {t: set() for t in key}
        for path in self.backups.glob("*.json") if self.backups.exists() else []:
            doc = json.loads(path.read_text())
            for table in doc.get("tables", []):
                if table["table"] in key:
                    out[table["table"]].update(str(r[key[table["table"]]]) for r in table["rows"])
        return out

    def delivered(self, spec: dict[str, str] = MAIN) -> dict[str, Any]:
        return json.loads(self.credentials_file(spec).read_text())

    def signed_get(self, creds: dict[str, Any]) -> int:
        auth = OAuth1(
            creds["consumer_key"],
            creds["consumer_secret"],
            creds["access_token"],
            creds["access_token_secret"],
            signature_method="HMAC-SHA256",
            signature_type="AUTH_HEADER",
        )
        url = creds["base_url"].rstrip("/") + "/rest" + PROBE_PATH
        return requests.get(url, auth=auth, timeout=30).status_code


RESTORE_COMMAND = re.compile(
    r"ansible-playbook -i (?P<inventory>\S+) playbooks/restore_backup\.yml -l (?P<host>\S+) "
    r"-e backup=(?P<backup>\S+?\.json)"
)


def run_restore(
    message: str, backup_kind: str = "oauth_tokens"
) -> tuple[subprocess.CompletedProcess[str], str]:
    """The restore command a failure message names (the one for the backup of ``backup_kind``), run as
    written from the project folder. Returns the finished process and the backup file."""
    found = [m for m in RESTORE_COMMAND.finditer(message) if backup_kind in m["backup"]]
    assert found, f"no restore command for a {backup_kind} backup in: {message}"
    cmd = found[0]
    argv = [str(ANSIBLE_PLAYBOOK), "-i", cmd["inventory"], "playbooks/restore_backup.yml"]
    argv += ["-l", cmd["host"], "-e", f"backup={cmd['backup']}"]
    env = {**os.environ, "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(
        argv, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return proc, cmd["backup"]


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def snapshot_diff(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> dict[str, list[str]]:
    """Names of the tables and files whose checksum differs (added or removed ones included)."""
    out: dict[str, list[str]] = {}
    for kind in ("tables", "files"):
        a, b = before[kind], after[kind]
        out[kind] = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return out
