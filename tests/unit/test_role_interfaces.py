"""Each role's documented interface (defaults/main.yml) and its validation (meta/argument_specs.yml)
name the same variables, so no variable goes unvalidated and no validated one goes undocumented."""

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"


@pytest.mark.parametrize("role", sorted(p.name for p in ROLES.iterdir() if (p / "defaults").is_dir()))
def test_defaults_and_argument_specs_name_the_same_variables(role):
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    spec = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    assert all(name.startswith(f"{role}_") for name in defaults)
    assert all(opt.get("description") for opt in options.values())
