"""Each module documents exactly its argument_spec, as ansible-doc renders it (shared site options included
from the magento_site doc fragment)."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils.magento_common import site_argument_spec

PROJECT = pathlib.Path(__file__).resolve().parents[2]
LIBRARY = PROJECT / "library"
MODULES = [
    "magento_site_info",
    "magento_integration_module",
    "magento_setup_module",
    "magento_cli",
    "magento_oauth_tokens",
    "magento_integration_handshake",
]
COMPARED = ("type", "default", "choices", "elements")


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"lib_{name}", LIBRARY / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def rendered() -> dict:
    """What ``ansible-doc --json -M library`` renders for every module, fragments merged in."""
    ansible_doc = pathlib.Path(sys.executable).parent / "ansible-doc"
    proc = subprocess.run(
        [str(ansible_doc), "--json", "-M", str(LIBRARY), *MODULES],
        cwd=PROJECT,
        env={**os.environ, "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", MODULES)
def test_rendered_documentation_matches_argument_spec(rendered: dict, name: str) -> None:
    assert name in rendered, f"ansible-doc rendered no documentation for {name}"
    doc = rendered[name]["doc"]
    spec = load(name).argument_spec()
    assert set(doc["options"]) == set(spec)
    for option, rules in spec.items():
        documented = doc["options"][option]
        for key in COMPARED:
            assert documented.get(key) == rules.get(key), f"{option}.{key}"
        assert bool(documented.get("required")) == bool(rules.get("required")), option
        assert documented.get("description"), option
    assert set(site_argument_spec()) <= set(spec)
    assert spec["admin_password"]["no_log"] is True
    yaml.safe_load(rendered[name]["examples"])
    assert isinstance(rendered[name]["return"], dict)


@pytest.mark.parametrize("name", MODULES)
def test_site_options_come_from_the_fragment_not_a_pasted_copy(name: str) -> None:
    raw = yaml.safe_load(load(name).DOCUMENTATION)
    assert raw["extends_documentation_fragment"][0] == "magento_site"
    assert set(raw["extends_documentation_fragment"]) <= {"magento_site", "magento_site.run_lock"}
    assert not set(raw["options"]) & set(site_argument_spec())
