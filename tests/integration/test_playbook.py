"""reinstall_integration.yml as a user runs it, for both config formats and every activation mode.

For each case (Acme_Sync in the consolidated format, Acme_LegacySync in the legacy one; activation
admin, auto and cli): converge from whatever state the store is in, a second run changes nothing, a
forced run mints new credentials (the old access token is refused, the new one signs a 200), a forced
`--check --diff` leaves every table's checksum unchanged, and a forced `-vvv` run never shows a secret.
Then, with the store's two-factor modules switched on by bin/magento: cli works, admin stops before
any change.

The store is a private twin of this module's own by default (private_stack.py: DB 13592, store 18292,
endpoint 18293, the example modules copied with their endpoint on 18293), so the user's sandbox, its
Acme Sync and make demo's credentials stay as they were; `make test-real` points the same tests at a real
Magento tree (environment, all optional):
    REINTEGRATE_INVENTORY   inventory folder (default: the private twin's, written by the stack fixture)
    REINTEGRATE_SITE        its host (default sandbox; playbook for the private twin)
    REINTEGRATE_CLI_USER    the user bin/magento runs as in the app container (codebase: magento)
    REINTEGRATE_RUN_LOG     a JSON-lines file that gets one record per playbook run (case, mode, rc,
                            changed, seconds, probe status): the table of the closing note
    REINTEGRATE_DB_USER / _PASSWORD / _NAME, and the stack's variables (conftest.py)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest
import requests
from magento_exec import magento_exec
from private_stack import ADMIN_PASSWORD as TWIN_ADMIN_PASSWORD
from private_stack import PrivateStack, endpoint_copy
from requests_oauthlib import OAuth1

pytestmark = pytest.mark.docker

PROJECT = Path(__file__).resolve().parents[2]
PLAYBOOK = PROJECT / "playbooks" / "reinstall_integration.yml"
INVENTORY_GIVEN = os.environ.get("REINTEGRATE_INVENTORY")
INVENTORY = Path(INVENTORY_GIVEN or PROJECT / "playbooks" / "inventories" / "sandbox")  # set by stack()
SITE = os.environ.get("REINTEGRATE_SITE", "sandbox" if INVENTORY_GIVEN else "playbook")
SOURCES: dict[str, Path] = {}  # example folder -> the copy the private twin's endpoint port is written in
RUN_LOG = os.environ.get("REINTEGRATE_RUN_LOG")
# Credentials and backups of these runs go to a folder of their own, never to the project's .credentials/
# and .backups/ (where make demo delivered the user's).
WORK = Path(
    os.environ.get("REINTEGRATE_TEST_WORKDIR") or tempfile.mkdtemp(prefix="reintegrate-test-playbook-")
)
ADMIN_PASSWORD = os.environ.get("REINTEGRATE_ADMIN_PASSWORD", "Admin12345!")
SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
PROBE_PATH = "/V1/orders?searchCriteria[pageSize]=1"
RECAP = re.compile(
    r"^" + re.escape(SITE) + r"\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M
)
ACTIVATED = re.compile(r"Activated via (\w+)\.")
TWO_FACTOR_MODULES = ("Magento_TwoFactorAuth", "Magento_AdminAdobeImsTwoFactorAuth")


@dataclass(frozen=True)
class Case:
    name: str
    module: str
    src: str
    activation: str

    @property
    def id(self) -> str:
        return f"{self.module}-{self.activation}"

    @property
    def credentials(self) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return WORK / "credentials" / SITE / f"{slug}.json"

    def extra_vars(self) -> str:
        return json.dumps(
            {
                "magento_integration_name": self.name,
                "magento_integration_module": self.module,
                "magento_integration_src": str(SOURCES.get(self.src, PROJECT / self.src)),
                "magento_integration_activation": self.activation,
                "magento_integration_credentials_path": str(self.credentials),
                "magento_integration_backup_dir": str(WORK / "backups" / SITE),
            }
        )


FORMATS = [
    ("Acme Sync", "Acme_Sync", "examples/Acme/Sync"),
    ("Acme Legacy Sync", "Acme_LegacySync", "examples/Acme/LegacySync"),
]
# auto before cli: on a store without the helper module, auto resolves to admin.
CASES = [Case(*fmt, activation) for fmt in FORMATS for activation in ("admin", "auto", "cli")]


@pytest.fixture(scope="module")
def stack(stack: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """conftest's stack, overridden: a private twin and its inventory unless REINTEGRATE_INVENTORY names a
    store (make test-real), so these forced runs never rotate the sandbox's credentials."""
    global INVENTORY
    if INVENTORY_GIVEN:
        yield stack
        return
    store = PrivateStack("playbook", db_port=13592, app_port=18292, endpoint_port=18293)
    try:
        root = tmp_path_factory.mktemp("playbook-store")
        for _name, _module, src in FORMATS:
            SOURCES[src] = endpoint_copy(PROJECT / src, root / src, store.endpoint_port)
        inventory = root / "inventory"
        (inventory / "host_vars").mkdir(parents=True)
        (inventory / "hosts.yml").write_text(
            f"---\nall:\n  children:\n    magento_sites:\n      hosts:\n        {SITE}:\n"
        )
        host_vars = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "magento_integration_container": store.app_name,
            "magento_integration_base_url": store.base_url,
            "magento_integration_db_host": "127.0.0.1",
            "magento_integration_db_port": store.db_port,
            "magento_integration_admin_password": TWIN_ADMIN_PASSWORD,
        }
        (inventory / "host_vars" / f"{SITE}.yml").write_text(json.dumps(host_vars, indent=2) + "\n")
        INVENTORY = inventory
        yield {
            **stack,
            "container": store.app_name,
            "base_url": store.base_url,
            "db_host": "127.0.0.1",
            "db_port": store.db_port,
            "cli_user": "",
        }
    finally:
        store.remove()
        SOURCES.clear()


@dataclass
class Run:
    out: str
    rc: int
    changed: int
    seconds: float
    snapshot: Any = None


def run_playbook(
    case: Case, label: str, *args: str, expect_ok: bool = True, snapshot: Callable[[], Any] | None = None
) -> Run:
    """One ansible-playbook run. ``snapshot`` is called as soon as the run ends, before the run log's
    probe: that probe is a signed REST call, and Magento stores an oauth_nonce row for each (C6.5)."""
    env = dict(
        os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"
    )
    argv = [str(PROJECT / ".venv" / "bin" / "ansible-playbook"), "-i", str(INVENTORY), str(PLAYBOOK)]
    started = time.monotonic()
    proc = subprocess.run(
        [*argv, "-e", case.extra_vars(), *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    seconds = round(time.monotonic() - started, 1)
    taken = snapshot() if snapshot is not None else None
    out = proc.stdout + proc.stderr
    match = RECAP.search(out)
    changed = int(match.group(2)) if match else -1
    run = Run(out=out, rc=proc.returncode, changed=changed, seconds=seconds, snapshot=taken)
    if RUN_LOG:
        with open(RUN_LOG, "a", encoding="utf-8") as log:
            activated = ACTIVATED.search(out)
            record = {
                "case": case.id,
                "run": label,
                "activation": activated.group(1) if activated else None,
                "rc": run.rc,
                "changed": changed,
                "seconds": seconds,
                "probe": probe_status(case),
            }
            log.write(json.dumps(record) + "\n")
    if expect_ok:
        assert proc.returncode == 0 and match, f"{label} failed (rc={proc.returncode}):\n{out[-5000:]}"
    return run


def delivered(case: Case) -> dict[str, Any]:
    return json.loads(case.credentials.read_text())


def signed_get(creds: dict[str, Any]) -> requests.Response:
    auth = OAuth1(
        creds["consumer_key"],
        creds["consumer_secret"],
        creds["access_token"],
        creds["access_token_secret"],
        signature_method="HMAC-SHA256",
        signature_type="AUTH_HEADER",
    )
    return requests.get(creds["base_url"].rstrip("/") + "/rest" + PROBE_PATH, auth=auth, timeout=30)


def probe_status(case: Case) -> int | None:
    try:
        return signed_get(delivered(case)).status_code
    except (OSError, ValueError, KeyError, requests.RequestException):
        return None


def table_checksums(stack: dict[str, Any]) -> dict[str, int]:
    conn = pymysql.connect(
        host=stack["db_host"],
        port=stack["db_port"],
        user=os.environ.get("REINTEGRATE_DB_USER", "magento"),
        password=os.environ.get("REINTEGRATE_DB_PASSWORD", "magento"),
        database=os.environ.get("REINTEGRATE_DB_NAME", "magento"),
    )
    with conn, conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = [row[0] for row in cur.fetchall()]
        cur.execute("CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in tables))
        return {row[0]: row[1] for row in cur.fetchall()}


def changed_tables(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


def assert_no_secret(out: str, creds: dict[str, Any]) -> None:
    for key in SECRET_KEYS:
        assert creds[key] not in out, f"{key} appears in the output"
    assert ADMIN_PASSWORD not in out, "the admin password appears in the output"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_converge_idempotent_forced_check_and_quiet(stack: dict[str, Any], case: Case) -> None:
    # Converge from whatever state the store is in.
    first = run_playbook(case, "converge")
    creds = delivered(case)
    assert signed_get(creds).status_code == 200
    if case.activation != "auto" and first.changed:
        assert f"Activated via {case.activation}." in first.out or "Credentials still valid" in first.out

    # A second run changes nothing and keeps the credentials.
    again = run_playbook(case, "second run")
    assert again.changed == 0, again.out[-3000:]
    assert delivered(case) == creds

    # A forced run mints new credentials: the old access token is refused, the new one works.
    forced = run_playbook(case, "forced", "-e", "reintegrate_force=true")
    assert forced.changed > 0
    fresh = delivered(case)
    assert fresh["access_token"] != creds["access_token"]
    assert signed_get(fresh).status_code == 200
    assert signed_get(creds).status_code == 401
    if case.activation != "auto":
        assert f"Activated via {case.activation}." in forced.out

    # A forced check run of the full staging reset (setup rows, setup:upgrade, tokens) walks every
    # destructive step and writes nothing. (force alone resets the tokens: files and rows are right.)
    before = table_checksums(stack)
    checked = run_playbook(
        case,
        "forced --check --diff",
        "--check",
        "--diff",
        "-e",
        "reintegrate_force=true",
        "-e",
        "reintegrate_force_setup=true",
        snapshot=lambda: table_checksums(stack),
    )
    assert changed_tables(before, checked.snapshot) == []
    assert "Run setup:upgrade" in checked.out
    assert delivered(case) == fresh

    # -vvv shows no secret, neither the old credentials nor the new ones.
    loud = run_playbook(case, "forced -vvv", "-vvv", "-e", "reintegrate_force=true")
    newest = delivered(case)
    assert newest["access_token"] != fresh["access_token"]
    assert_no_secret(loud.out, fresh)
    assert_no_secret(loud.out, newest)
    assert_no_secret(forced.out + checked.out, fresh)


@pytest.fixture
def two_factor_on(stack: dict[str, Any]) -> Any:
    """The store's two-factor modules on (module:enable + setup:upgrade), as Magento ships by default;
    off again afterwards (on a real store setup:upgrade then drops the tfa_* tables again)."""
    import docker

    container = docker.from_env().containers.get(stack["container"])
    user = os.environ.get("REINTEGRATE_CLI_USER", "")

    def magento(*args: str) -> str:
        rc, text = magento_exec(container, *args, user=user)
        assert rc == 0, text[-2000:]
        return text

    present = [m for m in TWO_FACTOR_MODULES if "does not exist" not in magento("module:status", m)]
    assert "Magento_TwoFactorAuth" in present
    magento("module:enable", *present)
    magento("setup:upgrade", "--keep-generated")
    yield
    magento("module:disable", *present)
    magento("setup:upgrade", "--keep-generated")


def test_two_factor_store_cli_works_and_admin_stops_before_any_change(
    stack: dict[str, Any], two_factor_on: Any
) -> None:
    cli = Case(*FORMATS[0], activation="cli")
    run_playbook(cli, "2FA converge")
    forced = run_playbook(cli, "2FA forced", "-e", "reintegrate_force=true")
    creds = delivered(cli)
    assert forced.changed > 0 and signed_get(creds).status_code == 200
    before = table_checksums(stack)
    admin = run_playbook(
        Case(*FORMATS[0], activation="admin"),
        "2FA admin",
        expect_ok=False,
        snapshot=lambda: table_checksums(stack),
    )
    assert admin.rc != 0 and "two-factor" in admin.out.lower() and "Nothing was changed" in admin.out
    assert changed_tables(before, admin.snapshot) == []
    assert delivered(cli) == creds and signed_get(creds).status_code == 200
