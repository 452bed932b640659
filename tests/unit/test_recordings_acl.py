"""magento_acl against the ACL of a real Magento 2.4.7-p3 store (../shared/magento-2.4.7-p3/acl/, db/).

acl/tree.json is Magento's own merged tree (ProviderInterface::getAclResources(), 271 resources, flattened
with each node's parent). The project builds its tree from the modules' etc/acl.xml files, so the test
writes the recorded tree back as one acl.xml per module, the way Magento's modules split it (each file
repeats its ancestors by id, without a title, and adds its own resources), and merges them with
AclTree.from_files: the merge must give back Magento's tree. The grant Magento wrote for ProbeSync
(db/authorization_rule_probesync.json, integration.xml listing only Magento_Sales::actions_view) is then
the closure the project predicts (C3.1), and the webapi routes say what the default probe needs (C4.3).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import pytest
from ansible.module_utils.magento_acl import AclTree
from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_contract import ACL_ADMIN_ROOT, ACL_ALL_ROOT, DEFAULT_PROBE_PATH
from ansible.module_utils.magento_module_files import IntegrationSpec, check_acl
from recordings import data, recording

PROBESYNC_GRANT = ["Magento_Sales::actions_view"]  # what ProbeSync's integration.xml lists (README)


def recorded_nodes() -> list[dict[str, Any]]:
    return data("acl/tree.json")["resources"]


def acl_xml_per_module(nodes: list[dict[str, Any]]) -> list[bytes]:
    """One etc/acl.xml per module prefix (Magento_Sales::…), in the shape real modules ship."""
    by_id = {n["id"]: n for n in nodes}
    files: dict[str, ET.Element] = {}
    placed: dict[tuple[str, str], ET.Element] = {}
    for node in nodes:  # depth-first, parents before children
        module = node["id"].split("::", 1)[0]
        if module not in files:
            files[module] = ET.Element("config")
            ET.SubElement(ET.SubElement(files[module], "acl"), "resources")
        chain = []
        current = node["id"]
        while current is not None:
            chain.append(current)
            current = by_id[current]["parent"]
        parent = files[module].find("acl/resources")
        for rid in reversed(chain):
            key = (module, rid)
            if key not in placed:
                attrs = {"id": rid}
                if rid == node["id"]:
                    attrs |= {"title": node["title"], "sortOrder": str(node["sort_order"])}
                placed[key] = ET.SubElement(parent, "resource", attrs)
            parent = placed[key]
    return [ET.tostring(root) for root in files.values()]


@pytest.fixture(scope="module")
def tree() -> AclTree:
    return AclTree.from_files(acl_xml_per_module(recorded_nodes()))


def allowed_by_magento() -> set[str]:
    rules = data("db/authorization_rule_probesync.json")
    return {r["resource_id"] for r in rules if r["permission"] == "allow"}


def test_the_merge_of_per_module_files_is_magentos_tree(tree: AclTree) -> None:
    nodes = recorded_nodes()
    files = acl_xml_per_module(nodes)
    assert len(files) > 20  # really split: most ids are reached through another module's file
    assert len(tree) == data("acl/tree.json")["count"] == 271
    assert tree.ids == {n["id"] for n in nodes}
    assert {rid for rid in tree.ids if tree.parent(rid) is None} == {ACL_ALL_ROOT, ACL_ADMIN_ROOT}
    assert {n["id"]: tree.parent(n["id"]) for n in nodes} == {n["id"]: n["parent"] for n in nodes}
    assert {n["id"]: tree.title(n["id"]) for n in nodes} == {n["id"]: n["title"] for n in nodes}


def test_the_merge_does_not_depend_on_file_order() -> None:
    """Files are found in glob order, not Magento's module load order: a file that only repeats an id
    (no title) may come before the one that defines it."""
    nodes = recorded_nodes()
    backwards = AclTree.from_files(list(reversed(acl_xml_per_module(nodes))))
    assert {n["id"]: backwards.parent(n["id"]) for n in nodes} == {n["id"]: n["parent"] for n in nodes}
    assert {n["id"]: backwards.title(n["id"]) for n in nodes} == {n["id"]: n["title"] for n in nodes}
    assert backwards.closure(PROBESYNC_GRANT) == allowed_by_magento()


def test_every_resource_has_one_authorization_rule(tree: AclTree) -> None:
    """C4.2: Magento writes one rule per resource of this tree, allow or deny."""
    rules = data("db/authorization_rule_probesync.json")
    assert sorted(r["resource_id"] for r in rules) == sorted(tree.ids)
    assert {r["permission"] for r in rules} == {"allow", "deny"}


def test_closure_is_the_grant_magento_wrote(tree: AclTree) -> None:
    """C3.1: the consolidated format adds every ancestor plus Magento_Backend::admin."""
    granted = tree.closure(PROBESYNC_GRANT)
    assert granted == allowed_by_magento()
    assert len(granted) == 6
    assert ACL_ADMIN_ROOT in granted and ACL_ALL_ROOT not in granted


def test_consolidated_format_needs_no_parents_listed(tree: AclTree) -> None:
    spec = IntegrationSpec("ProbeSync", resources=tuple(PROBESYNC_GRANT))
    integrations, added, warnings = check_acl(tree, [spec], "consolidated", "fail")
    assert integrations == [spec] and added == {} and warnings == []


def test_legacy_format_adds_no_parents_so_the_check_demands_them(tree: AclTree) -> None:
    """C3.3: api.xml grants exactly what it lists. The check names the missing ancestors (up to the root,
    which C4.3 does not need) and, with acl_parents: add, lists them."""
    spec = IntegrationSpec("Legacy", resources=tuple(PROBESYNC_GRANT))
    expected = sorted(allowed_by_magento() - {ACL_ADMIN_ROOT, *PROBESYNC_GRANT})
    assert tree.missing_ancestors(PROBESYNC_GRANT) == {
        PROBESYNC_GRANT[0]: tree.ancestors(PROBESYNC_GRANT[0])[:-1]
    }
    with pytest.raises(ModuleFailure) as refused:
        check_acl(tree, [spec], "legacy", "fail")
    assert str(expected) in str(refused.value) and "C3.3" in str(refused.value)
    integrations, added, _ = check_acl(tree, [spec], "legacy", "add")
    assert set(integrations[0].resources) == allowed_by_magento() - {ACL_ADMIN_ROOT}
    assert sorted(added["Legacy"][PROBESYNC_GRANT[0]]) == expected
    listed_in_full = tuple(tree.ordered(allowed_by_magento()))
    assert check_acl(tree, [IntegrationSpec("Legacy", resources=listed_in_full)], "legacy", "fail")[1] == {}


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("Magento_Sales::action_view", "Magento_Sales::actions_view"),
        ("Magento_Sale::actions_view", "Magento_Sales::actions_view"),
        ("Magento_Catalog::product", "Magento_Catalog::products"),
        ("Magento_Customer::manag", "Magento_Customer::manage"),
    ],
)
def test_unknown_ids_are_refused_with_the_real_id_suggested(tree: AclTree, typo: str, meant: str) -> None:
    assert tree.unknown([typo, meant]) == [typo]
    assert meant in tree.suggest(typo)
    with pytest.raises(ModuleFailure) as refused:
        check_acl(tree, [IntegrationSpec("X", resources=(typo,))], "consolidated", "fail")
    assert f"unknown ACL resource {typo!r}" in str(refused.value) and meant in str(refused.value)


def routes() -> dict[tuple[str, str], list[str]]:
    return {(r["method"], r["url"]): r["resources"] for r in data("acl/webapi_routes.json")["routes"]}


def test_every_route_resource_is_in_the_tree(tree: AclTree) -> None:
    needed = {rid for resources in routes().values() for rid in resources}
    assert needed and tree.unknown(sorted(needed)) == []


def test_the_default_probe_is_allowed_by_probesyncs_grant(tree: AclTree) -> None:
    """GET /V1/orders needs Magento_Sales::actions_view (C4.3), inside the closure of that one id: the
    recorded 200 (rest/orders_ok) is what the default probe of a ProbeSync-like integration gets."""
    needed = routes()[("GET", urlsplit(DEFAULT_PROBE_PATH).path)]
    assert needed == ["Magento_Sales::actions_view"]
    assert set(needed) <= tree.closure(PROBESYNC_GRANT)


def test_a_route_outside_the_grant_is_what_magento_refused(tree: AclTree) -> None:
    """GET /V1/products needs Magento_Catalog::products, outside ProbeSync's closure: Magento's 401 names
    exactly the route's resources."""
    needed = routes()[("GET", "/V1/products")]
    assert not set(needed) <= tree.closure(PROBESYNC_GRANT)
    refused = recording("rest/products_not_granted.json")
    assert refused.status == 401
    assert refused.json()["parameters"]["resources"] == ", ".join(needed)
