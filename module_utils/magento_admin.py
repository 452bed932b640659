"""Magento Admin session: login, keyed integration grid URL, tokensExchange (C5.2, C5.3).

Public API (stable):
    class AdminError(Exception)              message names the cause and the fix; never a secret
    class TwoFactorAuthRequired(AdminError)  the login lands on a two-factor page (C5.2)
    class AdminLoginFailed(AdminError)       Magento refused the user name or password
    class ActivationPostFailed(AdminError)   "The attempt to post data to consumer failed..." (C5.3)
    class TokensExchangeReply(identity_link_url, consumer_key)   consumer_key hidden from repr
    class AdminSession(base_url, front_name, username, password, *, timeout=30, verify=True)
        .login() -> str                      logs in; returns the landing page URL (the dashboard)
        .integration_grid_url() -> str       keyed grid URL read from the landing page's menu
        .tokens_exchange_template() -> str   keyed tokensExchange URL template read from the grid
        .tokens_exchange(integration_id, reauthorize) -> TokensExchangeReply
        .close()                             (also on ``with`` exit)
    Pure helpers (unit-tested): parse_form_key(html), is_login_page(html), find_grid_url(html, front_name),
    find_tokens_exchange_template(html), error_messages(html), unescape_js(text)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

# A missing library is reported by the module's main() (magento_requirements), not by a traceback here.
try:
    import requests

    HAS_REQUESTS = True
except ImportError:
    requests = None  # type: ignore[assignment]
    HAS_REQUESTS = False

# C5.3 Magento's own text when the activation POST could not be delivered.
POST_TO_CONSUMER_FAILED = (
    "The attempt to post data to consumer failed due to an unexpected error. Please try again later."
)
# Magento_TwoFactorAuth routes (frontName tfa) that an admin login lands on when 2FA is on (C5.2).
_TFA_PATH = re.compile(r"/tfa/")
_GRID_PATH = "admin/integration/index/key/"
_TOKENS_EXCHANGE = re.compile(
    r"""[^"'\s<>\\]*?/admin/integration/tokensExchange/id/:id/reauthorize/:isReauthorize/key/[0-9A-Za-z]+/?"""
)
_USE_CLI = "use activation: cli (bin/magento integration:activate, no Admin login needed)"
_MAX_REDIRECTS = 5


class AdminError(Exception):
    """An Admin step failed. The message names the cause and the fix."""


class TwoFactorAuthRequired(AdminError):
    pass


class AdminLoginFailed(AdminError):
    pass


class ActivationPostFailed(AdminError):
    pass


@dataclass(frozen=True)
class TokensExchangeReply:
    identity_link_url: str | None
    consumer_key: str = field(default="", repr=False)


class _PageParser(HTMLParser):
    """Collects the form_key input, login fields and the texts of Magento's error messages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.form_key: str | None = None
        self.input_names: set[str] = set()
        self.errors: list[str] = []
        self._error_depth = 0
        self._depth = 0
        self._error_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "input":
            name = values.get("name", "")
            self.input_names.add(name)
            if name == "form_key" and self.form_key is None:
                self.form_key = values.get("value") or None
            return
        if tag in {"br", "img", "meta", "link", "hr"}:
            return
        self._depth += 1
        classes = values.get("class", "").split()
        if not self._error_depth and (
            "message-error" in classes or "messages-message-error" in values.get("data-ui-id", "")
        ):
            self._error_depth = self._depth
            self._error_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"br", "img", "meta", "link", "hr", "input"}:
            return
        if self._error_depth and self._depth == self._error_depth:
            text = " ".join("".join(self._error_text).split())
            if text:
                self.errors.append(text)
            self._error_depth = 0
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._error_depth:
            self._error_text.append(data)


def _parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def parse_form_key(html: str) -> str | None:
    """The hidden ``form_key`` of an Admin page (C5.2)."""
    return _parse(html).form_key


def is_login_page(html: str) -> bool:
    """True for Magento's Admin login form (it has ``login[username]``)."""
    return "login[username]" in _parse(html).input_names


def error_messages(html: str) -> list[str]:
    """Texts of Magento's error messages on a page (``message-error`` blocks)."""
    return _parse(html).errors


def unescape_js(text: str) -> str:
    """Undo the JS escaping Magento applies to URLs in pages (``\\u002F``, ``\\/``)."""
    return text.replace("\\u002F", "/").replace("\\u002f", "/").replace("\\/", "/")


def find_grid_url(html: str, front_name: str) -> str | None:
    """The keyed integration grid URL from an Admin page's menu (C5.2)."""
    pattern = re.compile(
        r"""[^"'\s<>\\]*?/"""
        + re.escape(front_name.strip("/"))
        + "/"
        + re.escape(_GRID_PATH)
        + r"[0-9A-Za-z]+/?"
    )
    match = pattern.search(unescape_js(html))
    return match.group(0) if match else None


def find_tokens_exchange_template(html: str) -> str | None:
    """The keyed tokensExchange URL template (``.../id/:id/reauthorize/:isReauthorize/key/<k>/``)."""
    match = _TOKENS_EXCHANGE.search(unescape_js(html))
    return match.group(0) if match else None


class AdminSession:
    """One Admin session. Keeps cookies; never logs or raises with the password or a key."""

    def __init__(
        self,
        base_url: str,
        front_name: str,
        username: str,
        password: str,
        *,
        timeout: float = 30,
        verify: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.front_name = front_name.strip("/")
        self.admin_url = self.base_url + self.front_name + "/"
        self._username = username
        self._password = password
        self._timeout = timeout
        self._http = requests.Session()
        self._http.verify = verify
        self._landing_url: str | None = None
        self._landing_html = ""
        self._grid_url: str | None = None
        self._grid_html = ""

    def __repr__(self) -> str:
        return f"AdminSession(admin_url={self.admin_url!r})"

    def __enter__(self) -> AdminSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._http.request(method, url, timeout=self._timeout, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise AdminError(
                f"{method} {url.split('/key/')[0]} failed ({type(exc).__name__}): check that base_url "
                "reaches the store from this host"
            ) from None

    def _follow(self, reply: requests.Response) -> requests.Response:
        """Follow up to 5 redirects with GET (the way a browser does after a login POST)."""
        for _ in range(_MAX_REDIRECTS):
            if reply.status_code not in (301, 302, 303, 307, 308) or "Location" not in reply.headers:
                return reply
            reply = self._request("GET", urljoin(reply.url, reply.headers["Location"]))
        raise AdminError(f"more than {_MAX_REDIRECTS} redirects from {self.admin_url}: check base_url")

    def login(self) -> str:
        """GET the login form, POST the credentials, land on the dashboard (C5.2)."""
        page = self._follow(self._request("GET", self.admin_url))
        if page.status_code != 200:
            raise AdminError(
                f"GET {self.admin_url} answered {page.status_code}: check base_url and backend.frontName "
                "(app/etc/env.php)"
            )
        if _TFA_PATH.search(urlsplit(page.url).path):
            raise TwoFactorAuthRequired(self._tfa_message(page.url))
        form_key = parse_form_key(page.text)
        if not is_login_page(page.text) or not form_key:
            raise AdminError(
                f"{self.admin_url} is not Magento's Admin login form: check base_url and backend.frontName "
                "(app/etc/env.php)"
            )
        form = {"form_key": form_key, "login[username]": self._username, "login[password]": self._password}
        landing = self._follow(self._request("POST", self.admin_url, data=form))
        path = urlsplit(landing.url).path
        if _TFA_PATH.search(path):
            raise TwoFactorAuthRequired(self._tfa_message(landing.url))
        if is_login_page(landing.text):
            shown = error_messages(landing.text)
            detail = f" ('{shown[0]}')" if shown else ""
            raise AdminLoginFailed(
                f"the Admin login as {self._username!r} was refused{detail}: check admin_username and "
                "admin_password (the account may also be locked after failed attempts)"
            )
        if landing.status_code != 200:
            raise AdminError(
                f"after login the Admin answered {landing.status_code} at {path}: check the store's logs"
            )
        self._landing_url, self._landing_html = landing.url, landing.text
        if "/dashboard/" not in path and not find_grid_url(landing.text, self.front_name):
            raise TwoFactorAuthRequired(
                f"after login the Admin showed {path.split('/key/')[0]}, not the dashboard: two-factor auth "
                f"or another module intercepts the Admin login: {_USE_CLI}"
            )
        return landing.url

    def _tfa_message(self, url: str) -> str:
        return (
            f"the Admin login lands on the two-factor auth page ({urlsplit(url).path.split('/key/')[0]}): "
            f"Magento_TwoFactorAuth blocks automated Admin logins: {_USE_CLI}"
        )

    def integration_grid_url(self) -> str:
        if self._landing_url is None:
            self.login()
        url = find_grid_url(self._landing_html, self.front_name)
        if not url:
            raise AdminError(
                "the Admin dashboard has no link to System > Integrations: the admin user needs the "
                "Magento_Integration::integrations resource (or use activation: cli)"
            )
        self._grid_url = urljoin(self._landing_url or self.admin_url, url)
        return self._grid_url

    def tokens_exchange_template(self) -> str:
        grid_url = self._grid_url or self.integration_grid_url()
        page = self._follow(self._request("GET", grid_url))
        if page.status_code != 200 or is_login_page(page.text):
            raise AdminError(
                f"the integration grid answered {page.status_code}"
                f"{' with the login form' if is_login_page(page.text) else ''}: the Admin session was lost; "
                "run again"
            )
        template = find_tokens_exchange_template(page.text)
        if not template:
            raise AdminError(
                "the integration grid carries no tokensExchange URL: the admin user needs the "
                "Magento_Integration::integrations resource (or use activation: cli)"
            )
        self._grid_html = page.text
        return urljoin(page.url, template)

    def tokens_exchange(self, integration_id: int, reauthorize: bool) -> TokensExchangeReply:
        """Activate (C5.3): Magento POSTs the four fields to the endpoint inside this request."""
        template = self.tokens_exchange_template()
        url = template.replace(":id", str(int(integration_id))).replace(
            ":isReauthorize", "1" if reauthorize else "0"
        )
        reply = self._request("GET", url, headers={"X-Requested-With": "XMLHttpRequest"})
        if reply.status_code == 200:
            try:
                data = reply.json()
            except ValueError:
                data = None
            if isinstance(data, dict) and "oauth_consumer_key" in data:
                return TokensExchangeReply(
                    identity_link_url=data.get("identity_link_url"),
                    consumer_key=str(data.get("oauth_consumer_key") or ""),
                )
        # On failure Magento redirects to the grid and shows the error there (C5.3).
        page = self._follow(reply)
        shown = error_messages(page.text) if page.text else []
        if POST_TO_CONSUMER_FAILED in page.text or any(POST_TO_CONSUMER_FAILED in text for text in shown):
            raise ActivationPostFailed(
                f"Magento could not deliver the activation POST ('{POST_TO_CONSUMER_FAILED}'): the "
                "integration's endpoint_url must reach the listener from the store (endpoint: self binds "
                "listen_address:listen_port; with a bridge network use host.docker.internal)"
            )
        if is_login_page(page.text):
            raise AdminError(
                "tokensExchange answered with the login form: the Admin session was lost; run again"
            )
        detail = f" ('{shown[0]}')" if shown else ""
        raise AdminError(
            f"tokensExchange for integration {integration_id} answered {reply.status_code}{detail}: "
            "check the integration exists and the store's var/log/exception.log"
        )
