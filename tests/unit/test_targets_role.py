"""The role's reading of magento_integration_credentials_target (tasks/targets_preflight.yml), run on its
own through ansible-playbook, without a store: what it refuses before anything changes, and that a vault
target is proven (and its password never shown, also at -vvv)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PLAY = """---
- name: The credentials targets' preflight only
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Read and prove the targets
      ansible.builtin.include_role:
        name: magento_integration
        tasks_from: targets_preflight.yml
        public: true  # the sorting is the role's vars (vars/main.yml): shown by the task below
    - name: Show how the targets were sorted
      ansible.builtin.debug:
        msg: >-
          file={{ __magento_integration_file_target }} others={{ __magento_integration_targets | length }}
"""


def play(tmp_path: Path, extra: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(PROJECT / "roles"),
        "ANSIBLE_LIBRARY": str(PROJECT / "library"),
        "ANSIBLE_MODULE_UTILS": str(PROJECT / "module_utils"),
        "ANSIBLE_NOCOLOR": "1",
    }
    extra = {"magento_integration_credentials_path": str(tmp_path / "c.json"), **extra}
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            str(playbook),
            "-e",
            json.dumps(extra),
            *args,
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def vault_target(tmp_path: Path) -> dict[str, Any]:
    password = tmp_path / "pass"
    password.write_text(secrets.token_hex(8) + "\n")
    return {"type": "vault_file", "path": str(tmp_path / "out" / "v.yml"), "vault_id": [f"t@{password}"]}


def flat(proc: subprocess.CompletedProcess[str]) -> str:
    return " ".join((proc.stdout + proc.stderr).split())


def test_unknown_keys_and_types_stop_the_run_naming_them(
    tmp_path: Path, vault_target: dict[str, Any]
) -> None:
    proc = play(
        tmp_path,
        {"magento_integration_credentials_target": ["file", {**vault_target, "colour": "blue"}, "aws_ssm"]},
    )
    out = flat(proc)
    assert proc.returncode != 0 and "not understood: colour, aws_ssm" in out and "Nothing was changed" in out
    proc = play(tmp_path, {"magento_integration_credentials_target": [{"type": "s3", "name": "x"}]})
    assert proc.returncode != 0 and "not understood: s3" in flat(proc)


def test_targets_with_an_external_endpoint_stop_the_run(tmp_path: Path, vault_target: dict[str, Any]) -> None:
    proc = play(
        tmp_path,
        {
            "magento_integration_credentials_target": [vault_target],
            "magento_integration_endpoint": "external",
        },
    )
    assert proc.returncode != 0 and "remove those targets, or use endpoint self" in flat(proc)


def test_a_vault_target_is_proven_and_its_password_never_shown(
    tmp_path: Path, vault_target: dict[str, Any]
) -> None:
    given = secrets.token_hex(10)
    target = {**vault_target, "vault_password": given}
    proc = play(tmp_path, {"magento_integration_credentials_target": ["file", target]}, "-vvv")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "file=True others=1" in flat(proc)
    assert "ansible-vault encrypts with vault id t" in flat(proc)
    assert (
        given not in out and Path(vault_target["vault_id"][0].split("@", 1)[1]).read_text().strip() not in out
    )


def test_the_default_is_the_file_alone(tmp_path: Path) -> None:
    proc = play(tmp_path, {})
    assert proc.returncode == 0 and "file=True others=0" in flat(proc), proc.stdout[-3000:]
