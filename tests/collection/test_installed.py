"""The installed collection documents itself by FQCN, from a folder with no ansible.cfg of ours."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
import yaml
from collection_support import FQ, MODULES, ROLES, ROOT, SITE_MODULES


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders_every_module_by_fqcn(ansible, module: str) -> None:
    proc = ansible("ansible-doc", "--json", f"{FQ}.{module}")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)[f"{FQ}.{module}"]["doc"]
    assert doc["collection"] == FQ
    if module in SITE_MODULES:
        # The site options come from the collection's own doc fragment (reintegrate.magento.magento_site).
        assert {"magento_root", "runner", "base_url", "db_host", "validate_certs"} <= set(doc["options"])
    assert "(!UNKNOWN)" in str(doc["author"])


@pytest.mark.parametrize("role", ROLES)
def test_ansible_doc_renders_every_role_by_fqcn(ansible, role: str) -> None:
    proc = ansible("ansible-doc", "-t", "role", "--json", f"{FQ}.{role}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[f"{FQ}.{role}"]["entry_points"]["main"]["options"]


def test_action_group_site_holds_every_module(installed: pathlib.Path) -> None:
    runtime = yaml.safe_load(
        (installed / "ansible_collections/reintegrate/magento/meta/runtime.yml").read_text()
    )
    assert runtime["requires_ansible"].startswith(">=2.19")
    assert sorted(runtime["action_groups"]["site"]) == SITE_MODULES
    assert len(SITE_MODULES) >= 7


def test_modules_import_the_collections_module_utils_only(installed: pathlib.Path) -> None:
    coll = installed / "ansible_collections/reintegrate/magento"
    code = [*coll.glob("plugins/modules/*.py"), *coll.glob("plugins/module_utils/*.py")]
    assert len(code) == len(MODULES) + len(list((ROOT / "module_utils").glob("*.py")))
    for path in code:
        text = path.read_text()
        assert not re.search(r"ansible\.module_utils(\.| import )magento_", text), path.name
    roles = "\n".join(p.read_text() for p in coll.glob("roles/*/tasks/*.yml"))
    for module in MODULES:
        assert not re.search(rf"(?m)^\s*(- )?{module}:", roles), f"{module} is called without its FQCN"


def test_the_source_tree_is_untouched(installed: pathlib.Path) -> None:
    """The build adapts a staged copy; the checkout's modules keep their ansible.module_utils imports."""
    assert (
        "from ansible.module_utils.magento_common import" in (ROOT / "library" / "magento_cli.py").read_text()
    )
    assert not (ROOT / "plugins" / "modules").exists()
