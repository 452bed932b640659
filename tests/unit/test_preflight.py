"""The run's plan proven before its first destructive step (magento_preflight, magento_webapi).

The routes and the ACL tree are the real store's (../shared/magento-2.4.7-p3/acl/): webapi_routes.json is
Magento's own route table, tree.json its merged ACL; rest/products_not_granted.json shows what a probe of
an ungranted route answers (401) on a store whose ProbeSync lists only Magento_Sales::actions_view.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import pytest
from ansible.module_utils import magento_preflight as pf
from ansible.module_utils.magento_acl import AclTree
from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_webapi import (
    Route,
    denied_resources,
    granted_resources,
    match,
    routes_from_files,
)
from recordings import data, recording
from test_recordings_acl import acl_xml_per_module, recorded_nodes

PROBE = "/V1/orders?searchCriteria[pageSize]=1"


@pytest.fixture(scope="module")
def tree() -> AclTree:
    return AclTree.from_files(acl_xml_per_module(recorded_nodes()))


@pytest.fixture(scope="module")
def routes() -> list[Route]:
    return [
        Route(r["method"], r["url"], tuple(r["resources"])) for r in data("acl/webapi_routes.json")["routes"]
    ]


def test_the_default_probe_is_the_route_the_real_store_checks(routes: list[Route]) -> None:
    route = match(routes, "GET", PROBE)
    assert route is not None and route.url == "/V1/orders"
    assert route.resources == ("Magento_Sales::actions_view",)
    assert match(routes, "GET", "/default/V1/orders?searchCriteria[pageSize]=1") == route  # store code
    assert match(routes, "GET", "/V1/no-such-route") is None


def test_a_literal_segment_wins_over_a_parameter(routes: list[Route]) -> None:
    literal = [
        r for r in routes if r.method == "GET" and r.url.startswith("/V1/orders/") and ":" not in r.url
    ]
    assert literal, "the recording has GET /V1/orders/<literal> routes"
    assert match(routes, "GET", literal[0].url) == literal[0]
    by_id = match(routes, "GET", "/V1/orders/42")
    assert by_id is not None and by_id.url == "/V1/orders/:id"


def test_probesync_grant_allows_orders_and_denies_products(tree: AclTree, routes: list[Route]) -> None:
    """What the real store answered: orders 200 (rest/orders_ok), products 401 naming the id."""
    granted = granted_resources(tree, ["Magento_Sales::actions_view"], "consolidated")
    assert denied_resources(match(routes, "GET", PROBE), granted) == []
    products = match(routes, "GET", "/V1/products?searchCriteria[pageSize]=1")
    refused = recording("rest/products_not_granted.json").json()["parameters"]["resources"]
    assert denied_resources(products, granted) == [refused]


def test_legacy_grant_is_the_list_plus_the_admin_root(tree: AclTree, routes: list[Route]) -> None:
    """Rules::saveRel adds Magento_Backend::admin; no other parent comes (C3.3). An allowed child is
    allowed with its parents denied (C4.3), so a legacy leaf alone still passes the probe."""
    granted = granted_resources(tree, ["Magento_Sales::actions_view"], "legacy")
    assert granted == {"Magento_Sales::actions_view", "Magento_Backend::admin"}
    assert denied_resources(match(routes, "GET", PROBE), granted) == []
    assert granted_resources(tree, ["Magento_Backend::all"], "legacy") == {"Magento_Backend::all"}
    assert denied_resources(match(routes, "GET", PROBE), {"Magento_Backend::all"}) == []


def test_routes_from_webapi_xml() -> None:
    @dataclass
    class F:
        content: bytes
        path: str = "etc/webapi.xml"

    xml = b"""<routes><route url="/V1/acme/:id" method="GET"><service class="A" method="get"/>
      <resources><resource ref="Acme_Sync::read"/></resources></route>
      <route url="/V1/acme/ping" method="GET"><service class="A" method="ping"/>
      <resources><resource ref="anonymous"/></resources></route></routes>"""
    found = routes_from_files([F(xml)])
    assert [r.url for r in found] == ["/V1/acme/:id", "/V1/acme/ping"]
    assert denied_resources(match(found, "GET", "/V1/acme/ping"), set()) == []
    assert denied_resources(match(found, "GET", "/V1/acme/7"), set()) == ["Acme_Sync::read"]


class FakeSite:
    def __init__(self, tree_files: list[bytes], route_files: list[Any]) -> None:
        self._acl, self._routes = tree_files, route_files

    def acl_xml_files(self) -> list[Any]:
        return self._acl

    def webapi_xml_files(self) -> list[Any]:
        return self._routes


def webapi_xml_of(routes: list[Route]) -> bytes:
    body = "".join(
        f'<route url="{r.url}" method="{r.method}"><resources>'
        + "".join(f'<resource ref="{x}"/>' for x in r.resources)
        + "</resources></route>"
        for r in routes
    )
    return f"<routes>{body}</routes>".encode()


@dataclass
class XmlFile:
    content: bytes
    path: str = "vendor/magento/module-sales/etc/webapi.xml"


def test_a_denied_probe_fails_before_anything_changes(routes: list[Route]) -> None:
    site = FakeSite(acl_xml_per_module(recorded_nodes()), [XmlFile(webapi_xml_of(routes))])
    plan = pf.RunPlan(
        probe_path="/V1/products?searchCriteria[pageSize]=1", resources=["Magento_Sales::actions_view"]
    )
    with pytest.raises(ModuleFailure) as err:
        pf.prove_probe(site, plan)
    text = err.value.message
    assert "needs Magento_Catalog::products" in text and "Nothing was changed." in text
    assert "Add the id to the integration's resources" in text
    ok = pf.prove_probe(site, pf.RunPlan(probe_path=PROBE, resources=["Magento_Sales::actions_view"]))
    assert ok == {"ok": True, "route": "GET /V1/orders", "resources": ["Magento_Sales::actions_view"]}


def test_a_probe_without_route_fails(routes: list[Route]) -> None:
    site = FakeSite(acl_xml_per_module(recorded_nodes()), [XmlFile(webapi_xml_of(routes))])
    with pytest.raises(ModuleFailure, match="matches no REST route"):
        pf.prove_probe(site, pf.RunPlan(probe_path="/V1/ordres", resources=["Magento_Sales::actions_view"]))


def test_listener_port_mismatch_and_busy_port() -> None:
    with pytest.raises(ModuleFailure, match="where Magento's POST never arrives"):
        pf.prove_listener(pf.RunPlan(endpoint_url="http://127.0.0.1:8099/endpoint", listen_port=8100))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        with pytest.raises(ModuleFailure) as err:
            pf.prove_listener(pf.RunPlan(endpoint_url=f"http://127.0.0.1:{port}/endpoint"))
        assert f"cannot listen on 127.0.0.1:{port}" in err.value.message
        assert err.value.message.endswith("Nothing was changed.")
    finally:
        busy.close()
    # Free again: bound and let go.
    assert pf.prove_listener(pf.RunPlan(endpoint_url=f"http://127.0.0.1:{port}/endpoint"))["port"] == port
    forwarded = pf.RunPlan(
        endpoint_url=f"http://127.0.0.1:{port}/e", listen_port=port, listen_port_forwarded=True
    )
    assert pf.prove_listener(forwarded)["ok"] is True


def test_the_listener_proof_leaves_the_port_free_and_starts_no_thread() -> None:
    """The preflight binds and lets go at once: the handshake's listener binds the same port right after,
    and no server thread is left whose shutdown waits for its next poll."""
    import threading

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    before = threading.active_count()
    assert pf.prove_listener(pf.RunPlan(endpoint_url=f"http://127.0.0.1:{port}/endpoint"))["port"] == port
    assert threading.active_count() == before
    again = socket.socket()
    try:
        again.bind(("127.0.0.1", port))  # free: the proof's socket is closed
    finally:
        again.close()


def test_the_cli_user_proof_keeps_what_a_read_snapshot_has_read(tmp_path) -> None:
    """`true` as the CLI user changes no file: the files the preflight read stay read (run() would make
    the snapshot forget them all, and the handshake check read env.php and config.php again)."""
    from ansible.module_utils.magento_read_snapshot import ReadSnapshot
    from ansible.module_utils.magento_runners import LocalRunner
    from ansible.module_utils.magento_site import Site

    class Counting(LocalRunner):
        def __init__(self) -> None:
            self.reads = 0
            self.users: list[str | None] = []

        def read_file(self, path: str) -> bytes | None:
            self.reads += 1
            return super().read_file(path)

        def run(self, argv, cwd=None, timeout=60, user=None):  # type: ignore[no-untyped-def]
            self.users.append(user)
            return super().run(argv, cwd=cwd, timeout=timeout, user=None)  # no su here

    (tmp_path / "f").write_bytes(b"x")
    inner = Counting()
    site = Site(ReadSnapshot(inner), str(tmp_path), cli_user="magento")
    site.runner.read_file(str(tmp_path / "f"))
    assert pf.prove_cli_user(site) == {"ok": True, "user": "magento"}
    site.runner.read_file(str(tmp_path / "f"))
    assert inner.reads == 1 and inner.users == ["magento"]


def test_clock_ahead_beyond_the_nonce_window_fails() -> None:
    """oauth/request_timestamp_700s_ahead.json: 700 s ahead is refused by the real store."""
    assert recording("oauth/request_timestamp_700s_ahead.json").status == 401
    with pytest.raises(ModuleFailure, match="700 s ahead"):
        pf.prove_clock(700.0)
    assert pf.prove_clock(-900.0)["ok"] is True  # behind is never refused
    assert pf.prove_clock(None)["ok"] is True


class FakeDb:
    def __init__(self, value: str | None) -> None:
        self.value = value

    def t(self, table: str) -> str:
        return table

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        return [] if self.value is None else [{"value": self.value}]


def test_consumer_expiry_too_short_fails_and_unset_is_the_default() -> None:
    with pytest.raises(ModuleFailure, match="config:set oauth/consumer/expiration_period 300"):
        pf.prove_expiry(FakeDb("1"))
    assert pf.prove_expiry(FakeDb(None)) == {"ok": True, "expiration_period": 300}


@dataclass
class Env:
    mage_mode: str | None


class CliSite:
    def __init__(self, listed: bool) -> None:
        self.listed = listed
        self.calls: list[list[str]] = []

    def cli(self, args: list[str], timeout: int = 600) -> Any:
        self.calls.append(args)
        out = "integration:activate  Activate an integration\n" if self.listed else "cache:flush  Flush\n"

        @dataclass
        class R:
            rc: int = 0
            stdout: str = out

        return R()


def test_cli_in_production_needs_the_compiled_command() -> None:
    on = {"Reintegrate_CliActivation": True}
    assert pf.prove_cli(CliSite(True), Env("developer"), {}, pf.RunPlan())["ok"] is True
    with pytest.raises(ModuleFailure, match="production mode"):
        pf.prove_cli(CliSite(True), Env("production"), {}, pf.RunPlan())
    with pytest.raises(ModuleFailure, match="setup:di:compile"):
        pf.prove_cli(CliSite(False), Env("production"), on, pf.RunPlan())
    site = CliSite(True)
    assert pf.prove_cli(site, Env("production"), on, pf.RunPlan())["command_listed"] is True
    assert site.calls == [["list", "--raw"]]


def test_the_declaration_completes_the_plan() -> None:
    declared = {
        "endpoint_url": "http://127.0.0.1:8099/endpoint",
        "resources": ["Magento_Sales::actions_view"],
        "format": "legacy",
    }
    plan = pf.with_declaration(pf.RunPlan(probe_path=PROBE), declared)
    assert (plan.endpoint_url, plan.resources, plan.format) == (
        "http://127.0.0.1:8099/endpoint",
        ["Magento_Sales::actions_view"],
        "legacy",
    )
    external = pf.with_declaration(pf.RunPlan(endpoint="external"), declared)
    assert external.endpoint_url is None
    assert pf.prove_listener(external)["ok"] is None  # no listener for endpoint external
    given = pf.with_declaration(pf.RunPlan(endpoint_url="http://127.0.0.1:9/e", resources=["X"]), declared)
    assert (given.endpoint_url, given.resources) == ("http://127.0.0.1:9/e", ["X"])
