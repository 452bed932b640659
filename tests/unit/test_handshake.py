"""magento_handshake without Docker: the whole flow (cli activation, listener, request/access token, probe,
credentials file, convergence, force, check mode) against a small fake store that follows the contract's
observable surface (C5.3 POST, C6.3 token replies, C6.4 problems, C7 probe), plus the pure helpers."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
import requests
from ansible.module_utils import magento_handshake as hs
from ansible.module_utils.magento_admin import ActivationPostFailed
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_credentials import Credentials, read_credentials
from ansible.module_utils.magento_handshake import (
    HandshakeOptions,
    cli_failure_message,
    parse_cli_activation,
    redacted_diff,
    run_handshake,
)
from ansible.module_utils.magento_integrations import access_token_present
from ansible.module_utils.magento_runners import CommandResult
from local_http import LocalHTTPServer
from sqlite_db import SCHEMA, SqliteDatabase, _unix_timestamp

NAME = "Test Handshake"
KEY = "k" * 32
SECRET = "s" * 32


class SharedSqlite(SqliteDatabase):
    """SqliteDatabase usable from the fake store's threads too."""

    def __init__(self) -> None:
        super().__init__()
        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.create_function("UNIX_TIMESTAMP", 0, _unix_timestamp)
        self.conn.create_function("UNIX_TIMESTAMP", 1, _unix_timestamp)
        self.conn.executescript(SCHEMA.format(p=""))
        self.lock = threading.Lock()

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.lock:
            return super().query(sql, params)

    def execute(self, sql: str, params: Any = ()) -> int:
        with self.lock:
            return super().execute(sql, params)

    def close(self) -> None:  # the test owns it
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _oauth_params(header: str | None) -> dict[str, str]:
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header or "")}


class FakeStore:
    """Follows the contract: one token row per consumer moving verifier → request → access (C6.6)."""

    def __init__(self, db: SharedSqlite) -> None:
        self.db = db
        self.counter = 0
        self.activations: list[list[str]] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _problem(self, status: int, text: str) -> None:
                self._send(status, "oauth_problem=" + quote(text))

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = _oauth_params(self.headers.get("Authorization"))
                if "oauth_consumer_key" not in params:
                    self._problem(400, '"oauth_consumer_key" is required. Enter and try again')
                    return
                if params.get("oauth_signature_method") != "HMAC-SHA256":
                    self._problem(
                        400, f"Signature method {params.get('oauth_signature_method')} is not supported"
                    )
                    return
                row = store.token_row()
                if self.path == "/oauth/token/request":
                    if row is None or row["type"] != "verifier":
                        self._problem(
                            401, "Cannot create request token because consumer token is not a verifier token"
                        )
                        return
                    token, secret = store.next_token("rt"), store.next_token("rs")
                    store.db.execute(
                        "UPDATE oauth_token SET type='request', token=%s, secret=%s WHERE entity_id=%s",
                        (token, secret, row["entity_id"]),
                    )
                elif self.path == "/oauth/token/access":
                    if row is None or row["type"] != "request" or params.get("oauth_token") != row["token"]:
                        self._problem(
                            401, "Cannot get access token because consumer token is not a request token"
                        )
                        return
                    if params.get("oauth_verifier") != row["verifier"]:
                        self._problem(401, "Token verifier and verifier token do not match")
                        return
                    token, secret = store.next_token("at"), store.next_token("as")
                    store.db.execute(
                        "UPDATE oauth_token SET type='access', token=%s, secret=%s WHERE entity_id=%s",
                        (token, secret, row["entity_id"]),
                    )
                    store.db.execute("UPDATE integration SET status=1 WHERE name=%s", (NAME,))  # C5.4
                else:
                    self._send(404, "")
                    return
                self._send(200, f"oauth_token={token}&oauth_token_secret={secret}")

            def do_GET(self) -> None:
                params = _oauth_params(self.headers.get("Authorization"))
                row = store.token_row()
                status = store.db.query("SELECT status FROM integration WHERE name=%s", (NAME,))[0]["status"]
                if (
                    self.path.startswith("/rest/V1/orders")
                    and row is not None
                    and row["type"] == "access"
                    and params.get("oauth_token") == row["token"]
                    and status == 1
                ):
                    self._send(200, '{"items":[],"total_count":0}')
                else:
                    self._send(
                        401,
                        json.dumps(
                            {
                                "message": "The consumer isn't authorized to access %resources.",
                                "parameters": {"resources": "Magento_Sales::actions_view"},
                            }
                        ),
                    )

        self.server = LocalHTTPServer(Handler)
        self.base_url = self.server.base_url

    def next_token(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:030d}"

    def token_row(self) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM oauth_token WHERE consumer_id = 5 ORDER BY entity_id")
        return rows[0] if rows else None

    def activate(self, argv: list[str]) -> CommandResult:
        """bin/magento integration:activate NAME [--reauthorize] (docs/interfaces.md, C5.3)."""
        self.activations.append(argv)
        integ = self.db.query("SELECT * FROM integration WHERE name=%s", (argv[1],))[0]
        if "--reauthorize" in argv:
            self.db.execute("DELETE FROM oauth_token WHERE consumer_id=5 AND user_type=1")
            self.db.execute("UPDATE integration SET status=0 WHERE name=%s", (NAME,))
        if self.token_row() is None:
            self.db.execute(
                "INSERT INTO oauth_token (consumer_id, type, token, secret, verifier, user_type) "
                "VALUES (5, 'verifier', %s, %s, %s, 1)",
                (self.next_token("vt"), self.next_token("vs"), self.next_token("vv")),
            )
        verifier = self.token_row()["verifier"]
        form = {
            "oauth_consumer_key": KEY,
            "oauth_consumer_secret": SECRET,
            "store_base_url": self.base_url,
            "oauth_verifier": verifier,
        }
        try:
            requests.post(integ["endpoint"], data=form, timeout=5)
        except requests.RequestException:
            return CommandResult(1, "", hs.POST_TO_CONSUMER_FAILED + "\n", 0.1)
        out = f"integration_id: {integ['integration_id']}\nconsumer_id: 5\nendpoint: {integ['endpoint']}\n"
        out += f"reauthorized: {'yes' if '--reauthorize' in argv else 'no'}\nposted: yes\n"
        return CommandResult(0, out, "", 0.1)

    def close(self) -> None:
        self.server.close()


class FakeSite:
    def __init__(self, store: FakeStore, modules: dict[str, bool]) -> None:
        self.store = store
        self.modules = modules

    def preread_etc(self) -> None:  # the real Site's one round trip for env.php and config.php
        pass

    def env(self) -> Any:
        return type("Env", (), {"backend_frontname": "admin"})()

    def config_modules(self) -> dict[str, bool]:
        return dict(self.modules)

    def cli(self, args: list[str], timeout: int = 600) -> CommandResult:
        assert args[0] == "integration:activate"
        return self.store.activate(args)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = SharedSqlite()
    store = FakeStore(db)
    port = _free_port()
    db.execute(
        "INSERT INTO oauth_consumer (entity_id, name, `key`, secret) VALUES (5, %s, %s, 'enc')", (NAME, KEY)
    )
    db.execute(
        "INSERT INTO integration (integration_id, name, email, endpoint, status, consumer_id, setup_type, "
        "identity_link_url) VALUES (3, %s, 'a@b.c', %s, 0, 5, 1, 'http://127.0.0.1/identity')",
        (NAME, f"http://127.0.0.1:{port}/endpoint"),
    )
    site = FakeSite(store, {hs.HELPER_MODULE: True})
    monkeypatch.setattr(hs, "site_from_params", lambda sp: site)
    monkeypatch.setattr(hs, "database_for", lambda env, sp: db)
    yield {"db": db, "store": store, "site": site, "path": tmp_path / "creds" / "t.json"}
    store.close()


def _run(stack: dict[str, Any], check: bool = False, **opts: Any) -> dict[str, Any]:
    sp = SiteParams(runner="local", base_url=stack["store"].base_url, http_timeout=5)
    options = HandshakeOptions(
        integration=NAME, activation="cli", credentials_path=str(stack["path"]), listen_timeout=5, **opts
    )
    return run_handshake(sp, options, check_mode=check, want_diff=True)


def _no_secret(result: dict[str, Any], stack: dict[str, Any]) -> None:
    text = json.dumps(result)
    creds = read_credentials(str(stack["path"]))
    secrets = [KEY, SECRET] + ([creds.access_token, creds.access_token_secret] if creds else [])
    for secret in secrets:
        assert secret not in text


def test_six_steps_check_apply_idempotent_force(stack: dict[str, Any]) -> None:
    db, store, path = stack["db"], stack["store"], stack["path"]
    # 1 check mode: would activate, touches nothing.
    before = db.query("SELECT * FROM oauth_token")
    first_check = _run(stack, check=True)
    assert first_check["changed"] is True and first_check["activation"] == "cli"
    assert first_check["reason"] == "integration status is 0 (inactive), not 1"
    assert not path.exists() and store.activations == [] and db.query("SELECT * FROM oauth_token") == before
    assert "(new secret)" in first_check["diff"]["after"]
    # 2 apply.
    applied = _run(stack)
    assert applied["changed"] is True and applied["status"] == 1 and applied["access_rows"] == 1
    assert applied["probe"] == {"path": hs.DEFAULT_PROBE_PATH, "status": 200}
    assert applied["reauthorized"] is False and store.activations == [["integration:activate", NAME]]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    creds = read_credentials(str(path))
    assert creds is not None and creds.consumer_key == KEY and creds.consumer_secret == SECRET
    assert access_token_present(db, 5, creds.access_token)
    _no_secret(applied, stack)
    # 3 idempotent check, 4 idempotent apply: nothing happens.
    for check in (True, False):
        again = _run(stack, check=check)
        assert again["changed"] is False and again["activation"] is None and again["reason"] is None
        assert again["probe"]["status"] == 200 and "diff" not in again
    assert len(store.activations) == 1 and read_credentials(str(path)) == creds
    # 5 force in check mode: would reauthorize, touches nothing.
    forced_check = _run(stack, check=True, force=True)
    assert forced_check["changed"] is True and forced_check["reauthorized"] is True
    assert len(store.activations) == 1 and read_credentials(str(path)) == creds
    # 6 force: new tokens, one access row, file rewritten.
    forced = _run(stack, force=True)
    assert forced["changed"] is True and forced["reauthorized"] is True and forced["access_rows"] == 1
    assert store.activations[-1] == ["integration:activate", NAME, "--reauthorize"]
    newer = read_credentials(str(path))
    assert newer is not None and newer.access_token != creds.access_token
    assert set(forced["credentials_changed_fields"]) >= {"access_token", "access_token_secret"}
    _no_secret(forced, stack)


def test_wrong_mode_is_fixed_and_a_dead_token_triggers_a_handshake(stack: dict[str, Any]) -> None:
    _run(stack)
    stack["path"].chmod(0o644)
    fixed = _run(stack)
    assert fixed["changed"] is True and fixed.get("mode_fixed") and fixed["activation"] is None
    assert stat.S_IMODE(stack["path"].stat().st_mode) == 0o600
    stack["db"].execute("DELETE FROM oauth_token")  # e.g. a purge: the file's token is dead
    redo = _run(stack)
    assert redo["changed"] is True and redo["activation"] == "cli"
    assert redo["reason"] == "the file's access token is not the consumer's access token"


def test_leftover_request_row_without_reauthorize_is_refused_before_activation(stack: dict[str, Any]) -> None:
    stack["db"].execute(
        "INSERT INTO oauth_token (consumer_id, type, token, secret, user_type) "
        "VALUES (5, 'request', 'r', 's', 1)"
    )
    with pytest.raises(ModuleFailure, match="magento_oauth_tokens state=absent"):
        _run(stack, reauthorize="no")
    assert stack["store"].activations == []


def test_busy_listener_port_fails_in_check_mode_before_anything_happens(stack: dict[str, Any]) -> None:
    """The role's check-mode run comes before the token purge: a busy port must fail there."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        stack["db"].execute(f"UPDATE integration SET endpoint='http://127.0.0.1:{port}/endpoint'")
        before = stack["db"].query("SELECT * FROM oauth_token")
        with pytest.raises(ModuleFailure, match=f"cannot listen on 127.0.0.1:{port}"):
            _run(stack, check=True)
    assert stack["store"].activations == [] and stack["db"].query("SELECT * FROM oauth_token") == before


def test_listener_port_not_reached_names_the_fix(stack: dict[str, Any]) -> None:
    stack["db"].execute("UPDATE integration SET endpoint='http://127.0.0.1:9/endpoint'")
    with pytest.raises(ModuleFailure, match="could not deliver the activation POST"):
        _run(stack, listen_port=0, listen_port_forwarded=True)


@pytest.mark.parametrize("check", [True, False])
def test_listener_port_other_than_endpoint_urls_fails_before_anything_happens(
    stack: dict[str, Any], check: bool
) -> None:
    """Magento posts to endpoint_url's port: a listener on another port would wait in vain after the
    role purged the tokens (seen on a real 2.4.7 store). The check-mode run, before the purge, stops."""
    endpoint = stack["db"].query("SELECT endpoint FROM integration")[0]["endpoint"]
    endpoint_port = urlsplit(endpoint).port
    before = stack["db"].query("SELECT * FROM oauth_token")
    with pytest.raises(ModuleFailure) as caught:
        _run(stack, check=check, listen_port=endpoint_port + 1)
    message = caught.value.message
    assert f"uses port {endpoint_port}" in message and f"127.0.0.1:{endpoint_port + 1}" in message
    assert "leave listen_port unset" in message
    assert stack["store"].activations == [] and stack["db"].query("SELECT * FROM oauth_token") == before
    assert not stack["path"].exists()


class _PostFailsSession:
    """An Admin session whose tokensExchange shows Magento's C5.3 POST failure."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def login(self) -> None:
        pass

    def tokens_exchange_template(self) -> str:
        return ""

    def tokens_exchange(self, integration_id: int, reauthorize: bool) -> None:
        raise ActivationPostFailed("endpoint: self text: must reach the listener")

    def close(self) -> None:
        pass


@pytest.mark.parametrize("activation", ["cli", "admin"])
def test_external_endpoint_not_reached_names_the_endpoint_not_a_listener(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, activation: str
) -> None:
    # endpoint: external has no listener: the endpoint: self hint (listen_address, listen_port) misled.
    monkeypatch.setattr(hs, "AdminSession", _PostFailsSession)
    stack["db"].execute("UPDATE integration SET endpoint='http://127.0.0.1:9/endpoint'")
    sp = SiteParams(
        runner="local",
        base_url=stack["store"].base_url,
        http_timeout=5,
        admin_username="admin",
        admin_password="pw",
    )
    options = HandshakeOptions(integration=NAME, activation=activation, endpoint="external", listen_timeout=5)
    with pytest.raises(ModuleFailure) as caught:
        run_handshake(sp, options)
    message = caught.value.message
    assert "could not deliver the activation POST to the integration's endpoint_url" in message
    assert "http://127.0.0.1:9/endpoint" in message and "endpoint: external" in message
    assert "listener" not in message and "listen_address" not in message


def test_cli_without_helper_module_says_how_to_install_it(stack: dict[str, Any]) -> None:
    stack["site"].modules = {}
    with pytest.raises(ModuleFailure) as caught:
        _run(stack)
    assert caught.value.message == hs.HELPER_MISSING
    assert stack["store"].activations == []


def test_auto_with_two_factor_and_no_helper_fails_clearly(stack: dict[str, Any]) -> None:
    stack["site"].modules = {hs.TWO_FACTOR_MODULE: True}
    sp = SiteParams(runner="local", base_url=stack["store"].base_url, http_timeout=5)
    options = HandshakeOptions(integration=NAME, activation="auto", credentials_path=str(stack["path"]))
    with pytest.raises(ModuleFailure, match=r"Magento_TwoFactorAuth is enabled.*magento_integration_module"):
        run_handshake(sp, options)


def test_unknown_integration_and_missing_endpoint_are_clear(stack: dict[str, Any]) -> None:
    sp = SiteParams(runner="local", base_url=stack["store"].base_url, http_timeout=5)
    with pytest.raises(ModuleFailure, match="does not exist in the store's DB"):
        run_handshake(sp, HandshakeOptions(integration="Nope", credentials_path=str(stack["path"])))
    stack["db"].execute("UPDATE integration SET identity_link_url=NULL")
    with pytest.raises(ModuleFailure, match=r"C5\.1"):
        _run(stack)


def test_parse_cli_activation_reads_the_documented_lines() -> None:
    out = (
        "integration_id: 3\nconsumer_id: 5\nendpoint: http://127.0.0.1:8099/endpoint\n"
        "reauthorized: no\nposted: yes\n"
    )
    assert parse_cli_activation(out) == {
        "integration_id": "3",
        "consumer_id": "5",
        "endpoint": "http://127.0.0.1:8099/endpoint",
        "reauthorized": "no",
        "posted": "yes",
    }


@pytest.mark.parametrize(
    ("stderr", "fragment"),
    [
        ('Integration "X" does not exist.', "different stores"),
        (
            'Integration "X" has no endpoint URL or identity link URL: Magento activates it without '
            "the OAuth handshake (set both in its configuration).",
            "C5.1",
        ),
        (hs.POST_TO_CONSUMER_FAILED, "endpoint_url must reach the listener"),
        ('Command "integration:activate" is not defined.', "setup:di:compile"),
        ("Something else", "exited 1: Something else"),
    ],
)
def test_cli_failures_map_to_cause_and_fix(stderr: str, fragment: str) -> None:
    assert fragment in cli_failure_message("X", 1, "", stderr)


def test_cli_post_failure_with_external_endpoint_names_that_endpoint() -> None:
    text = cli_failure_message("X", 1, "", hs.POST_TO_CONSUMER_FAILED, "https://hook.example/x")
    assert "endpoint_url https://hook.example/x" in text and "listener" not in text


def test_redacted_diff_shows_keys_never_values() -> None:
    old = Credentials("http://s/", KEY, SECRET, "a" * 32, "b" * 32, "t1")
    new = Credentials("http://s/", KEY, SECRET, "c" * 32, "d" * 32, "t2")
    diff = redacted_diff("/x.json", old, new)
    text = diff["before"] + diff["after"]
    for value in (KEY, SECRET, "a" * 32, "b" * 32, "c" * 32, "d" * 32):
        assert value not in text
    assert "access_token: (new secret)" in diff["after"] and "consumer_key: (secret)" in diff["after"]
    assert "obtained_at: t2" in diff["after"] and "obtained_at: t1" in diff["before"]
