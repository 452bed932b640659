"""ACL merge, closure and suggestions with the C4.1 facts."""

from __future__ import annotations

import pytest
from ansible.module_utils.magento_acl import AclError, AclTree

BACKEND = b"""<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:noNamespaceSchemaLocation="urn:magento:framework:Acl/etc/acl.xsd">
  <acl><resources>
    <resource id="Magento_Backend::all" title="All" />
    <resource id="Magento_Backend::admin">
      <resource id="Magento_Backend::stores" title="Stores">
        <resource id="Magento_Backend::stores_settings" title="Settings">
          <resource id="Magento_Backend::store" title="All Stores"/>
        </resource>
      </resource>
    </resource>
  </resources></acl>
</config>"""

SALES = b"""<config><acl><resources>
  <resource id="Magento_Backend::admin">
    <resource id="Magento_Sales::sales" title="Sales">
      <resource id="Magento_Sales::sales_operation" title="Operations">
        <resource id="Magento_Sales::sales_order" title="Orders">
          <resource id="Magento_Sales::actions" title="Actions">
            <resource id="Magento_Sales::create" title="Create"/>
            <resource id="Magento_Sales::actions_view" title="View"/>
            <resource id="Magento_Sales::email" title="Send Order Email"/>
            <resource id="Magento_Sales::reorder" title="Reorder"/>
            <resource id="Magento_Sales::actions_edit" title="Edit"/>
            <resource id="Magento_Sales::cancel" title="Cancel"/>
          </resource>
        </resource>
      </resource>
    </resource>
  </resource>
</resources></acl></config>"""

CATALOG = b"""<config><acl><resources>
  <resource id="Magento_Backend::admin">
    <resource id="Magento_Catalog::catalog" title="Catalog">
      <resource id="Magento_Catalog::catalog_inventory" title="Inventory">
        <resource id="Magento_Catalog::products" title="Products"/>
      </resource>
    </resource>
  </resource>
</resources></acl></config>"""

CUSTOMER = b"""<config><acl><resources>
  <resource id="Magento_Backend::admin">
    <resource id="Magento_Customer::customer" title="Customers">
      <resource id="Magento_Customer::manage" title="All Customers"/>
    </resource>
  </resource>
</resources></acl></config>"""


@pytest.fixture
def tree() -> AclTree:
    return AclTree.from_files([BACKEND, SALES, CATALOG, CUSTOMER])


def test_merge_keeps_one_node_per_id(tree: AclTree) -> None:
    assert tree.parent("Magento_Sales::sales") == "Magento_Backend::admin"
    assert tree.parent("Magento_Catalog::catalog") == "Magento_Backend::admin"
    assert tree.parent("Magento_Backend::admin") is None
    assert tree.title("Magento_Backend::stores") == "Stores"


def test_ancestors_nearest_first(tree: AclTree) -> None:
    assert tree.ancestors("Magento_Sales::actions_view") == [
        "Magento_Sales::actions",
        "Magento_Sales::sales_order",
        "Magento_Sales::sales_operation",
        "Magento_Sales::sales",
        "Magento_Backend::admin",
    ]
    assert tree.ancestors("Magento_Backend::store") == [
        "Magento_Backend::stores_settings",
        "Magento_Backend::stores",
        "Magento_Backend::admin",
    ]


def test_closure_adds_parents_and_admin_root_and_drops_unknown(tree: AclTree) -> None:
    granted = tree.closure(["Magento_Catalog::products", "Magento_Nope::x"])
    assert granted == {
        "Magento_Backend::admin",
        "Magento_Catalog::catalog",
        "Magento_Catalog::catalog_inventory",
        "Magento_Catalog::products",
    }
    assert tree.closure([]) == {"Magento_Backend::admin"}


def test_unknown_and_suggestions(tree: AclTree) -> None:
    ids = ["Magento_Sales::actions_view", "Magento_Sales::action_view", "Magento_Customer::manag"]
    assert tree.unknown(ids) == ["Magento_Sales::action_view", "Magento_Customer::manag"]
    assert tree.suggest("Magento_Sales::action_view")[0] == "Magento_Sales::actions_view"
    assert tree.suggest("Magento_Customer::manag")[0] == "Magento_Customer::manage"
    assert "Magento_Catalog::products" in tree.suggest("Magento_Catalogue::products")


def test_backend_all_is_never_unknown(tree: AclTree) -> None:
    assert tree.unknown(["Magento_Backend::all"]) == []


def test_missing_ancestors_for_legacy_format(tree: AclTree) -> None:
    listed = ["Magento_Backend::admin", "Magento_Sales::sales", "Magento_Sales::actions_view"]
    assert tree.missing_ancestors(listed) == {
        "Magento_Sales::actions_view": [
            "Magento_Sales::actions",
            "Magento_Sales::sales_order",
            "Magento_Sales::sales_operation",
        ]
    }
    complete = tree.ordered(tree.closure(["Magento_Customer::manage"]))
    assert complete == ["Magento_Backend::admin", "Magento_Customer::customer", "Magento_Customer::manage"]
    assert tree.missing_ancestors(complete) == {}


def test_missing_ancestors_never_demands_the_root(tree: AclTree) -> None:
    """Magento's api.xml examples stop below Magento_Backend::admin; the child is still granted (C4.3)."""
    devdocs_style = ["Magento_Customer::customer", "Magento_Customer::manage"]
    assert tree.missing_ancestors(devdocs_style) == {}
    assert tree.missing_ancestors(["Magento_Customer::manage"]) == {
        "Magento_Customer::manage": ["Magento_Customer::customer"]
    }


def test_merge_from_a_second_file_adds_children_to_an_existing_node(tree: AclTree) -> None:
    tree.add_xml(
        b"""<config><acl><resources><resource id="Magento_Backend::admin">
        <resource id="Magento_Sales::sales"><resource id="Acme_Sync::sync" title="Sync"/></resource>
        </resource></resources></acl></config>""",
        "app/code/Acme/Sync/etc/acl.xml",
    )
    assert tree.ancestors("Acme_Sync::sync") == ["Magento_Sales::sales", "Magento_Backend::admin"]
    assert tree.parent("Magento_Sales::sales") == "Magento_Backend::admin"


def test_refuses_entities_and_broken_xml() -> None:
    tree = AclTree()
    with pytest.raises(AclError, match="DOCTYPE"):
        tree.add_xml(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><config/>', "evil.xml")
    with pytest.raises(AclError, match=r"broken\.xml"):
        tree.add_xml(b"<config><acl>", "broken.xml")
