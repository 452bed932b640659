"""reinstall_integration.yml against the sandbox stack, as a user runs it.

Covers issue 4's playbook promises: a second run changes nothing, a forced run mints new credentials,
`--check --diff` with force leaves every Magento table as it was, and `-vvv` never shows a secret.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pymysql
import pytest

pytestmark = pytest.mark.docker

PROJECT = Path(__file__).resolve().parents[2]
PLAYBOOK = PROJECT / "playbooks" / "reinstall_integration.yml"
CREDENTIALS = PROJECT / ".credentials" / "sandbox" / "acme-sync.json"
SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
RECAP = re.compile(r"^sandbox\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def run_playbook(*args: str) -> tuple[str, dict[str, int]]:
    env = dict(
        os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"
    )
    proc = subprocess.run(
        [str(PROJECT / ".venv" / "bin" / "ansible-playbook"), str(PLAYBOOK), *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = proc.stdout + proc.stderr
    match = RECAP.search(out)
    assert proc.returncode == 0 and match, f"playbook failed (rc={proc.returncode}):\n{out[-4000:]}"
    ok, changed, unreachable, failed = map(int, match.groups())
    return out, {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}


def table_checksums(stack: dict) -> dict[str, int]:
    conn = pymysql.connect(
        host=stack["db_host"],
        port=stack["db_port"],
        user="magento",
        password="magento",
        database="magento",
    )
    with conn, conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = [row[0] for row in cur.fetchall()]
        cur.execute("CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in tables))
        return {row[0]: row[1] for row in cur.fetchall()}


@pytest.fixture(scope="module")
def converged(stack) -> dict:
    """Converge once (whatever state the sandbox was in), then hand over the delivered credentials."""
    run_playbook()
    return json.loads(CREDENTIALS.read_text())


def test_second_run_changes_nothing(converged):
    _, recap = run_playbook()
    assert recap["changed"] == 0
    assert json.loads(CREDENTIALS.read_text()) == converged


def test_forced_run_mints_new_credentials(converged):
    _, recap = run_playbook("-e", "reintegrate_force=true")
    assert recap["changed"] > 0
    fresh = json.loads(CREDENTIALS.read_text())
    assert fresh["access_token"] != converged["access_token"]
    _, recap = run_playbook()
    assert recap["changed"] == 0


def test_forced_check_diff_run_leaves_every_table_unchanged(stack, converged):
    before = table_checksums(stack)
    out, _ = run_playbook("--check", "--diff", "-e", "reintegrate_force=true")
    assert table_checksums(stack) == before
    assert "Run setup:upgrade" in out  # the check run did walk the destructive steps


def test_verbose_forced_run_never_prints_a_secret(converged):
    out, _ = run_playbook("-vvv", "-e", "reintegrate_force=true")
    creds = json.loads(CREDENTIALS.read_text())
    for key in SECRET_KEYS:
        assert creds[key] not in out, f"{key} appears in -vvv output"
    assert "Admin12345!" not in out
