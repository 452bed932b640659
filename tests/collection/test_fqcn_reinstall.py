"""A reinstall through the installed collection alone, as a user's own project would do it.

A playbook of the user's (in a folder with no ansible.cfg of ours) reads the store with
reintegrate.magento.magento_site_info under `module_defaults: group/reintegrate.magento.site`, then runs the
role reintegrate.magento.magento_integration (activation cli: the helper module comes from the collection)
against a private store (private_stack.py). The collection's own playbook
reintegrate.magento.reinstall_integration then finds nothing to change. Then the modules run with a
Python 3.9 interpreter, as on a RHEL 9 store with runner: local.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml
from collection_support import ROOT
from private_stack import ADMIN_PASSWORD, PrivateStack
from requests_oauthlib import OAuth1

pytestmark = pytest.mark.docker

HOST = "collection"
NAME, MODULE = "Acme Sync", "Acme_Sync"
PROBE_PATH = "/V1/orders?searchCriteria[pageSize]=1"
SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
RECAP = re.compile(rf"^{HOST}\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)

PLAYBOOK = """---
- name: Reinstall the integration through the collection reintegrate.magento
  hosts: magento_sites
  gather_facts: false
  tasks:
    - name: Read the store with the site options the action group's defaults give
      reintegrate.magento.magento_site_info:
        activation: cli
      module_defaults:
        group/reintegrate.magento.site:
          container: "{{ magento_integration_container }}"
          base_url: "{{ magento_integration_base_url }}"
          db_host: "{{ magento_integration_db_host }}"
          db_port: "{{ magento_integration_db_port }}"
      register: site

    - name: Stop when the store does not answer
      ansible.builtin.assert:
        that: site.checks.db.ok and site.checks.http.ok

    - name: Reinstall the integration with the collection's role
      ansible.builtin.import_role:
        name: reintegrate.magento.magento_integration
"""


@pytest.fixture(scope="module")
def stack() -> Iterator[PrivateStack]:
    store = PrivateStack()
    try:
        yield store
    finally:
        store.remove()


@pytest.fixture(scope="module")
def project(stack: PrivateStack, user_dir: pathlib.Path) -> dict[str, pathlib.Path]:
    """The user's project: the module source (its endpoint on this stack's port), an inventory, a playbook."""
    src = user_dir / "src" / "Acme" / "Sync"
    shutil.copytree(ROOT / "examples" / "Acme" / "Sync", src)
    xml = src / "etc" / "integration.xml"
    xml.write_text(xml.read_text().replace("127.0.0.1:8099", f"127.0.0.1:{stack.endpoint_port}"))
    inventory = user_dir / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"magento_sites": {"hosts": {HOST: None}}}))
    host_vars = {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "magento_integration_container": stack.app_name,
        "magento_integration_base_url": stack.base_url,
        "magento_integration_db_host": "127.0.0.1",
        "magento_integration_db_port": stack.db_port,
        "magento_integration_admin_password": ADMIN_PASSWORD,
        "magento_integration_name": NAME,
        "magento_integration_module": MODULE,
        "magento_integration_src": str(src),
        "magento_integration_activation": "cli",
    }
    (inventory / "host_vars" / f"{HOST}.yml").write_text(yaml.safe_dump(host_vars))
    playbook = user_dir / "site.yml"
    playbook.write_text(PLAYBOOK)
    return {"inventory": inventory, "playbook": playbook, "dir": user_dir}


def recap(proc: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    out = proc.stdout + proc.stderr
    match = RECAP.search(out)
    assert proc.returncode == 0 and match, f"rc={proc.returncode}:\n{out[-5000:]}"
    assert int(match.group(4)) == 0
    return int(match.group(2)), out


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


def test_reinstall_through_fqcns_alone(
    ansible, project: dict[str, pathlib.Path], stack: PrivateStack
) -> None:
    first = ansible(
        "ansible-playbook", "-i", str(project["inventory"]), str(project["playbook"]), timeout=900
    )
    changed, out = recap(first)
    assert changed > 0
    assert "Activated via cli." in out, out[-3000:]
    # The happy path has no warning ("integration ... does not exist yet" was one), and a check is no change.
    assert "[WARNING]" not in out, out[-3000:]
    check = re.search(r"TASK \[[^\]]*Check whether the delivered credentials still work\] \**\n(\w+):", out)
    assert check and check.group(1) == "ok", out[-6000:]
    # The project folder of the collection's role is the user's playbook's folder.
    creds_path = project["dir"] / ".credentials" / HOST / "acme-sync.json"
    assert stat.S_IMODE(creds_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(creds_path.parent.stat().st_mode) == 0o700
    creds = json.loads(creds_path.read_text())
    assert signed_get(creds) == 200
    for key in SECRET_KEYS:
        assert creds[key] not in out
    with stack.db() as db, db.cursor() as cur:
        cur.execute("SELECT status FROM integration WHERE name = %s", (NAME,))
        assert cur.fetchall() == ((1,),)

    # The collection's own playbook, by FQCN, run in the user's folder (its project folder then): the store
    # is converged, nothing changes, the same credentials.
    again = ansible(
        "ansible-playbook",
        "-i",
        str(project["inventory"]),
        "reintegrate.magento.reinstall_integration",
        timeout=900,
    )
    changed, out = recap(again)
    assert changed == 0, out[-3000:]
    assert json.loads(creds_path.read_text()) == creds
    assert not list((ROOT / ".credentials").glob(f"{HOST}/*")), "credentials went into the checkout"


@pytest.fixture(scope="module")
def python39(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python 3.9 with what the modules need on a store (pymysql, requests, requests-oauthlib), cached in
    .cache/target-py39; skipped where this machine has no Python 3.9."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from check_target_python import find_python39

    base = find_python39(None)
    if base is None:
        pytest.skip(
            "no Python 3.9 here (REINTEGRATE_PY39=/path/to/python3.9); the static py39 gate still ran"
        )
    venv = ROOT / ".cache" / "target-py39"
    python = venv / "bin" / "python"
    stamp = venv / ".reintegrate-stamp"
    want = "pymysql>=1.1,<2 requests>=2.31,<3 requests-oauthlib>=2,<3"
    if not python.exists() or not stamp.exists() or stamp.read_text() != want:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
        proc = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *want.split()],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        stamp.write_text(want)
    return str(python)


def test_modules_run_on_a_python39_store(
    ansible, python39: str, stack: PrivateStack, project: dict[str, pathlib.Path], tmp_path: pathlib.Path
) -> None:
    """runner: local, the interpreter a RHEL 9 store has: the store's env.php copied to a local root."""
    root = tmp_path / "magento"
    (root / "app" / "etc").mkdir(parents=True)
    (root / "app" / "etc" / "env.php").write_bytes(stack.read("/var/www/html/app/etc/env.php"))

    def run(module: str, args: dict[str, Any], *extra: str) -> dict[str, Any]:
        proc = ansible(
            "ansible",
            *extra,
            "-i",
            "localhost,",
            "-c",
            "local",
            "localhost",
            "-m",
            module,
            "-a",
            json.dumps(args),
            "-e",
            f"ansible_python_interpreter={python39}",
            env={"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"},
        )
        try:
            result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, LookupError):
            result = {"msg": proc.stdout[-3000:] + proc.stderr[-3000:]}
        assert proc.returncode == 0, result.get("msg")
        return result

    facts = run("ansible.builtin.setup", {"filter": "ansible_python_version"})
    assert facts["ansible_facts"]["ansible_python_version"].startswith("3.9.")
    args = {"runner": "local", "magento_root": str(root), "base_url": stack.base_url, "activation": "cli"}
    result = run("reintegrate.magento.magento_site_info", args)
    assert result["checks"]["db"]["ok"] and result["checks"]["http"]["ok"], result
    assert result["env"]["db_port"] == stack.db_port
    assert [i["status"] for i in result["integrations"] if i["name"] == NAME] == [1]
    # The module that installs the files, in check mode (it writes nothing), reads the source's declaration.
    declared = run(
        "reintegrate.magento.magento_integration_module",
        {
            "runner": "local",
            "magento_root": str(root),
            "module": MODULE,
            "src": str(project["dir"] / "src/Acme/Sync"),
            "acl_check": False,  # the local root holds env.php only, not the store's vendor/ ACL tree
        },
    )
    assert [i["name"] for i in declared["integrations"]] == [NAME]


def test_the_local_store_example_inventory_runs_the_modules_on_this_machine(
    ansible, stack: PrivateStack, tmp_path: pathlib.Path
) -> None:
    """playbooks/inventories/local.example.yml (a store on the control node): its connection and
    interpreter run the modules here with what they need; the store's root is a copy of its env.php."""
    root = tmp_path / "magento"
    (root / "app" / "etc").mkdir(parents=True)
    (root / "app" / "etc" / "env.php").write_bytes(stack.read("/var/www/html/app/etc/env.php"))
    example = ROOT / "playbooks" / "inventories" / "local.example.yml"
    args = {"runner": "local", "magento_root": str(root), "base_url": stack.base_url, "activation": "cli"}
    proc = ansible(
        "ansible",
        "-i",
        str(example),
        "local-store",
        "-m",
        "reintegrate.magento.magento_site_info",
        "-a",
        json.dumps(args),
        env={"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["local-store"]
    assert result["checks"]["db"]["ok"] and result["checks"]["http"]["ok"]
    # The store's env.php is the plain literal Magento writes: the parser read it, no PHP started.
    assert result["checks"]["env_php"]["read_with"] == "parser"
