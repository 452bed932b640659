"""Clients the fidelity tests drive the twin with: Admin pages (C5.2), OAuth signing (C6), handshake."""

from __future__ import annotations

import base64
import os
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from oauthlib.oauth1 import Client
from twin_support import Listener, Stack

ADMIN_USER = os.environ.get("REINTEGRATE_ADMIN_USER", "admin")
ADMIN_PASSWORD = os.environ.get("REINTEGRATE_ADMIN_PASSWORD", "Admin12345!")


def decrypt(stack: Stack, value: str) -> str:
    """Magento's Encryptor, cipher 3: `<key version>:3:base64(nonce(12) . ciphertext . tag)`, AAD = nonce."""
    version, cipher, payload = value.split(":", 2)
    assert cipher == "3"
    key_text = stack.crypt_key.split()[int(version)]
    # 2.4.7 writes `base64<base64 of 32 bytes>`; older stores a 32-character key.
    key = base64.b64decode(key_text[6:]) if key_text.startswith("base64") else key_text.encode()
    blob = base64.b64decode(payload)
    return ChaCha20Poly1305(key).decrypt(blob[:12], blob[12:], blob[:12]).decode()


class AdminClient:
    def __init__(
        self,
        stack: Stack,
        username: str = ADMIN_USER,
        password: str = ADMIN_PASSWORD,
        base_url: str | None = None,
        front: str | None = None,
    ) -> None:
        self.stack = stack
        self.base = base_url or stack.base_url
        self.front = front or stack.front
        self.http = requests.Session()
        self.username = username
        self.password = password
        self.dashboard_url: str | None = None

    def login_page(self) -> requests.Response:
        return self.http.get(f"{self.base}{self.front}/", timeout=30)

    def login(self) -> requests.Response:
        page = self.login_page()
        form_key = re.search(r'name="form_key" type="hidden" value="([^"]+)"', page.text).group(1)
        resp = self.http.post(
            f"{self.base}{self.front}/",
            data={"form_key": form_key, "login[username]": self.username, "login[password]": self.password},
            allow_redirects=False,
            timeout=30,
        )
        if resp.status_code == 302:
            self.dashboard_url = resp.headers["Location"]
        return resp

    def grid_url(self) -> str:
        if self.dashboard_url is None:
            assert self.login().status_code == 302
        page = self.http.get(self.dashboard_url, timeout=30)
        return re.search(r'href="([^"]*/admin/integration/(?:index/key/[0-9a-f]+/)?)"', page.text).group(1)

    def grid(self) -> str:
        return self.http.get(self.grid_url(), timeout=30).text

    def templates(self) -> dict[str, str]:
        """The grid's `new Integration('…', …)` URL templates, JS escapes undone, by action name."""
        return grid_templates(self.grid())

    def tokens_exchange_template(self) -> str:
        return self.templates()["tokensExchange"]

    def tokens_exchange(self, integration_id: int, reauthorize: bool = False) -> requests.Response:
        url = (
            self.tokens_exchange_template()
            .replace(":id", str(integration_id))
            .replace(":isReauthorize", "1" if reauthorize else "0")
        )
        return self.http.get(
            url,
            params={"isAjax": "true"},
            headers={"X-Requested-With": "XMLHttpRequest"},
            allow_redirects=False,
            timeout=30,
        )


def unescape_js(text: str) -> str:
    """Every \\uXXXX (Magento's escapeJs: `\\u002F`, `\\u003A`, ...) and `\\/` undone."""
    return re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/")


def grid_templates(html: str) -> dict[str, str]:
    """The positional URL templates of `new Integration(...)` on the integration grid, by action."""
    m = re.search(r"new Integration\((.*?)\);", html, re.S)
    assert m, "no new Integration(...) on the grid"
    urls = [unescape_js(u) for u in re.findall(r"'((?:[^'\\]|\\.)*)'", m.group(1))]
    out = {}
    for url in urls:
        action = re.search(r"/admin/integration/([A-Za-z]+)/", url)
        out[action.group(1) if action else "index"] = url
    return out


def oauth_headers(
    url: str,
    consumer_key: str,
    consumer_secret: str,
    token: str | None = None,
    token_secret: str | None = None,
    verifier: str | None = None,
    method: str = "POST",
    nonce: str | None = None,
    timestamp: int | None = None,
    signature_method: str = "HMAC-SHA256",
) -> dict[str, str]:
    client = Client(
        consumer_key,
        client_secret=consumer_secret,
        resource_owner_key=token,
        resource_owner_secret=token_secret,
        verifier=verifier,
        signature_method=signature_method,
        nonce=nonce or uuid.uuid4().hex,
        timestamp=str(timestamp if timestamp is not None else int(time.time())),
    )
    _, headers, _ = client.sign(url, http_method=method)
    return dict(headers)


def problem(resp: requests.Response) -> str:
    """The decoded oauth_problem of an error answer (C6.4)."""
    from urllib.parse import parse_qs

    return parse_qs(resp.text)["oauth_problem"][0]


@dataclass
class Credentials:
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


def request_token(stack: Stack, key: str, secret: str, **kw: Any) -> requests.Response:
    url = f"{stack.base_url}oauth/token/request"
    return requests.post(url, headers=oauth_headers(url, key, secret, **kw), timeout=30)


def access_token(
    stack: Stack, key: str, secret: str, token: str, token_secret: str, verifier: str, **kw: Any
) -> requests.Response:
    url = f"{stack.base_url}oauth/token/access"
    return requests.post(
        url, headers=oauth_headers(url, key, secret, token, token_secret, verifier, **kw), timeout=30
    )


def parse_pair(resp: requests.Response) -> tuple[str, str]:
    from urllib.parse import parse_qs

    data = parse_qs(resp.text)
    return data["oauth_token"][0], data["oauth_token_secret"][0]


def handshake(
    stack: Stack, admin: AdminClient, integration_id: int, listener: Listener, reauthorize: bool = False
) -> Credentials:
    """Activate in the Admin, receive the POST, exchange request and access tokens (C5.3, C6)."""
    before = len(listener.posts)
    resp = admin.tokens_exchange(integration_id, reauthorize)
    assert resp.status_code == 200, resp.text
    assert len(listener.posts) == before + 1
    form = listener.posts[-1]["form"]
    r1 = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    assert r1.status_code == 200, r1.text
    token, token_secret = parse_pair(r1)
    r2 = access_token(
        stack,
        form["oauth_consumer_key"],
        form["oauth_consumer_secret"],
        token,
        token_secret,
        form["oauth_verifier"],
    )
    assert r2.status_code == 200, r2.text
    at, ats = parse_pair(r2)
    return Credentials(form["oauth_consumer_key"], form["oauth_consumer_secret"], at, ats)


def rest_get(
    stack: Stack,
    creds: Credentials,
    path: str,
    params: dict[str, str] | None = None,
    store: str | None = None,
    **kw: Any,
) -> requests.Response:
    prefix = f"rest/{store}/" if store else "rest/"
    url = f"{stack.base_url}{prefix}{path.lstrip('/')}"
    req = requests.Request("GET", url, params=params).prepare()
    headers = oauth_headers(
        req.url,
        creds.consumer_key,
        creds.consumer_secret,
        creds.access_token,
        creds.access_token_secret,
        method="GET",
        **kw,
    )
    return requests.get(req.url, headers=headers, timeout=30)
