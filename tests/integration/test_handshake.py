"""magento_integration_handshake through Ansible against the live stack: the six-step check (check →
apply → idempotent check → idempotent apply → forced check → forced apply) for activation admin and cli.

Uses its own integration ("Itest Handshake" in module Itest_Handshake, endpoint on port 8197), installed
into the app container with module:enable + setup:upgrade, plus the project's Reintegrate_CliActivation
helper. Asserts changed flags, the file's 0600 mode, a 200 signed by the delivered tokens, exactly one
access row for the consumer, no table changed by a forced check run, and no secret anywhere in a -vvv
run's output.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import tarfile
import textwrap
from typing import Any

import pytest
from ansible.module_utils.magento_credentials import read_credentials
from ansible.module_utils.magento_oauth import RestError, probe
from magento_exec import magento_exec

pytestmark = pytest.mark.docker

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
BASE_URL = os.environ.get("REINTEGRATE_BASE_URL", "http://127.0.0.1:8080/")
DB_HOST = os.environ.get("REINTEGRATE_DB_HOST", "127.0.0.1")
DB_PORT = int(os.environ.get("REINTEGRATE_DB_PORT", "3306"))
CONTAINER = os.environ.get("REINTEGRATE_APP_CONTAINER", "reintegrate-app")
CLI_USER = os.environ.get("REINTEGRATE_CLI_USER", "")
MAGENTO_ROOT = "/var/www/html"
NAME = "Itest Handshake"
MODULE = "Itest_Handshake"
PORT = 8197
HELPER_SRC = ROOT / "magento" / "Reintegrate" / "CliActivation"

MODULE_FILES = {
    "registration.php": textwrap.dedent(
        """\
        <?php
        use Magento\\Framework\\Component\\ComponentRegistrar;

        ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Itest_Handshake', __DIR__);
        """
    ),
    "etc/module.xml": textwrap.dedent(
        """\
        <?xml version="1.0"?>
        <config><module name="Itest_Handshake"><sequence><module name="Magento_Integration"/></sequence>
        </module></config>
        """
    ),
    "etc/integration.xml": textwrap.dedent(
        f"""\
        <?xml version="1.0"?>
        <config><integration name="{NAME}"><email>itest@example.com</email>
        <endpoint_url>http://127.0.0.1:{PORT}/endpoint</endpoint_url>
        <identity_link_url>http://127.0.0.1:{PORT}/identity</identity_link_url>
        <resources><resource name="Magento_Sales::actions_view"/></resources></integration></config>
        """
    ),
}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the stack is required)")
    pytest.skip(reason)


def _tar(files: dict[str, bytes], prefix: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel, content in files.items():
            info = tarfile.TarInfo(f"{prefix}/{rel}")
            info.size, info.mode = len(content), 0o644
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


@pytest.fixture(scope="module")
def app() -> Any:
    try:
        import docker

        client = docker.from_env()
        container = client.containers.get(CONTAINER)
    except Exception as exc:
        _unavailable(f"no Docker engine or container {CONTAINER}: {type(exc).__name__}")
    if container.status != "running":
        _unavailable(f"container {CONTAINER} is {container.status}")
    helper = {str(p.relative_to(HELPER_SRC)): p.read_bytes() for p in HELPER_SRC.rglob("*") if p.is_file()}
    ours = {rel: text.encode() for rel, text in MODULE_FILES.items()}
    container.exec_run(["mkdir", "-p", f"{MAGENTO_ROOT}/app/code"])
    assert container.put_archive(f"{MAGENTO_ROOT}/app/code", _tar(helper, "Reintegrate/CliActivation"))
    assert container.put_archive(f"{MAGENTO_ROOT}/app/code", _tar(ours, "Itest/Handshake"))
    for argv in (
        ["module:enable", "Reintegrate_CliActivation", MODULE],
        ["setup:upgrade", "--keep-generated"],
    ):
        rc, text = magento_exec(container, *argv, user=CLI_USER)
        assert rc == 0, text[-2000:]
    return container


@pytest.fixture(scope="module")
def db(app: Any) -> Any:
    import pymysql

    conn = pymysql.connect(
        host=DB_HOST,
        port=DB_PORT,
        user="magento",
        password="magento",
        database="magento",
        autocommit=True,
        cursorclass=pymysql.cursors.DictCursor,
    )
    yield conn
    conn.close()


def _query(db: Any, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    with db.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def run_module(tmp: pathlib.Path, args: dict[str, Any], *flags: str) -> tuple[dict[str, Any], str]:
    """Run the module in a one-task playbook; returns (task result, raw output)."""
    playbook = tmp / "play.yml"
    task = {"name": "Handshake", "magento_integration_handshake": args, "register": "result"}
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]
    playbook.write_text(json.dumps(play))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LIBRARY": str(ROOT / "library"),
        "ANSIBLE_MODULE_UTILS": str(ROOT / "module_utils"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_NOCOLOR": "1",
    }
    argv = [
        str(VENV / "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={VENV / 'python'}",
        str(playbook),
        *flags,
    ]
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    # The json callback prints one JSON document at the end; -vvv lines come before it.
    starts = [m.start() for m in re.finditer(r"^\{$", proc.stdout, re.MULTILINE)]
    data = json.loads(proc.stdout[starts[-1] :]) if starts else {}
    tasks = data.get("plays", [{}])[0].get("tasks", [])
    if not tasks:
        raise AssertionError(output[-3000:])
    result = tasks[0]["hosts"]["localhost"]
    return result, output


def _args(path: pathlib.Path, activation: str, **extra: Any) -> dict[str, Any]:
    return {
        "container": CONTAINER,
        "base_url": BASE_URL,
        "db_host": DB_HOST,
        "db_port": DB_PORT,
        "admin_username": "admin",
        "admin_password": "Admin12345!",
        "integration": NAME,
        "activation": activation,
        "credentials_path": str(path),
        **({"cli_user": CLI_USER} if CLI_USER else {}),
        **extra,
    }


def _checksums(db: Any) -> dict[str, int]:
    tables = [next(iter(row.values())) for row in _query(db, "SHOW TABLES")]
    rows = _query(db, "CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in tables))
    return {row["Table"]: row["Checksum"] for row in rows}


def _access_rows(db: Any, consumer_id: int) -> int:
    rows = _query(
        db, "SELECT COUNT(*) AS n FROM oauth_token WHERE consumer_id = %s AND type = 'access'", (consumer_id,)
    )
    return int(rows[0]["n"])


def _assert_delivered(path: pathlib.Path, db: Any, result: dict[str, Any]) -> Any:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    creds = read_credentials(str(path))
    assert creds is not None
    assert probe(BASE_URL, "/V1/orders?searchCriteria[pageSize]=1", creds, timeout=10) == 200
    assert _access_rows(db, result["consumer_id"]) == 1
    return creds


@pytest.mark.parametrize("activation", ["admin", "cli"])
def test_six_steps(app: Any, db: Any, tmp_path: pathlib.Path, activation: str) -> None:
    folder = tmp_path / "creds"
    path = folder / "itest.json"
    args = _args(path, activation)

    # 1 check mode: would activate, writes nothing.
    result, _ = run_module(tmp_path, args, "--check", "--diff")
    assert result["changed"] is True and result["activation"] == activation
    assert not path.exists()

    # 2 apply (with -vvv: the output must hold none of the delivered secrets).
    result, output = run_module(tmp_path, args, "-vvv", "--diff")
    assert result["changed"] is True, result
    assert result["status"] == 1 and result["activation"] == activation
    assert result["probe"]["status"] == 200
    creds = _assert_delivered(path, db, result)
    for secret in (creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret):
        assert secret not in output
        assert secret not in json.dumps(result)
    assert "Admin12345!" not in output

    # 3 idempotent check, 4 idempotent apply.
    for flags in (("--check",), ()):
        result, _ = run_module(tmp_path, args, *flags)
        assert result["changed"] is False, (result.get("reason"), result.get("msg"))
        assert result["activation"] is None and result["probe"]["status"] == 200
    assert read_credentials(str(path)) == creds

    # 5 change in check mode (force): would reauthorize, touches nothing: no table of the store changes
    # (on a real store a POST to /oauth/token/request alone would add a customer_visitor row).
    forced = {**args, "force": True}
    before = _checksums(db)
    result, _ = run_module(tmp_path, forced, "--check")
    assert [t for t, c in _checksums(db).items() if before.get(t) != c] == []
    assert result["changed"] is True and result["reauthorized"] is True
    assert read_credentials(str(path)) == creds
    assert probe(BASE_URL, "/V1/orders?searchCriteria[pageSize]=1", creds, timeout=10) == 200

    # 6 change (force): new tokens, the old ones dead, one access row.
    result, output = run_module(tmp_path, forced, "-vvv")
    assert result["changed"] is True and result["reauthorized"] is True
    newer = _assert_delivered(path, db, result)
    assert newer.access_token != creds.access_token
    with pytest.raises(RestError) as old_refused:
        probe(BASE_URL, "/V1/orders?searchCriteria[pageSize]=1", creds, timeout=10)
    assert old_refused.value.status == 401
    assert {"access_token", "access_token_secret"} <= set(result["credentials_changed_fields"])
    for secret in (newer.consumer_secret, newer.access_token, newer.access_token_secret):
        assert secret not in output
    shutil.rmtree(folder)
