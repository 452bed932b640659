"""Run reintegrate modules through Ansible against the live sandbox stack.

Fixtures (stable; other suites reuse them):
    stack            dict of the stack's addresses (env vars REINTEGRATE_*; see docs/interfaces.md);
                     skips when the stack is unreachable, fails instead when CI=true
    site_args        the shared site options for that stack (container, base_url, db_host, db_port, admin)
    run_module       run_module(name, args, check=False, diff=False) -> dict: the module's JSON result
                     (``failed``, ``msg``, ``changed``... as Ansible returns them)
    db               a pymysql connection (DictCursor, autocommit) to the stack's DB, for assertions
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent


def _stack() -> dict[str, Any]:
    return {
        "base_url": os.environ.get("REINTEGRATE_BASE_URL", "http://127.0.0.1:8080/"),
        "db_host": os.environ.get("REINTEGRATE_DB_HOST", "127.0.0.1"),
        "db_port": int(os.environ.get("REINTEGRATE_DB_PORT", "3306")),
        "container": os.environ.get("REINTEGRATE_APP_CONTAINER", "reintegrate-app"),
        "admin_username": os.environ.get("REINTEGRATE_ADMIN_USER", "admin"),
        "admin_password": os.environ.get("REINTEGRATE_ADMIN_PASSWORD", "Admin12345!"),
        # The user bin/magento runs as in the app container ("": the container's; a codebase stack runs
        # Magento as the tree's owner, so files it writes stay the user's).
        "cli_user": os.environ.get("REINTEGRATE_CLI_USER", ""),
    }


def _unreachable(reason: str) -> None:
    msg = f"sandbox stack unreachable ({reason}): start it with ansible-playbook playbooks/up.yml"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def stack() -> dict[str, Any]:
    info = _stack()
    try:
        import docker

        container = docker.from_env().containers.get(info["container"])
        if container.status != "running":
            _unreachable(f"container {info['container']} is {container.status}")
    except Exception as exc:
        _unreachable(f"Docker: {type(exc).__name__}: {exc}")
    try:
        socket.create_connection((info["db_host"], info["db_port"]), timeout=3).close()
    except OSError as exc:
        _unreachable(f"DB {info['db_host']}:{info['db_port']}: {exc}")
    return info


@pytest.fixture(scope="session")
def site_args(stack: dict[str, Any]) -> dict[str, Any]:
    return {
        "runner": "docker",
        "container": stack["container"],
        "base_url": stack["base_url"],
        "db_host": stack["db_host"],
        "db_port": stack["db_port"],
        "admin_username": stack["admin_username"],
        "admin_password": stack["admin_password"],
        **({"cli_user": stack["cli_user"]} if stack["cli_user"] else {}),
    }


def run_ansible_module(
    name: str, args: dict[str, Any], check: bool = False, diff: bool = False
) -> dict[str, Any]:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LIBRARY": str(ROOT / "library"),
        "ANSIBLE_MODULE_UTILS": str(ROOT / "module_utils"),
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_NOCOLOR": "1",
    }
    argv = [
        str(VENV_BIN / "ansible"),
        "localhost",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-m",
        name,
        "-a",
        json.dumps(args),
    ]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900, check=False)
    try:
        doc = json.loads(proc.stdout)
        return doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError(
            f"no JSON result from ansible (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        ) from None


@pytest.fixture(scope="session")
def run_module(stack: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    return run_ansible_module


@pytest.fixture
def db(stack: dict[str, Any]) -> Iterator[Any]:
    import pymysql
    import pymysql.cursors

    conn = pymysql.connect(
        host=stack["db_host"],
        port=stack["db_port"],
        user=os.environ.get("REINTEGRATE_DB_USER", "magento"),
        password=os.environ.get("REINTEGRATE_DB_PASSWORD", "magento"),
        database=os.environ.get("REINTEGRATE_DB_NAME", "magento"),
        cursorclass=pymysql.cursors.DictCursor,
        autocommit=True,
    )
    yield conn
    conn.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = pathlib.Path(__file__).parent
    for item in items:
        if here in pathlib.Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.docker)
