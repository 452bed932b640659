"""The staging reset (`playbooks/reset_staging.yml`, forced) on both sites at once mints new tokens on each.

Runs after test_fleet.py (pytest collects the folder in name order), so the converged state is checked
first and this test then replaces it.
"""

import os
import re
import subprocess
from pathlib import Path

from fleet_sites import PROJECT, SITES, file_mode

INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def run_reset_staging() -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(PROJECT / ".venv" / "bin" / "ansible-playbook"),
            "-i",
            str(Path(INVENTORY).parent),  # the folder: the scenario's groups live beside this file
            "--forks",
            "2",  # both sites at once, each on its own listener port
            str(PROJECT / "playbooks" / "reset_staging.yml"),
        ],
        cwd=PROJECT,
        env=dict(
            os.environ,
            ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
        ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_reset_staging_mints_new_working_tokens_on_every_site():
    assert INVENTORY, "molecule sets MOLECULE_INVENTORY_FILE for the verifier"
    before = {site.host: site.credentials() for site in SITES}

    proc = run_reset_staging()

    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    for site in SITES:
        recap = rf"^{site.host}\s+: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0"
        assert re.search(recap, out, re.M), out[-3000:]

    for site in SITES:
        after = site.credentials()
        assert after["access_token"] != before[site.host]["access_token"], site.host
        assert after["access_token_secret"] != before[site.host]["access_token_secret"], site.host
        assert file_mode(site.credentials_path) == 0o600
        assert site.signed_get(after).status_code == 200, site.host
        assert site.signed_get(before[site.host]).status_code == 401, site.host  # the old token is gone
        assert site.token_types() == ["access"], site.host
        for key in SECRET_KEYS:  # neither the old nor the new secrets were printed
            assert before[site.host][key] not in out, (site.host, key)
            assert after[key] not in out, (site.host, key)

    a, b = SITES
    assert b.signed_get(a.credentials()).status_code == 401
    assert a.signed_get(b.credentials()).status_code == 401
