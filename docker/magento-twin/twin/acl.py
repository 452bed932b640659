"""The ACL tree (C4.1): the merge of every enabled module's etc/acl.xml, and rule evaluation (C4.3)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from twin.site import Module

ROOT_ALL = "Magento_Backend::all"
ADMIN = "Magento_Backend::admin"


@dataclass
class AclTree:
    parent: dict[str, str | None] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)

    def add(self, rid: str, parent: str | None, title: str | None) -> None:
        if rid not in self.parent:
            self.parent[rid] = parent
            self.order.append(rid)
        if title:
            self.titles[rid] = title

    def ancestors(self, rid: str) -> list[str]:
        out: list[str] = []
        cur = self.parent.get(rid)
        while cur:
            out.append(cur)
            cur = self.parent.get(cur)
        return out

    def __contains__(self, rid: object) -> bool:
        return rid in self.parent


def _walk(tree: AclTree, node: ET.Element, parent: str | None) -> None:
    for child in node.findall("resource"):
        rid = child.get("id")
        if not rid:
            continue
        tree.add(rid, parent, child.get("title"))
        _walk(tree, child, rid)


def build_tree(modules: list[Module]) -> AclTree:
    tree = AclTree()
    for mod in modules:
        path = mod.file("etc/acl.xml")
        if not os.path.isfile(path):
            continue
        try:
            root = ET.parse(path).getroot()  # noqa: S314
        except ET.ParseError:
            continue
        resources = root.find("acl/resources")
        if resources is not None:
            _walk(tree, resources, None)
    return tree


def with_ancestors(tree: AclTree, resources: list[str]) -> list[str]:
    """What the consolidated integration.xml grants (C3.1): known ids, their ancestors, and admin."""
    result: list[str] = []
    for rid in [*resources, ADMIN]:
        if rid not in tree:
            continue  # unknown ids are silently dropped
        for r in [*reversed(tree.ancestors(rid)), rid]:
            if r not in result:
                result.append(r)
    return result


def is_allowed(tree: AclTree, rules: dict[str, str], resource: str) -> bool:
    """Laminas ACL: an explicit rule on the resource wins, else inherit from the nearest ancestor."""
    if rules.get(ROOT_ALL) == "allow":
        return True
    if resource not in tree:
        return False
    for rid in [resource, *tree.ancestors(resource)]:
        if rid in rules:
            return rules[rid] == "allow"
    return False
