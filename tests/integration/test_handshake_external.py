"""magento_integration_handshake with ``endpoint: external`` through Ansible against the live stack.

The integration's real endpoint (here a fake on 127.0.0.1:8196, in this file) receives Magento's POST
(C5.3) and finishes the OAuth handshake itself with requests-oauthlib, as an outside service would
(request token, then access token, HMAC-SHA256 in the Authorization header, C6). The module only
activates and waits for status 1 and an access row. Asserts: apply → changed, status 1, one access row,
no credentials file; the endpoint's access token signs a 200 (C7.4); check mode leaves the token rows as
they were; a second apply converges without a POST; force mints new tokens and kills the old ones
(C7.2); an endpoint that takes the POST but never finishes makes the module fail after listen_timeout
naming the cause and the fix; a -vvv run never shows what the endpoint received.

Uses its own module Itestext_Module (integration "Itest External"), installed with the project's
magento_integration_module and magento_cli; teardown removes its folder and its DB rows.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER
from requests_oauthlib import OAuth1

pytestmark = pytest.mark.docker

# test_handshake.py's playbook runner (it returns the -vvv output) and DB helpers, loaded by path: a
# tests/unit/test_handshake.py of the same basename makes ``import test_handshake`` ambiguous.
_spec = importlib.util.spec_from_file_location(
    "_integration_test_handshake", pathlib.Path(__file__).with_name("test_handshake.py")
)
assert _spec is not None and _spec.loader is not None
_handshake_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_handshake_tests)
run_playbook_task = _handshake_tests.run_module
_query = _handshake_tests._query
_access_rows = _handshake_tests._access_rows

NAME = "Itest External"
MODULE = "Itestext_Module"
DEST = "/var/www/html/app/code/Itestext"  # the vendor folder is this suite's alone
PORT = 8196
PROBE = "rest/V1/orders?searchCriteria[pageSize]=1"
LISTEN_TIMEOUT = 5
# An endpoint that queues its work: the module must wait for the handshake, not only for the POST.
HANDSHAKE_DELAY = 1.5


# ---------- the fake external endpoint ----------


@dataclass
class Received:
    """What the endpoint got from Magento and from the handshake it ran."""

    post: dict[str, str]
    request_token: tuple[str, str] | None = None
    access_token: tuple[str, str] | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def secrets(self) -> list[str]:
        values = [self.post["oauth_consumer_key"], self.post["oauth_consumer_secret"]]
        values.append(self.post["oauth_verifier"])
        for pair in (self.request_token, self.access_token):
            values.extend(pair or ())
        return values


class FakeEndpoint:
    """A threaded HTTP endpoint on 127.0.0.1. ``complete``: finish the handshake like a real endpoint;
    otherwise accept the POST and do nothing."""

    def __init__(self, complete: bool) -> None:
        self.complete = complete
        self.received: list[Received] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                post = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                got = Received(post)
                outer.received.append(got)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                if outer.complete:
                    # After answering: Magento waits for the reply (timeout 5 s, C5.3), not for the tokens.
                    later = threading.Timer(HANDSHAKE_DELAY, outer.handshake, args=(got,))
                    later.daemon = True
                    later.start()

            def do_GET(self) -> None:  # identity_link_url
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handshake(self, got: Received) -> None:
        post = got.post
        store = post["store_base_url"].rstrip("/") + "/"
        key, secret = post["oauth_consumer_key"], post["oauth_consumer_secret"]
        try:
            got.request_token = self._token(store + "oauth/token/request", OAuth1(key, secret, **_SIGNING))
            token, token_secret = got.request_token
            auth = OAuth1(key, secret, token, token_secret, verifier=post["oauth_verifier"], **_SIGNING)
            got.access_token = self._token(store + "oauth/token/access", auth)
        except Exception as exc:  # reported by the test that waits on ``done``
            got.error = f"{type(exc).__name__}: {exc}"
        finally:
            got.done.set()

    @staticmethod
    def _token(url: str, auth: OAuth1) -> tuple[str, str]:
        reply = requests.post(url, auth=auth, timeout=10)
        fields = parse_qs(reply.text)
        if reply.status_code != 200 or "oauth_token" not in fields:
            raise RuntimeError(f"{url} answered {reply.status_code}: {reply.text[:200]}")
        return fields["oauth_token"][0], fields["oauth_token_secret"][0]

    def __enter__(self) -> FakeEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


_SIGNING = {"signature_method": SIGNATURE_HMAC_SHA256, "signature_type": SIGNATURE_TYPE_AUTH_HEADER}


def signed_get(got: Received) -> requests.Response:
    """The REST call the endpoint's service would make with its access token (C7.1)."""
    assert got.access_token is not None, got.error
    key, secret = got.post["oauth_consumer_key"], got.post["oauth_consumer_secret"]
    auth = OAuth1(key, secret, got.access_token[0], got.access_token[1], **_SIGNING)
    store = got.post["store_base_url"].rstrip("/") + "/"
    return requests.get(store + PROBE, auth=auth, headers={"Accept": "application/json"}, timeout=10)


# ---------- the integration ----------


def _integration(db: Any) -> dict[str, Any] | None:
    rows = _query(db, "SELECT integration_id, consumer_id, status FROM integration WHERE name = %s", (NAME,))
    return rows[0] if rows else None


def _token_rows(db: Any, consumer_id: int) -> list[dict[str, Any]]:
    return _query(
        db,
        "SELECT entity_id, type, token, authorized, revoked FROM oauth_token WHERE consumer_id = %s "
        "ORDER BY entity_id",
        (consumer_id,),
    )


def _remove(db: Any, container: Any) -> None:
    """Drop this suite's module folder, its integration with its consumer (tokens and nonces cascade,
    C2.5, C2.6) and its ACL role (C2.7): scoped to "Itest External"."""
    container.exec_run(["rm", "-rf", DEST])
    found = _integration(db)
    if found is None:
        return
    _query(
        db,
        "DELETE FROM authorization_role WHERE user_type = '1' AND user_id = %s",
        (found["integration_id"],),
    )
    if found["consumer_id"] is not None:
        _query(db, "DELETE FROM oauth_consumer WHERE entity_id = %s", (found["consumer_id"],))
    _query(db, "DELETE FROM integration WHERE name = %s", (NAME,))


@pytest.fixture(scope="module")
def module_db(stack: dict[str, Any]) -> Iterator[Any]:
    import pymysql
    import pymysql.cursors

    conn = pymysql.connect(
        host=stack["db_host"],
        port=stack["db_port"],
        user="magento",
        password="magento",
        database="magento",
        autocommit=True,
        cursorclass=pymysql.cursors.DictCursor,
    )
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def installed(
    run_module: Callable[..., dict[str, Any]],
    site_args: dict[str, Any],
    stack: dict[str, Any],
    module_db: Any,
) -> Iterator[dict[str, Any]]:
    """Itestext_Module installed through the project's own modules, as the role's steps 2 and 4 do."""
    import docker

    container = docker.from_env().containers.get(stack["container"])
    _remove(module_db, container)
    spec = {
        "integrations": [
            {
                "name": NAME,
                "email": "itest-external@example.com",
                "endpoint_url": f"http://127.0.0.1:{PORT}/endpoint",
                "identity_link_url": f"http://127.0.0.1:{PORT}/identity",
                "resources": ["Magento_Sales::actions_view"],
            }
        ]
    }
    r = run_module("magento_integration_module", {**site_args, "module": MODULE, "spec": spec})
    assert r.get("changed") is True and not r.get("failed"), r
    r = run_module(
        "magento_cli",
        {**site_args, "command": "setup:upgrade", "args": ["--keep-generated"], "enable_modules": [MODULE]},
    )
    assert not r.get("failed"), r
    found = _integration(module_db)
    assert found is not None and found["consumer_id"] is not None, "setup:upgrade did not create it (C3.1)"
    yield found
    _remove(module_db, container)


def _args(site_args: dict[str, Any], tmp: pathlib.Path, **extra: Any) -> dict[str, Any]:
    # credentials_path is given on purpose: with endpoint external the module must not write it.
    return {
        **site_args,
        "integration": NAME,
        "endpoint": "external",
        "credentials_path": str(tmp / "creds" / "external.json"),
        **extra,
    }


def _assert_no_credentials(result: dict[str, Any], tmp: pathlib.Path) -> None:
    assert result["credentials_path"] is None
    assert "credentials_changed_fields" not in result
    assert not (tmp / "creds").exists()


# ---------- tests ----------


def test_external_endpoint_six_steps(
    installed: dict[str, Any], module_db: Any, tmp_path: pathlib.Path, site_args
):
    cid = installed["consumer_id"]
    args = _args(site_args, tmp_path)
    with FakeEndpoint(complete=True) as endpoint:
        # 1 check mode: would activate; no POST, token rows as they were.
        before = _token_rows(module_db, cid)
        result, _ = run_playbook_task(tmp_path, args, "--check")
        assert result["changed"] is True and result["activation"] == "admin", result
        assert result["reason"] is not None
        assert endpoint.received == [] and _token_rows(module_db, cid) == before
        _assert_no_credentials(result, tmp_path)

        # 2 apply with -vvv: the endpoint finishes the handshake; nothing it received is in the output.
        result, output = run_playbook_task(tmp_path, args, "-vvv")
        assert result["changed"] is True and not result.get("failed"), result.get("msg")
        assert result["status"] == 1 and result["status_name"] == "active"
        assert result["activation"] == "admin" and result["access_rows"] == 1
        _assert_no_credentials(result, tmp_path)
        assert len(endpoint.received) == 1
        got = endpoint.received[0]
        assert got.done.wait(10) and got.error is None, got.error
        assert got.post["store_base_url"].rstrip("/") == site_args["base_url"].rstrip("/")
        assert _access_rows(module_db, cid) == 1
        rows = _token_rows(module_db, cid)
        assert [(r["type"], r["token"]) for r in rows] == [("access", got.access_token[0])]
        assert _integration(module_db)["status"] == 1
        # The endpoint's own access token is what works (C7.1, C7.4).
        reply = signed_get(got)
        assert reply.status_code == 200, reply.text
        assert "total_count" in reply.json()
        for secret in got.secrets():
            assert secret not in output
            assert secret not in json.dumps(result)
        assert site_args["admin_password"] not in output

        # 3 idempotent check, 4 idempotent apply: status 1 and an access row is the state the module
        # waits for (DOCUMENTATION, endpoint: external), so nothing is activated and no POST is sent.
        for flags in (("--check",), ()):
            result, _ = run_playbook_task(tmp_path, args, *flags)
            assert result["changed"] is False, (result.get("reason"), result.get("msg"))
            assert result["activation"] is None and result["reason"] is None
            assert result["status"] == 1 and result["access_rows"] == 1
        assert len(endpoint.received) == 1
        assert _token_rows(module_db, cid) == rows
        assert signed_get(got).status_code == 200

        # 5 forced check mode: would reauthorize; no POST, the token rows and the live token unchanged.
        forced = {**args, "force": True}
        result, _ = run_playbook_task(tmp_path, forced, "--check")
        assert result["changed"] is True and result["reauthorized"] is True and result["reason"] == "force"
        assert len(endpoint.received) == 1
        assert _token_rows(module_db, cid) == rows
        assert signed_get(got).status_code == 200

        # 6 forced apply: reauthorization (C5.3) kills the old token; the endpoint gets a new one.
        result, output = run_playbook_task(tmp_path, forced, "-vvv")
        assert result["changed"] is True and result["reauthorized"] is True, result.get("msg")
        assert result["status"] == 1 and result["access_rows"] == 1
        _assert_no_credentials(result, tmp_path)
        assert len(endpoint.received) == 2
        newer = endpoint.received[1]
        assert newer.done.wait(10) and newer.error is None, newer.error
        assert newer.access_token != got.access_token
        assert newer.post["oauth_consumer_key"] == got.post["oauth_consumer_key"]
        assert signed_get(newer).status_code == 200
        old = signed_get(got)
        assert old.status_code == 401, old.text
        assert [(r["type"], r["token"]) for r in _token_rows(module_db, cid)] == [
            ("access", newer.access_token[0])
        ]
        for secret in newer.secrets():
            assert secret not in output


def test_endpoint_not_running_names_the_endpoint(
    installed: dict[str, Any], module_db: Any, tmp_path: pathlib.Path, site_args
) -> None:
    # Nothing listens on PORT: Magento cannot deliver its POST (C5.3). There is no listener of ours with
    # endpoint: external, so the fix to name is the integration's own endpoint.
    result, _ = run_playbook_task(
        tmp_path, _args(site_args, tmp_path, force=True, listen_timeout=LISTEN_TIMEOUT)
    )
    assert result.get("failed") is True, result
    msg = result["msg"]
    assert "could not deliver the activation POST" in msg, msg
    assert f"http://127.0.0.1:{PORT}/endpoint" in msg and "endpoint: external" in msg, msg
    assert "listener" not in msg and "listen_address" not in msg, msg
    assert _access_rows(module_db, installed["consumer_id"]) == 0


def test_endpoint_that_never_finishes_fails_after_listen_timeout(
    installed: dict[str, Any], module_db: Any, tmp_path: pathlib.Path, site_args
) -> None:
    cid = installed["consumer_id"]
    args = _args(site_args, tmp_path, force=True, listen_timeout=LISTEN_TIMEOUT)
    with FakeEndpoint(complete=False) as silent:
        result, output = run_playbook_task(tmp_path, args, "-vvv")
    assert result.get("failed") is True, result
    assert len(silent.received) == 1, "Magento's POST did not reach the endpoint"
    msg = result["msg"]
    # Cause: the endpoint did not finish within listen_timeout; fix: look at the endpoint and its reach.
    assert f"did not finish the handshake in {LISTEN_TIMEOUT} s" in msg, msg
    assert "endpoint's logs" in msg and site_args["base_url"].rstrip("/") in msg, msg
    assert "verifier" in msg  # the state it stopped in: Magento minted the verifier, nobody used it
    for secret in silent.received[0].secrets():
        assert secret not in output
    _assert_no_credentials({"credentials_path": None}, tmp_path)
    assert _access_rows(module_db, cid) == 0
    assert _integration(module_db)["status"] != 1

    # The fix works: with an endpoint that finishes, a plain apply activates again from this state.
    with FakeEndpoint(complete=True) as endpoint:
        result, _ = run_playbook_task(tmp_path, _args(site_args, tmp_path))
        assert result["changed"] is True and result["status"] == 1, result.get("msg")
        got = endpoint.received[-1]
        assert got.done.wait(10) and got.error is None, got.error
        assert signed_get(got).status_code == 200
    assert _access_rows(module_db, cid) == 1
