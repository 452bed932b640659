"""Magento's ACL tree: the merge of every enabled module's etc/acl.xml (C4.1).

Public API (stable):
    class AclError(ValueError)
    class AclTree()
        add_xml(content: bytes | str, source: str = "") -> None   merge one acl.xml (same ids merge)
        from_files(files) -> AclTree       classmethod; items with ``.content`` (+ ``.path``) or bytes
        ids -> set[str];  known(id) -> bool;  parent(id) -> str | None;  title(id) -> str | None
        ancestors(id) -> list[str]         nearest parent first, root last
        closure(ids) -> set[str]           ids + every ancestor + Magento_Backend::admin (C3.1)
        unknown(ids) -> list[str]          ids not in the tree, in input order
        suggest(id, n=3) -> list[str]      closest known ids (difflib), for "did you mean"
        missing_ancestors(ids) -> dict[str, list[str]]   legacy format: ancestors you must list (C3.3)
        ordered(ids) -> list[str]          ids in tree (document) order
"""

from __future__ import annotations

import difflib
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from ansible.module_utils.magento_contract import ACL_ADMIN_ROOT, ACL_ALL_ROOT


class AclError(ValueError):
    """An acl.xml file could not be read."""


def parse_xml_safely(content: bytes | str, source: str = "") -> ET.Element:
    """ElementTree without DTDs: refuse DOCTYPE/ENTITY declarations outright (no entity expansion)."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise AclError(f"{source or 'XML'}: DOCTYPE/ENTITY declarations are not accepted")
    try:
        return ET.fromstring(text)  # noqa: S314 - DTDs refused above
    except ET.ParseError as exc:
        raise AclError(f"{source or 'XML'}: {exc}") from None


class AclTree:
    def __init__(self) -> None:
        self._parent: dict[str, str | None] = {}
        self._title: dict[str, str] = {}
        self._order: dict[str, int] = {}

    @classmethod
    def from_files(cls, files: Iterable[Any]) -> AclTree:
        tree = cls()
        for item in files:
            if isinstance(item, (bytes, str)):
                tree.add_xml(item)
            else:
                tree.add_xml(item.content, getattr(item, "path", ""))
        return tree

    def add_xml(self, content: bytes | str, source: str = "") -> None:
        root = parse_xml_safely(content, source)
        resources = root.find("acl/resources") if root.tag != "acl" else root.find("resources")
        if resources is None:
            return
        for node in resources.findall("resource"):
            self._walk(node, None, source)

    def _walk(self, node: ET.Element, parent: str | None, source: str) -> None:
        rid = node.get("id")
        if not rid:
            raise AclError(f"{source or 'acl.xml'}: <resource> without id")
        if rid not in self._parent:
            self._parent[rid] = parent
            self._order[rid] = len(self._order)
        elif self._parent[rid] is None and parent is not None:
            self._parent[rid] = parent
        title = node.get("title")
        if title and rid not in self._title:
            self._title[rid] = title
        for child in node.findall("resource"):
            self._walk(child, rid, source)

    @property
    def ids(self) -> set[str]:
        return set(self._parent)

    def __len__(self) -> int:
        return len(self._parent)

    def known(self, rid: str) -> bool:
        return rid in self._parent

    def parent(self, rid: str) -> str | None:
        return self._parent.get(rid)

    def title(self, rid: str) -> str | None:
        return self._title.get(rid)

    def ancestors(self, rid: str) -> list[str]:
        out: list[str] = []
        seen = {rid}
        current = self._parent.get(rid)
        while current is not None and current not in seen:
            out.append(current)
            seen.add(current)
            current = self._parent.get(current)
        return out

    def closure(self, ids: Iterable[str]) -> set[str]:
        """What Magento grants for a consolidated-format resource list (C3.1); unknown ids dropped."""
        result = {ACL_ADMIN_ROOT}
        for rid in ids:
            if rid == ACL_ALL_ROOT or self.known(rid):
                result.add(rid)
                result.update(self.ancestors(rid))
        return result

    def unknown(self, ids: Iterable[str]) -> list[str]:
        return [rid for rid in ids if rid != ACL_ALL_ROOT and not self.known(rid)]

    def suggest(self, rid: str, n: int = 3) -> list[str]:
        known = sorted(self._parent)
        matches = difflib.get_close_matches(rid, known, n=n, cutoff=0.6)
        if len(matches) < n and "::" in rid:
            # Same local part under another module ("Magento_Sale::actions_view" → Magento_Sales::...).
            local = rid.split("::", 1)[1]
            locals_ = {k.split("::", 1)[1]: k for k in known if "::" in k}
            for m in difflib.get_close_matches(local, sorted(locals_), n=n, cutoff=0.75):
                if locals_[m] not in matches:
                    matches.append(locals_[m])
        return matches[:n]

    def missing_ancestors(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """For the legacy format (C3.3) Magento adds no parents: the ancestors not listed, per id.

        The roots are not demanded: an explicitly allowed child is allowed even when its parent is
        denied (C4.3), and Magento's own api.xml examples list parents only up to the root.
        """
        listed = set(ids)
        out: dict[str, list[str]] = {}
        for rid in listed:
            if not self.known(rid):
                continue
            missing = [
                a for a in self.ancestors(rid) if a not in listed and a not in (ACL_ADMIN_ROOT, ACL_ALL_ROOT)
            ]
            if missing:
                out[rid] = missing
        return dict(sorted(out.items()))

    def ordered(self, ids: Iterable[str]) -> list[str]:
        unique = list(dict.fromkeys(ids))
        return sorted(unique, key=lambda r: (self._order.get(r, len(self._order)), r))
