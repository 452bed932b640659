"""Magento's REST routes (every enabled module's etc/webapi.xml) and whether an integration may call one.

Public API (stable):
    class Route(method, url, resources)
    routes_from_files(files) -> list[Route]            items with ``.content`` (+ ``.path``)
    match(routes, method, path) -> Route | None         the route Magento dispatches ``path`` to
    denied_resources(route, granted) -> list[str]       the route's ACL ids the integration lacks (C4.3)
    granted_resources(tree, resources, fmt) -> set[str] what Magento grants for a declared list (C3.1, C3.3)

Magento checks every resource of the route (Webapi Authorization::isAllowed over the list). An
integration's role has one rule per ACL id (C4.2), so an id is allowed exactly when it is granted, or
when the only grant is ``Magento_Backend::all``; ``anonymous`` needs nothing and ``self`` needs a customer
token, which an integration never has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from ansible.module_utils.magento_acl import AclTree, parse_xml_safely
from ansible.module_utils.magento_contract import ACL_ADMIN_ROOT, ACL_ALL_ROOT

ANONYMOUS = "anonymous"
SELF = "self"
_VERSION = re.compile(r"^V\d+$")


@dataclass(frozen=True)
class Route:
    method: str
    url: str
    resources: tuple[str, ...]

    @property
    def segments(self) -> list[str]:
        return [s for s in self.url.split("/") if s]


def routes_from_files(files: Iterable[Any]) -> list[Route]:
    routes: list[Route] = []
    for item in files:
        root = parse_xml_safely(item.content, getattr(item, "path", "webapi.xml"))
        for node in root.iter("route"):
            url, method = node.get("url"), (node.get("method") or "").upper()
            if not url or not method:
                continue
            refs = tuple(r.get("ref") or "" for r in node.findall("resources/resource"))
            routes.append(Route(method, url, tuple(r for r in refs if r)))
    return routes


def rest_path(probe_path: str) -> list[str]:
    """The segments Magento routes on: no query, no store code before the version (``/default/V1/...``)."""
    parts = [unquote(s) for s in urlsplit(probe_path).path.split("/") if s]
    if len(parts) > 1 and not _VERSION.match(parts[0]) and _VERSION.match(parts[1]):
        parts = parts[1:]
    return parts


def match(routes: Iterable[Route], method: str, probe_path: str) -> Route | None:
    """The route for ``probe_path``: same length, literal segments equal, ``:param`` matching any one.
    Like Magento's router, a route with more literal segments wins over one with more parameters."""
    wanted = rest_path(probe_path)
    best: tuple[int, Route] | None = None
    for route in routes:
        if route.method != method.upper():
            continue
        segs = route.segments
        if len(segs) != len(wanted):
            continue
        literal = 0
        for pattern, value in zip(segs, wanted):  # lengths checked above (3.9 has no zip strict=)
            if pattern.startswith(":"):
                continue
            if pattern.lower() != value.lower():
                break
            literal += 1
        else:
            if best is None or literal > best[0]:
                best = (literal, route)
    return best[1] if best else None


def granted_resources(tree: AclTree, resources: Iterable[str], fmt: str) -> set[str]:
    """integration.xml: the ids, every ancestor and the admin root (C3.1). The legacy api.xml: the ids as
    listed, and the admin root that Rules::saveRel adds to any grant that is not exactly Backend::all."""
    listed = [r for r in resources if r]
    if fmt == "legacy":
        if listed == [ACL_ALL_ROOT]:
            return {ACL_ALL_ROOT}
        return {r for r in listed if tree.known(r)} | ({ACL_ADMIN_ROOT} if listed else set())
    return tree.closure(r for r in listed if r != ACL_ALL_ROOT)


def denied_resources(route: Route, granted: set[str]) -> list[str]:
    if granted == {ACL_ALL_ROOT}:
        return [r for r in route.resources if r == SELF]
    return [r for r in route.resources if r != ANONYMOUS and r not in granted]
