"""Rendering integration modules in both formats (C1.3, C3.1, C3.3), the ACL check (C4.1), the file plan."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

import pytest
from ansible.module_utils.magento_acl import AclTree
from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_module_files import (
    IntegrationSpec,
    check_acl,
    detect_format,
    integrations_from_files,
    plan_files,
    render_module,
)

ACL = b"""<config><acl><resources>
  <resource id="Magento_Backend::all" title="All"/>
  <resource id="Magento_Backend::admin">
    <resource id="Magento_Sales::sales" title="Sales">
      <resource id="Magento_Sales::sales_operation" title="Operations">
        <resource id="Magento_Sales::sales_order" title="Orders">
          <resource id="Magento_Sales::actions" title="Actions">
            <resource id="Magento_Sales::actions_view" title="View"/>
            <resource id="Magento_Sales::cancel" title="Cancel"/>
          </resource>
        </resource>
      </resource>
    </resource>
    <resource id="Magento_Catalog::catalog" title="Catalog">
      <resource id="Magento_Catalog::catalog_inventory" title="Inventory">
        <resource id="Magento_Catalog::products" title="Products"/>
      </resource>
    </resource>
  </resource>
</resources></acl></config>"""

ORDER_VIEW_ANCESTORS = [
    "Magento_Sales::actions",
    "Magento_Sales::sales_order",
    "Magento_Sales::sales_operation",
    "Magento_Sales::sales",
]

TRICKY = IntegrationSpec(
    name='Acme & <Sync> "ERP" it\'s',
    email="ops+sync@example.com",
    endpoint_url="http://127.0.0.1:8099/endpoint?a=1&b=2",
    identity_link_url="http://127.0.0.1:8099/login",
    resources=("Magento_Sales::actions_view", "Magento_Catalog::products"),
)
PLAIN = IntegrationSpec(name="Other", email="o@example.com", resources=("Magento_Sales::cancel",))


@pytest.fixture
def tree() -> AclTree:
    return AclTree.from_files([ACL])


def parse(data: bytes) -> ET.Element:
    assert data.startswith(b'<?xml version="1.0"?>\n')
    return ET.fromstring(data)  # noqa: S314 - our own rendering


# -- render_module -------------------------------------------------------------------------------------


def test_consolidated_renders_well_formed_files_that_read_back_to_the_spec() -> None:
    files = render_module("Acme_Sync", [TRICKY, PLAIN], "consolidated")
    assert sorted(files) == ["etc/integration.xml", "etc/module.xml", "registration.php"]
    root = parse(files["etc/integration.xml"])
    assert [n.get("name") for n in root.findall("integration")] == [TRICKY.name, "Other"]
    assert b"&amp; &lt;Sync&gt; &quot;ERP&quot;" in files["etc/integration.xml"]
    assert integrations_from_files(files) == [TRICKY, PLAIN]
    assert detect_format(files) == "consolidated"


def test_consolidated_module_xml_has_setup_version_only_when_asked() -> None:
    node = parse(render_module("Acme_Sync", [PLAIN], "consolidated")["etc/module.xml"]).find("module")
    assert node.get("name") == "Acme_Sync" and node.get("setup_version") is None
    assert [m.get("name") for m in node.findall("sequence/module")] == ["Magento_Integration"]
    versioned = render_module("Acme_Sync", [PLAIN], "consolidated", setup_version="2.1.0")
    assert parse(versioned["etc/module.xml"]).find("module").get("setup_version") == "2.1.0"


def test_registration_registers_the_module() -> None:
    php = render_module("Acme_Sync", [PLAIN], "consolidated")["registration.php"].decode()
    assert "ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Acme_Sync', __DIR__);" in php


def test_legacy_renders_config_api_install_data_and_a_setup_version() -> None:
    files = render_module("Acme_LegacySync", [TRICKY, PLAIN], "legacy")
    assert sorted(files) == [
        "Setup/InstallData.php",
        "etc/integration/api.xml",
        "etc/integration/config.xml",
        "etc/module.xml",
        "registration.php",
    ]
    # C3.3: InstallData runs only for a module with setup_version.
    assert parse(files["etc/module.xml"]).find("module").get("setup_version") == "1.0.0"
    config = parse(files["etc/integration/config.xml"])
    # C3.3: a <resources> block in config.xml is an error in developer mode.
    assert config.find("integration/resources") is None
    assert config.find("integration/endpoint_url").text == TRICKY.endpoint_url
    api = parse(files["etc/integration/api.xml"])
    assert [r.get("name") for r in api.find("integration").findall("resources/resource")] == list(
        TRICKY.resources
    )
    assert integrations_from_files(files) == [TRICKY, PLAIN]
    assert detect_format(files) == "legacy"


def test_legacy_install_data_applies_exactly_the_named_integrations() -> None:
    php = render_module("Acme_LegacySync", [TRICKY, PLAIN], "legacy")["Setup/InstallData.php"].decode()
    assert "namespace Acme\\LegacySync\\Setup;" in php
    assert "class InstallData implements InstallDataInterface" in php
    expected = "processIntegrationConfig(['Acme & <Sync> \"ERP\" it\\'s', 'Other']);"
    assert expected in php


def test_legacy_keeps_a_given_setup_version() -> None:
    files = render_module("Acme_LegacySync", [PLAIN], "legacy", setup_version="1.2.3")
    assert parse(files["etc/module.xml"]).find("module").get("setup_version") == "1.2.3"


# -- check_acl -----------------------------------------------------------------------------------------


def test_unknown_ids_fail_with_the_closest_known_ids(tree: AclTree) -> None:
    spec = IntegrationSpec("Acme", resources=("Magento_Sales::action_view", "Magento_Sale::cancel"))
    with pytest.raises(ModuleFailure) as err:
        check_acl(tree, [spec], "consolidated", "add")
    msg = err.value.message
    assert "Acme: unknown ACL resource 'Magento_Sales::action_view' (did you mean " in msg
    assert "Magento_Sales::actions_view" in msg.split("action_view'")[1].split(")")[0]
    assert "unknown ACL resource 'Magento_Sale::cancel' (did you mean Magento_Sales::cancel" in msg
    assert "Magento would drop unknown ids silently (C3.1)" in msg


def test_magento_backend_all_is_always_known(tree: AclTree) -> None:
    spec = IntegrationSpec("Acme", resources=("Magento_Backend::all",))
    assert check_acl(tree, [spec], "legacy", "fail") == ([spec], {}, [])


def test_consolidated_format_needs_no_parents(tree: AclTree) -> None:
    spec = IntegrationSpec("Acme", resources=("Magento_Sales::actions_view",))
    assert check_acl(tree, [spec], "consolidated", "fail") == ([spec], {}, [])


def test_legacy_add_lists_missing_ancestors_but_never_the_roots(tree: AclTree) -> None:
    spec = IntegrationSpec("Acme", resources=("Magento_Sales::actions_view", "Magento_Catalog::products"))
    [out], added, warnings = check_acl(tree, [spec], "legacy", "add")
    assert added == {
        "Acme": {
            "Magento_Catalog::products": ["Magento_Catalog::catalog_inventory", "Magento_Catalog::catalog"],
            "Magento_Sales::actions_view": ORDER_VIEW_ANCESTORS,
        }
    }
    assert warnings == []
    assert out.resources == (
        "Magento_Sales::sales",
        "Magento_Sales::sales_operation",
        "Magento_Sales::sales_order",
        "Magento_Sales::actions",
        "Magento_Sales::actions_view",
        "Magento_Catalog::catalog",
        "Magento_Catalog::catalog_inventory",
        "Magento_Catalog::products",
    )
    assert not {"Magento_Backend::admin", "Magento_Backend::all"} & set(out.resources)


def test_legacy_with_every_ancestor_listed_needs_nothing(tree: AclTree) -> None:
    spec = IntegrationSpec("Acme", resources=(*ORDER_VIEW_ANCESTORS, "Magento_Sales::actions_view"))
    assert check_acl(tree, [spec], "legacy", "fail") == ([spec], {}, [])


def test_legacy_fail_and_warn(tree: AclTree) -> None:
    spec = IntegrationSpec("Acme", resources=("Magento_Sales::cancel",))
    with pytest.raises(ModuleFailure) as err:
        check_acl(tree, [spec], "legacy", "fail")
    assert "missing ancestors ['Magento_Sales::actions'," in err.value.message
    assert "Magento_Backend::admin" not in err.value.message
    assert "list them in etc/integration/api.xml, or set acl_parents: add" in err.value.message

    out, added, warnings = check_acl(tree, [spec], "legacy", "warn")
    assert out == [spec] and added == {}
    assert len(warnings) == 1 and "Magento will grant the listed ids without them" in warnings[0]


# -- plan_files ----------------------------------------------------------------------------------------


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_plan_compares_content_and_removes_only_when_pruning() -> None:
    desired = {"a.xml": b"new", "b.xml": b"same", "c.xml": b"added"}
    installed = {"a.xml": sha(b"old"), "b.xml": sha(b"same"), "stale.php": sha(b"x")}
    assert plan_files(desired, installed, prune=False) == {
        "added": ["c.xml"],
        "modified": ["a.xml"],
        "removed": [],
        "unchanged": ["b.xml"],
    }
    assert plan_files(desired, installed, prune=True)["removed"] == ["stale.php"]


def test_plan_of_installed_rendering_is_all_unchanged() -> None:
    files = render_module("Acme_Sync", [PLAIN], "consolidated")
    plan = plan_files(files, {rel: sha(c) for rel, c in files.items()}, prune=True)
    assert plan == {"added": [], "modified": [], "removed": [], "unchanged": sorted(files)}
