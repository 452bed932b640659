"""Each of these modules documents exactly its argument_spec, including the shared site options."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
import yaml
from ansible.module_utils.magento_common import SITE_DOC_OPTIONS, site_argument_spec

LIBRARY = pathlib.Path(__file__).resolve().parents[2] / "library"
MODULES = [
    "magento_site_info",
    "magento_integration_module",
    "magento_setup_module",
    "magento_cli",
    "magento_oauth_tokens",
]


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"lib_{name}", LIBRARY / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_argument_spec(name: str) -> None:
    mod = load(name)
    assert SITE_DOC_OPTIONS in mod.DOCUMENTATION
    doc = yaml.safe_load(mod.DOCUMENTATION)
    spec = mod.argument_spec()
    assert set(doc["options"]) == set(spec)
    for option, rules in spec.items():
        documented = doc["options"][option]
        assert documented.get("type") == rules.get("type"), option
        assert documented.get("default") == rules.get("default"), option
        assert documented.get("choices") == rules.get("choices"), option
        assert bool(documented.get("required")) == bool(rules.get("required")), option
    assert set(site_argument_spec()) <= set(spec)
    assert spec["admin_password"]["no_log"] is True
    yaml.safe_load(mod.EXAMPLES)
    yaml.safe_load(mod.RETURN)
