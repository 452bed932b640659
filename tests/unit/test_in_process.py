"""plugins/action/in_process.py: a module on a local host with the controller's Python runs in Ansible's
worker, and what the user sees is what the normal AnsiballZ path gives: the same result, the same failure
message, no_log values masked, check mode honoured. Run through ansible-playbook, without a store."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[2]
MARK = "in the worker process (reintegrate in_process)"


def play(
    tmp_path: Path, task: dict[str, Any], *args: str, **host_vars: Any
) -> subprocess.CompletedProcess[str]:
    tasks = [
        {**task, "register": "out", "ignore_errors": True},
        {"name": "Show the result", "ansible.builtin.debug": {"msg": "RESULT {{ out | to_json }} END"}},
    ]
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "name": "One module task",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}", **host_vars},
                    "tasks": tasks,
                }
            ]
        )
    )
    env = {**os.environ, "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook), *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def result(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The registered result, without the fields that measure time (they differ from run to run)."""
    text = proc.stdout.split("RESULT ", 1)[1].split(" END", 1)[0]
    data = json.loads(text.replace("\n", " "))
    return {k: v for k, v in data.items() if k not in ("seconds", "timings")}


def prove_vault(tmp_path: Path) -> dict[str, Any]:
    password = tmp_path / "pass"
    password.write_text(secrets.token_hex(8) + "\n")
    return {
        "name": "Prove a vault file target",
        "magento_credentials_target": {
            "operation": "prove",
            "target": "vault_file",
            "path": str(tmp_path / "out" / "v.yml"),
            "vault_id": [f"t@{password}"],
        },
    }


def test_in_process_gives_the_result_of_the_normal_path(tmp_path: Path) -> None:
    here = play(tmp_path, prove_vault(tmp_path), "-vvv")
    there = play(tmp_path, prove_vault(tmp_path), "-vvv", reintegrate_in_process=False)
    assert here.returncode == there.returncode == 0, here.stdout[-2000:] + there.stdout[-2000:]
    assert MARK in here.stdout
    assert MARK not in there.stdout
    mine, theirs = result(here), result(there)
    assert not mine.get("failed") and mine == theirs


def test_a_failure_in_process_has_the_same_message_and_hides_the_secret(tmp_path: Path) -> None:
    secret = "Pw-" + secrets.token_hex(12)
    root = tmp_path / "magento"
    (root / "app" / "etc").mkdir(parents=True)  # no env.php: the site read fails
    task = {
        "name": "Read a site that is not there",
        "magento_site_info": {
            "runner": "local",
            "magento_root": str(root),
            "base_url": "http://127.0.0.1:9/",
            "admin_password": secret,
        },
    }
    here = play(tmp_path, task, "-vvv")
    there = play(tmp_path, task, "-vvv", reintegrate_in_process=False)
    mine, theirs = result(here), result(there)
    assert MARK in here.stdout
    assert mine["failed"] and theirs["failed"]
    assert "env.php" in mine["msg"] and mine["msg"] == theirs["msg"]
    assert mine.get("changed") is theirs.get("changed") is False
    for proc in (here, there):
        assert secret not in proc.stdout + proc.stderr


def test_check_mode_reaches_the_module(tmp_path: Path) -> None:
    password = tmp_path / "pass"
    password.write_text(secrets.token_hex(8) + "\n")
    src = tmp_path / "c.json"
    keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    fields = {k: secrets.token_hex(16) for k in keys}
    src.write_text(json.dumps({"base_url": "http://127.0.0.1:9/", **fields}))
    task = {
        "name": "Deliver in check mode",
        "magento_credentials_target": {
            "target": "vault_file",
            "path": str(tmp_path / "out" / "v.yml"),
            "vault_id": [f"t@{password}"],
            "src": str(src),
        },
    }
    here = play(tmp_path, task, "--check")
    there = play(tmp_path, task, "--check", reintegrate_in_process=False)
    assert result(here)["changed"] is True and not result(here)["failed"]
    assert result(here) == result(there)
    assert not (tmp_path / "out").exists()  # check mode wrote nothing


@pytest.mark.skipif(not shutil.which("python3", path="/usr/bin"), reason="no /usr/bin/python3")
def test_another_interpreter_takes_the_normal_path(tmp_path: Path) -> None:
    proc = play(tmp_path, prove_vault(tmp_path), "-vvv", ansible_python_interpreter="/usr/bin/python3")
    assert "RESULT" in proc.stdout
    assert MARK not in proc.stdout
