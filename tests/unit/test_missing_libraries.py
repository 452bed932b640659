"""A module on a host without one of its Python libraries fails cleanly through fail_json, naming the library
and how to install it, before it touches anything (runner: local runs the modules on the Magento host).

Each case runs the real module file in a fresh interpreter whose sitecustomize makes the blocked imports
raise ModuleNotFoundError, as on a host that lacks them, and reads the module's JSON result."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
from ansible.module_utils.magento_requirements import missing_libraries, missing_message

PROJECT = pathlib.Path(__file__).resolve().parents[2]
LIBRARY = PROJECT / "library"
MODULE_UTILS = PROJECT / "module_utils"
NOWHERE = "/nonexistent/magento"  # every step that ran would fail on this root with its own message

SITECUSTOMIZE = f"""
import importlib.abc, os, sys

BLOCKED = set(filter(None, os.environ.get("REINTEGRATE_TEST_BLOCK", "").split(",")))


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Blocker())
import ansible.module_utils

ansible.module_utils.__path__.append({str(MODULE_UTILS)!r})
"""


def run_module(tmp_path: pathlib.Path, name: str, args: dict, blocked: list[str]) -> tuple[dict, str]:
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "REINTEGRATE_TEST_BLOCK": ",".join(blocked),
    }
    proc = subprocess.run(
        [sys.executable, str(LIBRARY / f"{name}.py"), str(args_file)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return json.loads(proc.stdout), proc.stderr


LOCAL = {"runner": "local", "magento_root": NOWHERE, "base_url": "http://127.0.0.1:1/"}
HANDSHAKE = {**LOCAL, "integration": "Acme Sync", "credentials_path": "/nonexistent/creds.json"}

CASES = [
    # module, args, blocked imports, libraries the message must name, Debian packages it must name
    (
        "magento_integration_handshake",
        HANDSHAKE,
        ["oauthlib", "requests_oauthlib"],
        ["requests_oauthlib"],
        ["python3-requests-oauthlib"],
    ),
    (
        "magento_integration_handshake",
        HANDSHAKE,
        ["requests", "requests_oauthlib", "oauthlib", "pymysql"],
        ["requests", "requests_oauthlib", "pymysql"],
        ["python3-requests", "python3-requests-oauthlib", "python3-pymysql"],
    ),
    # The preflight names every library the whole run needs, though it signs nothing itself.
    (
        "magento_site_info",
        {**LOCAL, "integration": "Acme Sync"},
        ["oauthlib", "requests_oauthlib"],
        ["requests_oauthlib"],
        ["python3-requests-oauthlib"],
    ),
    ("magento_site_info", LOCAL, ["pymysql"], ["pymysql"], ["python3-pymysql"]),
    (
        "magento_oauth_tokens",
        {**LOCAL, "integration": "Acme Sync"},
        ["pymysql"],
        ["pymysql"],
        ["python3-pymysql"],
    ),
    ("magento_setup_module", {**LOCAL, "module": "Acme_Sync"}, ["pymysql"], ["pymysql"], ["python3-pymysql"]),
    (
        "magento_cli",
        {"runner": "docker", "container": "app", "magento_root": NOWHERE, "command": "cache:flush"},
        ["docker"],
        ["docker"],
        ["python3-docker"],
    ),
]


@pytest.mark.parametrize(("name", "args", "blocked", "libraries", "packages"), CASES)
def test_missing_library_fails_through_fail_json_naming_it_and_the_fix(
    tmp_path, name, args, blocked, libraries, packages
):
    result, _stderr = run_module(tmp_path, name, args, blocked)
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["missing"] == libraries
    msg = result["msg"]
    assert msg.startswith(f"Failed to import the required Python library ({', '.join(libraries)}) on ")
    assert f"by {name}" in msg
    assert "apt-get install " + " ".join(packages) in msg
    assert "pip install " in msg
    # Checked before anything ran: a step that ran would have failed on the missing Magento root instead.
    assert NOWHERE not in msg


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("magento_cli", {**LOCAL, "command": "cache:flush"}),
        ("magento_integration_module", {**LOCAL, "module": "Acme_Sync", "src": "/nonexistent/src"}),
    ],
)
def test_runner_local_does_not_need_the_docker_sdk(tmp_path, name, args):
    result, _stderr = run_module(
        tmp_path, name, args, ["docker", "requests", "requests_oauthlib", "oauthlib"]
    )
    assert result["failed"] is True
    assert "missing" not in result
    assert "Failed to import" not in result["msg"]
    # The module got as far as the site: its own error names the root (or the source) it could not read.
    assert "/nonexistent/" in result["msg"]


def test_nothing_missing_when_every_library_imports():
    everything = {"requests": True, "requests_oauthlib": True, "pymysql": True, "docker": True}
    assert missing_libraries(["requests", "requests_oauthlib", "pymysql"], "docker", everything) == []


def test_docker_counts_only_for_runner_docker():
    no_docker = {"requests": True, "requests_oauthlib": True, "pymysql": True, "docker": False}
    assert missing_libraries(["pymysql"], "local", no_docker) == []
    assert missing_libraries(["pymysql"], "docker", no_docker) == ["docker"]


def test_message_says_where_to_install():
    assert "the Magento host itself" in missing_message(["pymysql"], "magento_cli", "local")
    assert "the control node" in missing_message(["docker"], "magento_cli", "docker")


def test_unknown_library_name_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown library"):
        missing_libraries(["lxml"], "local", {})
