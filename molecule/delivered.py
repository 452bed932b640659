"""What every scenario's verify does with the delivered credentials: sign a REST call with them, and run
one of the project's playbooks against the scenario's own inventory."""

import os
import re
import subprocess
from pathlib import Path

import requests
from requests_oauthlib import OAuth1

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[1]))
PROBE_PATH = "/V1/orders?searchCriteria[pageSize]=1"
CREDENTIAL_KEYS = {
    "base_url",
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
    "obtained_at",
}
SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def signed_get(base_url: str, creds: dict, path: str = PROBE_PATH) -> requests.Response:
    """GET /rest<path> on the store at base_url, signed as an outside service would sign it (C6.1, C7)."""
    auth = OAuth1(
        creds["consumer_key"],
        creds["consumer_secret"],
        creds["access_token"],
        creds["access_token_secret"],
        signature_method="HMAC-SHA256",
        signature_type="AUTH_HEADER",
    )
    return requests.get(base_url.rstrip("/") + "/rest" + path, auth=auth, timeout=10)


def run_playbook(playbook: str, *args: str, timeout: int = 300) -> tuple[int, str]:
    """ansible-playbook playbooks/<playbook> against this scenario's inventory; (exit code, output
    without colour codes)."""
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE", "")
    assert inventory, "molecule sets MOLECULE_INVENTORY_FILE for the verifier"
    proc = subprocess.run(
        [
            str(PROJECT / ".venv" / "bin" / "ansible-playbook"),
            "-i",
            str(Path(inventory).parent),  # the folder: the scenario's groups live beside that file
            str(PROJECT / "playbooks" / playbook),
            *args,
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
        timeout=timeout,
        check=False,
    )
    return proc.returncode, re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
