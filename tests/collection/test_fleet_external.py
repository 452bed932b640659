"""The fleet example's way (playbooks/inventories/fleet.example.yml): the modules run ON the store
(runner: local over a remote connection, as over SSH) and the integration's real endpoint completes the
handshake (endpoint: external). Magento posts the credentials to that endpoint, so no credentials file
exists on the store: the role must not fetch one (it did, and failed after activation), and the run ends
with the endpoint holding tokens that sign a 200.

The store is a private stack (private_stack.py); its app container is the remote host, reached with
community.docker.docker, and given Debian's python3-requests and python3-requests-oauthlib as a fleet
store would have them. The endpoint is a fake on 127.0.0.1 that runs the OAuth handshake itself.
"""

from __future__ import annotations

import pathlib
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import yaml
from collection_support import ROOT
from private_stack import PrivateStack
from requests_oauthlib import OAuth1

pytestmark = pytest.mark.docker

HOST = "fleet-store"
NAME, MODULE = "Acme Sync", "Acme_Sync"
SIGNING = {"signature_method": "HMAC-SHA256", "signature_type": "AUTH_HEADER"}


class ExternalEndpoint:
    """Receives Magento's POST and completes the handshake (request token, then access token)."""

    def __init__(self, port: int) -> None:
        self.tokens: list[dict[str, str]] = []
        self.done = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                post = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                threading.Thread(target=outer.handshake, args=(post,), daemon=True).start()

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handshake(self, post: dict[str, str]) -> None:
        store = post["store_base_url"].rstrip("/") + "/"
        key, secret = post["oauth_consumer_key"], post["oauth_consumer_secret"]
        try:
            req = parse_qs(
                requests.post(
                    store + "oauth/token/request", auth=OAuth1(key, secret, **SIGNING), timeout=10
                ).text
            )
            auth = OAuth1(
                key,
                secret,
                req["oauth_token"][0],
                req["oauth_token_secret"][0],
                verifier=post["oauth_verifier"],
                **SIGNING,
            )
            acc = parse_qs(requests.post(store + "oauth/token/access", auth=auth, timeout=10).text)
            self.tokens.append(
                {
                    "base_url": store,
                    "consumer_key": key,
                    "consumer_secret": secret,
                    "access_token": acc["oauth_token"][0],
                    "access_token_secret": acc["oauth_token_secret"][0],
                }
            )
        finally:
            self.done.set()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def store() -> Iterator[PrivateStack]:
    stack = PrivateStack()
    try:
        # What a fleet store has (README: SSH targets): pymysql is in the image, requests-oauthlib is not.
        rc, out = stack.app.exec_run(
            [
                "sh",
                "-c",
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                "python3-requests python3-requests-oauthlib >/dev/null",
            ],
            user="root",
        )
        assert rc == 0, out.decode(errors="replace")[-2000:]
        yield stack
    finally:
        stack.remove()


def test_the_fleet_way_fetches_no_file_and_the_endpoint_holds_working_tokens(
    ansible, store: PrivateStack, tmp_path: pathlib.Path
) -> None:
    src = tmp_path / "src" / "Acme" / "Sync"
    shutil.copytree(ROOT / "examples" / "Acme" / "Sync", src)
    xml = src / "etc" / "integration.xml"
    xml.write_text(xml.read_text().replace("127.0.0.1:8099", f"127.0.0.1:{store.endpoint_port}"))
    fleet = yaml.safe_load((ROOT / "playbooks" / "inventories" / "fleet.example.yml").read_text())
    group_vars = fleet["all"]["children"]["magento_sites"]["vars"]
    host_vars = {
        # The example's choices, pointed at this store.
        "magento_integration_runner": group_vars["magento_integration_runner"],
        "magento_integration_endpoint": group_vars["magento_integration_endpoint"],
        "magento_integration_activation": group_vars["magento_integration_activation"],
        "magento_integration_magento_root": group_vars["magento_integration_magento_root"],
        "magento_integration_name": NAME,
        "magento_integration_module": MODULE,
        "magento_integration_src": str(src),
        "magento_integration_base_url": store.base_url,
        # The remote host, as over SSH: the store's own container, its own Python.
        "ansible_connection": "community.docker.docker",
        "ansible_host": store.app_name,
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    assert host_vars["magento_integration_runner"] == "local"
    assert host_vars["magento_integration_endpoint"] == "external"
    inventory = tmp_path / "fleet.yml"
    inventory.write_text(
        yaml.safe_dump({"all": {"children": {"magento_sites": {"hosts": {HOST: host_vars}}}}})
    )
    endpoint = ExternalEndpoint(store.endpoint_port)
    try:
        proc = ansible(
            "ansible-playbook",
            "-i",
            str(inventory),
            "reintegrate.magento.reinstall_integration",
            cwd=tmp_path,
            timeout=900,
        )
    finally:
        endpoint.close()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "Fetch the credentials file" not in out
    assert "The external endpoint received the credentials" in out, out[-3000:]
    assert not (tmp_path / ".credentials").exists()
    assert endpoint.tokens, "the endpoint did not complete the handshake"
    creds = endpoint.tokens[-1]
    auth = OAuth1(
        creds["consumer_key"],
        creds["consumer_secret"],
        creds["access_token"],
        creds["access_token_secret"],
        **SIGNING,
    )
    reply = requests.get(store.base_url + "rest/V1/orders?searchCriteria[pageSize]=1", auth=auth, timeout=30)
    assert reply.status_code == 200
    _, listing = store.app.exec_run(["sh", "-c", "ls -A ~/.reintegrate/credentials 2>/dev/null || true"])
    assert listing.strip() == b"", "a credentials file was written on the store"
    for value in creds.values():
        if value != creds["base_url"]:
            assert value not in out
