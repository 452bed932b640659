"""A module that declares no integration (the CLI activation helper) installs through the same path."""

from pathlib import Path

import pytest
from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_module_files import detect_format, integrations_from_files, read_src

PROJECT = Path(__file__).resolve().parents[2]


def test_helper_module_has_no_integration_format():
    files = read_src(str(PROJECT / "magento" / "Reintegrate" / "CliActivation"))
    assert "etc/di.xml" in files
    assert detect_format(files) is None
    assert integrations_from_files(files) == []


@pytest.mark.parametrize(("example", "fmt"), [("Acme/Sync", "consolidated"), ("Acme/LegacySync", "legacy")])
def test_examples_are_detected_by_their_files(example, fmt):
    assert detect_format(read_src(str(PROJECT / "examples" / example))) == fmt


def test_src_that_is_not_a_folder_names_the_fix(tmp_path):
    with pytest.raises(ModuleFailure, match=r"registration\.php"):
        read_src(str(tmp_path / "missing"))
