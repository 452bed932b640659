"""reinstall_integration.yml with credential targets, on a private twin stack and a real AWS API server.

The store is a private twin (DB 127.0.0.1:13395, store http://127.0.0.1:18095/, the integration's endpoint
listener on 18199), started from the very images the running sandbox uses (by id; nothing is pulled), so the
shared sandbox and its listener port 8099 stay untouched. AWS is moto's server mode on a free 127.0.0.1 port,
started and stopped here, with IAM enforced (tests/unit/test_targets_support.py); the role reaches it through
magento_integration_aws_endpoint_url.

One site delivers to three targets at once, the file not among them: Secrets Manager (one secret, the JSON
document), SSM (one SecureString per field, label current) and an Ansible Vault file. In order: first delivery
(each target signs a 200, the vault file through `ansible-vault view`; the working copy is gone), a converged
run writes nothing (no new version anywhere), a forced rotation (AWSCURRENT, the label and the file move to
the new credentials only after the probe; the old ones are refused), a forced --check --diff (field names, no
value, nothing written), a forced -vvv run (no secret in its output: the leak count is 0), a principal that
may read but not write and an unreachable endpoint (both stop in the preflight, before any token is purged).
Then the file among the targets: it stays (0600) beside an SSM parameter holding the JSON document.
Environment: REINTEGRATE_TARGETS_REPORT=<file> writes the forced rotation's output and the leak count there.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
import requests
import yaml
from private_twin import start_private_twin
from requests_oauthlib import OAuth1

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_targets_support import MotoServer, moto_or_fail, port_closed

pytestmark = pytest.mark.docker

PROJECT = Path(__file__).resolve().parents[2]
PLAYBOOK = PROJECT / "playbooks" / "reinstall_integration.yml"
BIN = PROJECT / ".venv" / "bin"
# The sandbox's containers, whose images the private twin runs. Not REINTEGRATE_APP_CONTAINER: that names
# the stack under test, which `make test-real` points at the codebase stack (its image serves a bind-mounted
# Magento tree and has none to serve here).
SANDBOX_APP = os.environ.get("REINTEGRATE_SANDBOX_APP_CONTAINER", "reintegrate-app")
SANDBOX_DB = os.environ.get("REINTEGRATE_SANDBOX_DB_CONTAINER", "reintegrate-db")
DB_PORT, APP_PORT, ENDPOINT_PORT = 13395, 18095, 18199
BASE_URL = f"http://127.0.0.1:{APP_PORT}/"
HOST = "targets"
NAME, MODULE = "Targets Sync", "Targets_Sync"
SECRET = "reintegrate/targets-sync"
PREFIX = "/reintegrate/targets-sync"
JSON_NAME = "/reintegrate/targets-sync-json"
FIELDS = ("base_url", "consumer_key", "consumer_secret", "access_token", "access_token_secret", "obtained_at")
SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
PROBE_PATH = "/V1/orders?searchCriteria[pageSize]=1"
RECAP = re.compile(r"^" + HOST + r"\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def unavailable(msg: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


class PrivateTwin:
    """DB + app containers from the sandbox's images on this suite's ports, and an inventory for them."""

    def __init__(self, workdir: Path, moto: MotoServer) -> None:
        import docker

        try:
            self.docker = docker.from_env()
            app_image = self.docker.containers.get(SANDBOX_APP).image.id
            db_image = self.docker.containers.get(SANDBOX_DB).image.id
        except Exception as exc:
            unavailable(f"Docker or the sandbox ({SANDBOX_APP}, {SANDBOX_DB}) unavailable ({exc}): make up")
        for port in (DB_PORT, APP_PORT, ENDPOINT_PORT):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                continue
            pytest.fail(
                f"127.0.0.1:{port} is taken: stop what listens there (a leftover targets-* container?)"
            )
        self.workdir, self.moto = workdir, moto
        self.twin = start_private_twin(
            self.docker, app_image, db_image, "targets", DB_PORT, APP_PORT, wait=120
        )
        self.app = self.twin.app
        self.containers: list[Any] = self.twin.containers
        self.credentials = workdir / "credentials" / "targets-sync.json"
        self.vault_file = workdir / "vault" / "targets-sync.vault.yml"
        self.vault_password = workdir / "vault-pass"
        self.vault_password.write_text(uuid.uuid4().hex + "\n")
        self.vault_password.chmod(0o600)
        self.vault_id = f"targets@{self.vault_password}"
        self.inventory = workdir / "inventory"
        (self.inventory / "host_vars").mkdir(parents=True)
        (self.inventory / "hosts.yml").write_text(
            f"---\nall:\n  children:\n    magento_sites:\n      hosts:\n        {HOST}:\n"
        )
        endpoint = f"http://127.0.0.1:{ENDPOINT_PORT}/reintegrate"
        host_vars = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "magento_integration_container": self.app.name,
            "magento_integration_base_url": BASE_URL,
            "magento_integration_db_host": "127.0.0.1",
            "magento_integration_db_port": DB_PORT,
            "magento_integration_admin_password": "Admin12345!",
            "magento_integration_name": NAME,
            "magento_integration_module": MODULE,
            "magento_integration_spec": {
                "integrations": [
                    {
                        "name": NAME,
                        "email": "targets@acme.example",
                        "endpoint_url": f"{endpoint}/endpoint",
                        "identity_link_url": f"{endpoint}/identity",
                        "resources": ["Magento_Sales::actions_view", "Magento_Catalog::products"],
                    }
                ]
            },
            "magento_integration_activation": "cli",  # no Admin login (it writes admin_user)
            "magento_integration_credentials_path": str(self.credentials),
            "magento_integration_backup_dir": str(workdir / "backups"),
            "magento_integration_aws_region": "us-east-1",
            "magento_integration_aws_endpoint_url": moto.endpoint,
            "magento_integration_credentials_target": [
                {"type": "aws_secretsmanager", "name": SECRET},
                {"type": "aws_ssm", "prefix": PREFIX},
                {"type": "vault_file", "path": str(self.vault_file), "vault_id": [self.vault_id]},
            ],
        }
        (self.inventory / "host_vars" / f"{HOST}.yml").write_text(json.dumps(host_vars, indent=2) + "\n")

    def remove(self) -> None:
        for container in reversed(self.containers):
            try:
                container.remove(force=True, v=True)
            except Exception:  # noqa: S112 - best effort at teardown
                continue

    # ---- what the tests read
    def run(self, *args: str, principal: str = "deployer", extra: dict[str, Any] | None = None) -> Run:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            **self.moto.env(principal),
            "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
        }
        argv = [str(BIN / "ansible-playbook"), "-i", str(self.inventory), str(PLAYBOOK), *args]
        if extra:
            argv += ["-e", json.dumps(extra)]
        started = time.monotonic()
        proc = subprocess.run(
            argv, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        return Run(proc.stdout + proc.stderr, proc.returncode, round(time.monotonic() - started, 1))

    def db_rows(self) -> dict[str, Any]:
        conn = pymysql.connect(
            host="127.0.0.1", port=DB_PORT, user="magento", password="magento", database="magento"
        )
        with conn, conn.cursor() as cur:
            cur.execute("SELECT consumer_id FROM integration WHERE name=%s", (NAME,))
            row = cur.fetchone()
            tokens: list[Any] = []
            if row:
                cur.execute("SELECT token, type FROM oauth_token WHERE consumer_id=%s ORDER BY 1", (row[0],))
                tokens = list(cur.fetchall())
            cur.execute("SELECT module, schema_version FROM setup_module WHERE module=%s", (MODULE,))
            return {"tokens": tokens, "setup": cur.fetchall()}

    def secretsmanager(self) -> dict[str, Any]:
        sm = self.moto.client("secretsmanager")
        stages = sm.describe_secret(SecretId=SECRET).get("VersionIdsToStages", {})
        # VersionStage named: moto's default answer lags behind UpdateSecretVersionStage (AWS's does not).
        value = sm.get_secret_value(SecretId=SECRET, VersionStage="AWSCURRENT")["SecretString"]
        return {"stages": stages, "creds": json.loads(value)}

    def ssm(self) -> dict[str, Any]:
        ssm = self.moto.client("ssm")
        names = [f"{PREFIX}/{f}" for f in FIELDS]
        reply = ssm.get_parameters(Names=[f"{n}:current" for n in names], WithDecryption=True)
        history = {n: len(ssm.get_parameter_history(Name=n)["Parameters"]) for n in names}
        return {
            "creds": {p["Name"].rsplit("/", 1)[1]: p["Value"] for p in reply["Parameters"]},
            "history": history,
        }

    def vault(self) -> dict[str, Any]:
        proc = subprocess.run(
            [str(BIN / "ansible-vault"), "view", f"--vault-id={self.vault_id}", str(self.vault_file)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return {"creds": yaml.safe_load(proc.stdout), "bytes": self.vault_file.read_bytes()}

    def targets(self) -> dict[str, Any]:
        return {"sm": self.secretsmanager(), "ssm": self.ssm(), "vault": self.vault()}


class Run:
    def __init__(self, out: str, rc: int, seconds: float) -> None:
        self.out, self.rc, self.seconds = out, rc, seconds
        match = RECAP.search(out)
        self.changed = int(match.group(2)) if match else -1
        self.flat = " ".join(out.split())  # the YAML callback folds long messages over lines
        self.ok = rc == 0 and match is not None and match.group(4) == "0"

    def summary(self) -> str:
        """The text of the role's last task, Report the outcome."""
        parts = self.out.split("TASK [magento_integration : Report the outcome]")
        if len(parts) < 2:
            return ""
        block = re.split(r"\n(?:TASK|PLAY RECAP) ", parts[-1])[0]
        return " ".join(block.split("msg:", 1)[-1].split()).strip("'")


def signed_get(creds: dict[str, Any]) -> int:
    auth = OAuth1(
        creds["consumer_key"],
        creds["consumer_secret"],
        creds["access_token"],
        creds["access_token_secret"],
        signature_method="HMAC-SHA256",
        signature_type="AUTH_HEADER",
    )
    return requests.get(
        creds["base_url"].rstrip("/") + "/rest" + PROBE_PATH, auth=auth, timeout=30
    ).status_code


def readme_lambda(moto: MotoServer) -> dict[str, Any]:
    """The README's Lambda handler, run as it is (the secret's name swapped in) with the read-only principal
    (it needs only GetSecretValue), boto3 pointed at moto through AWS_ENDPOINT_URL."""
    text = (PROJECT / "README.md").read_text()
    code = re.search(r"```python\n(import json\n.*?def handler\(event, context\):.*?)```", text, re.S)
    assert code, "the README's Lambda example is gone"
    source = code.group(1).replace("acme/sync/magento", SECRET)
    program = source + "\nprint(json.dumps(handler(None, None)))\n"
    env = {**os.environ, **moto.env("reader"), "AWS_ENDPOINT_URL": moto.endpoint}
    proc = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(proc.stdout)


def leaks(out: str, *creds: dict[str, Any]) -> list[str]:
    """Every secret value of ``creds`` found in ``out``, also across the YAML callback's folded lines."""
    squeezed = "".join(out.split())
    return [key for c in creds for key in SECRET_KEYS if c[key] in out or c[key] in squeezed]


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = moto_or_fail()
    yield server
    server.close()


@pytest.fixture(scope="module")
def twin(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateTwin]:
    stack = PrivateTwin(tmp_path_factory.mktemp("targets"), moto)
    try:
        yield stack
    finally:
        stack.remove()


def test_three_targets_first_delivery_convergence_forced_rotation_and_no_secret_in_any_output(
    twin: PrivateTwin,
) -> None:
    report: list[str] = []

    # First delivery: every target holds the same credentials, and each signs a 200.
    first = twin.run()
    assert first.ok, first.out[-6000:]
    held = twin.targets()
    creds = held["sm"]["creds"]
    assert set(creds) == set(FIELDS) and creds["base_url"] == BASE_URL
    assert held["ssm"]["creds"] == creds and held["vault"]["creds"] == creds
    assert signed_get(creds) == 200
    assert signed_get(held["vault"]["creds"]) == 200  # what ansible-vault view decrypted signs a 200
    assert held["vault"]["bytes"].startswith(b"$ANSIBLE_VAULT;1.2;AES256;targets")
    assert oct(twin.vault_file.stat().st_mode & 0o777) == "0o600"
    assert not twin.credentials.exists(), "the working copy stays behind"
    assert readme_lambda(twin.moto)["status"] == 200

    # A converged run writes nothing: no new version in any target, no change at all.
    again = twin.run()
    assert again.ok and again.changed == 0, again.out[-4000:]
    assert twin.targets() == held

    # A forced rotation: new credentials everywhere, the previous version kept as AWSPREVIOUS.
    before_rows = twin.db_rows()
    forced = twin.run("-e", "reintegrate_force=true")
    assert forced.ok and forced.changed > 0, forced.out[-6000:]
    rotated = twin.targets()
    fresh = rotated["sm"]["creds"]
    assert fresh["access_token"] != creds["access_token"]
    assert rotated["ssm"]["creds"] == fresh and rotated["vault"]["creds"] == fresh
    assert signed_get(rotated["vault"]["creds"]) == 200 and signed_get(creds) == 401
    assert readme_lambda(twin.moto)["status"] == 200  # read at each call: no restart after a rotation
    stages = rotated["sm"]["stages"]
    assert sorted(map(tuple, stages.values())) == [("AWSCURRENT",), ("AWSPREVIOUS",)]
    for field in FIELDS:  # a new version for each field that changed, none for the others
        grew = rotated["ssm"]["history"][f"{PREFIX}/{field}"] - held["ssm"]["history"][f"{PREFIX}/{field}"]
        assert grew == (1 if fresh[field] != creds[field] else 0), field
    assert twin.db_rows()["tokens"] != before_rows["tokens"]
    summary = forced.summary()
    assert "Secrets Manager secret reintegrate/targets-sync: rotated, AWSCURRENT is version" in summary, (
        summary
    )
    report += [f"forced rotation (recap changed={forced.changed}, {forced.seconds} s):", summary]

    # A forced check run says which fields would change, shows no value, and writes nothing.
    checked = twin.run("--check", "--diff", "-e", "reintegrate_force=true")
    assert checked.ok, checked.out[-4000:]
    assert twin.targets() == rotated and not twin.credentials.exists()
    assert (
        "would change consumer_key, consumer_secret, access_token, access_token_secret, obtained_at"
        in checked.flat
    )
    assert "(new secret)" in checked.flat

    # -vvv: no secret of the old or the new credentials in any output.
    loud = twin.run("-vvv", "-e", "reintegrate_force=true")
    assert loud.ok, loud.out[-4000:]
    newest = twin.targets()["sm"]["creds"]
    assert newest["access_token"] != fresh["access_token"]
    found = leaks(loud.out + forced.out + checked.out + first.out + again.out, creds, fresh, newest)
    assert twin.vault_password.read_text().strip() not in loud.out
    report.append(f"-vvv forced run: {len(loud.out.splitlines())} lines, {len(found)} secret value(s) found")
    assert found == []

    # A principal that may read but not write: stopped by the preflight, before any token purge.
    rows, stored = twin.db_rows(), twin.targets()
    denied = twin.run("-e", "reintegrate_force=true", principal="reader")
    assert denied.rc != 0 and "AWS denied secretsmanager:PutSecretValue" in denied.flat, denied.out[-4000:]
    assert "Run the credentials target step prove" in denied.flat
    assert twin.db_rows() == rows and twin.targets() == stored and signed_get(newest) == 200

    # An unreachable endpoint: the same, within seconds.
    gone = twin.run(
        "-e", "reintegrate_force=true", extra={"magento_integration_aws_endpoint_url": port_closed()}
    )
    assert gone.rc != 0 and "cannot reach AWS secretsmanager" in gone.flat, gone.out[-4000:]
    assert twin.db_rows() == rows and signed_get(newest) == 200
    report.append(
        f"denied principal: rc {denied.rc} in {denied.seconds} s; "
        f"unreachable endpoint: rc {gone.rc} in {gone.seconds} s"
    )

    # The file among the targets: it stays, beside one SSM parameter holding the JSON document.
    both = {
        "magento_integration_credentials_target": [
            "file",
            {"type": "aws_ssm", "layout": "json", "name": JSON_NAME},
        ]
    }
    kept = twin.run(extra=both)
    assert kept.ok, kept.out[-4000:]
    on_disk = json.loads(twin.credentials.read_text())
    assert oct(twin.credentials.stat().st_mode & 0o777) == "0o600"
    in_ssm = twin.moto.client("ssm").get_parameter(Name=f"{JSON_NAME}:current", WithDecryption=True)
    assert json.loads(in_ssm["Parameter"]["Value"]) == on_disk and signed_get(on_disk) == 200
    steady = twin.run(extra=both)
    assert steady.ok and steady.changed == 0, steady.out[-4000:]
    assert json.loads(twin.credentials.read_text()) == on_disk

    if os.environ.get("REINTEGRATE_TARGETS_REPORT"):
        Path(os.environ["REINTEGRATE_TARGETS_REPORT"]).write_text("\n".join(report) + "\n")
