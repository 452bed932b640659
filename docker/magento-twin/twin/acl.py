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
    """Nodes merged by id; `order` is what Magento's ProviderInterface::getAclResources() walks: depth
    first, siblings by `sortOrder` (missing = 0), equal sortOrders in the order they were first seen."""

    parent: dict[str, str | None] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    sort: dict[str, int] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def add(self, rid: str, parent: str | None, title: str | None, sort_order: str | None) -> None:
        if rid not in self.parent:
            self.parent[rid] = parent
            self.seen.append(rid)
        elif self.parent[rid] is None and parent is not None:
            self.parent[rid] = parent
        if title:
            self.titles[rid] = title
        if sort_order is not None and sort_order.strip().lstrip("-").isdigit():
            self.sort[rid] = int(sort_order)

    @property
    def order(self) -> list[str]:
        children: dict[str | None, list[str]] = {}
        for rid in self.seen:
            children.setdefault(self.parent[rid], []).append(rid)
        out: list[str] = []

        def walk(node: str | None) -> None:
            for rid in sorted(children.get(node, []), key=lambda r: self.sort.get(r, 0)):
                out.append(rid)
                walk(rid)

        walk(None)
        return out

    def roots(self) -> list[str]:
        return [r for r in self.order if self.parent[r] is None]

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
        tree.add(rid, parent, child.get("title"), child.get("sortOrder"))
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
    """What the consolidated integration.xml grants (C3.1), as Config\\Consolidated\\Converter builds it.

    Each listed id is looked up in the subtree under the second root (`Magento_Backend::admin`; the tree's
    roots are `Magento_Backend::all` (sortOrder 10) and admin (20)): found, it brings its path from the top
    of that subtree; not found (unknown ids, and the roots themselves, `Magento_Backend::all` included) it
    is dropped. When anything was found the admin root goes first. Duplicates go, first place kept.
    """
    roots = tree.roots()
    admin = roots[1] if len(roots) > 1 else ADMIN
    result: list[str] = []
    for rid in resources:
        if rid not in tree or rid in roots:
            continue
        chain = [*reversed(tree.ancestors(rid)), rid]
        if chain[0] != admin:
            continue
        result.extend(chain[1:])
    if result:
        result.insert(0, admin)
    return list(dict.fromkeys(result))


def is_allowed(tree: AclTree, rules: dict[str, str], resource: str) -> bool:
    """Laminas ACL as Magento loads it: a rule on the resource or its nearest ancestor decides; only when
    none of them has one does the global rule that an allowed `Magento_Backend::all` stands for apply."""
    if resource in tree:
        for rid in [resource, *tree.ancestors(resource)]:
            if rid in rules:
                return rules[rid] == "allow"
    return rules.get(ROOT_ALL) == "allow"
