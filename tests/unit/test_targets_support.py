"""Shared by the credential-target tests (tests/unit/test_targets*.py, tests/integration/test_targets*.py):
a real AWS API server (moto's server mode) that the tests start and stop on a free 127.0.0.1 port, with IAM
enforced; and a fake store whose signed probe checks the OAuth HMAC-SHA256 signature. No tests here.

    MotoServer()                 .endpoint, .env(principal) for boto3 / ansible, .client(service, principal)
                                 principals: admin (everything), deployer (exactly IAM_ACTIONS of both AWS
                                 targets), reader (Get/Describe only); .close()
    SignedStore(valid, hook)     GET /rest/V1/... -> 200 when signed with one of ``valid`` credentials
                                 (dicts), else 401; ``hook()`` runs inside each probe (to look at the target
                                 while the probe is in flight); .base_url, .probes, .close()
    moto_or_fail()               MotoServer, or skip (fail under CI=true) when moto[server] is missing
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from ansible.module_utils.magento_targets_options import IAM_ACTIONS
from local_http import LocalHTTPServer

REGION = "us-east-1"
READ_ACTIONS = (
    "ssm:GetParameters",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
)


def unavailable(msg: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class MotoServer:
    """``python -m moto.server`` on a free port; IAM users made while auth is off, then IAM enforced."""

    def __init__(self) -> None:
        import boto3

        self.boto3 = boto3
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "false"},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{self.endpoint}/moto-api/data.json", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError("moto server did not start")
            time.sleep(0.2)
        self.keys: dict[str, dict[str, str]] = {}
        iam = boto3.client(
            "iam",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",  # auth is off until enforce()
        )
        every = list(IAM_ACTIONS["aws_ssm"] + IAM_ACTIONS["aws_secretsmanager"])
        for user, actions in (("admin", ["*"]), ("deployer", every), ("reader", list(READ_ACTIONS))):
            iam.create_user(UserName=user)
            policy = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
            }
            iam.put_user_policy(UserName=user, PolicyName="targets", PolicyDocument=json.dumps(policy))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            self.keys[user] = {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
        self.enforce()

    def enforce(self) -> None:
        """Every request from now on must be signed by an IAM user whose policy allows its action."""
        reply = requests.post(f"{self.endpoint}/moto-api/reset-auth", data=b"0", timeout=10)
        assert reply.status_code == 200, reply.text

    def env(self, principal: str = "deployer") -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.keys[principal]["id"],
            "AWS_SECRET_ACCESS_KEY": self.keys[principal]["secret"],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service: str, principal: str = "admin") -> Any:
        keys = self.keys[principal]
        return self.boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=keys["id"],
            aws_secret_access_key=keys["secret"],
        )

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def moto_or_fail() -> MotoServer:
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as exc:
        unavailable(f"boto3 / moto[server] missing ({exc}): .venv/bin/pip install -e '.[dev]'")
    return MotoServer()


def _expected_signature(params: dict[str, str], creds: dict[str, Any], url: str) -> str:
    from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

    client = Client(
        creds["consumer_key"],
        client_secret=creds["consumer_secret"],
        resource_owner_key=creds["access_token"],
        resource_owner_secret=creds["access_token_secret"],
        signature_method=SIGNATURE_HMAC_SHA256,
        timestamp=params["oauth_timestamp"],
        nonce=params["oauth_nonce"],
    )
    _, headers, _ = client.sign(url, "GET")
    signed = dict(_parse(headers["Authorization"]))
    return signed["oauth_signature"]


def _parse(header: str) -> list[tuple[str, str]]:
    from oauthlib.oauth1.rfc5849.utils import parse_authorization_header

    return parse_authorization_header(header)


class SignedStore:
    """A store that answers the signed probe: 200 only for a valid HMAC-SHA256 signature by one of the
    ``valid`` credentials (matched on consumer key and access token), 401 otherwise."""

    def __init__(self, valid: list[dict[str, Any]] | None = None, hook: Callable[[], None] | None = None):
        self.valid: list[dict[str, Any]] = list(valid or [])
        self.hook = hook
        self.probes: list[int] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                status = store.answer(self.path, self.headers.get("Authorization", ""))
                body = b"{}" if status == 200 else b'{"message":"The consumer isn\'t authorized."}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = LocalHTTPServer(Handler)
        self.base_url = self.server.base_url

    def answer(self, path: str, header: str) -> int:
        if self.hook is not None:
            self.hook()
        status = 401
        if header.startswith("OAuth "):
            params = dict(_parse(header))
            url = self.base_url.rstrip("/") + path
            for creds in self.valid:
                if (
                    params.get("oauth_consumer_key") == creds["consumer_key"]
                    and params.get("oauth_token") == creds["access_token"]
                    and params.get("oauth_signature_method") == "HMAC-SHA256"
                    and params.get("oauth_signature") == _expected_signature(params, creds, url)
                ):
                    status = 200
        self.probes.append(status)
        return status

    def close(self) -> None:
        self.server.close()


def port_closed() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    port = free_port()
    return f"http://127.0.0.1:{port}"


def host_of(url: str) -> str:
    return urlsplit(url).netloc
