"""Magento Admin session: login, keyed integration grid URL, tokensExchange (C5.2, C5.3).

Public API (stable):
    class AdminError(Exception)              message names the cause and the fix; never a secret
    class TwoFactorAuthRequired(AdminError)  the login lands on a two-factor page (C5.2)
    class AdminLoginFailed(AdminError)       Magento refused the user name or password
    class ActivationPostFailed(AdminError)   "The attempt to post data to consumer failed..." (C5.3)
    class TokensExchangeReply(identity_link_url, consumer_key)   consumer_key hidden from repr
    class AdminSession(base_url, front_name, username, password, *, timeout=30, verify=True)
        .login() -> str                      logs in; returns the landing page URL (the dashboard)
        .integration_grid_url() -> str       grid URL read from the landing page's menu (keyed or not)
        .tokens_exchange_template() -> str   tokensExchange URL template read from the grid (every JS escape
                                             decoded; a grid not understood is reported as that)
        .tokens_exchange(integration_id, reauthorize) -> TokensExchangeReply
        .close()                             (also on ``with`` exit)
    Pure helpers (unit-tested against the real 2.4.7 pages): parse_form_key(html), is_login_page(html),
    is_integration_grid(html), find_grid_url(html, front_name), find_tokens_exchange_template(html),
    error_messages(html), unescape_js(text)
A failed tokensExchange XHR answers 200 {"_redirect": url}; the error is on the page it names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
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
_USE_CLI = "use activation: cli (bin/magento integration:activate, no Admin login needed)"
_MAX_REDIRECTS = 5
_CAPTCHA_FIELD = "captcha[backend_login]"


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


# Escapes Magento's escapeJs (and json_encode) put into URLs: every \uXXXX (\u002F and \u003A in the grid's
# URL templates, recorded on 2.4.7), and \/ \' \" \\ in JSON and JS strings.
_JS_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|[/'\"\\])")
# Quoted strings of a page: JS literals (with their escapes) and HTML attribute values. One pattern per
# quote, each scanned on its own, so an apostrophe in text cannot hide a double-quoted href.
_QUOTED = (re.compile(r"'((?:[^'\\\n]|\\.)*)'"), re.compile(r'"((?:[^"\\\n]|\\.)*)"'))
_KEY = r"(?:key/[0-9A-Za-z]+/?)?"
# The grid link of the dashboard menu: /<front>/admin/integration/index/key/<k>/ with secret keys on,
# /<front>/admin/integration/ with admin/security/use_form_key = 0 (recorded on 2.4.7).
_GRID_TAIL = r"/admin/integration/(?:index/)?" + _KEY
_TOKENS_EXCHANGE_TAIL = r"/admin/integration/tokensExchange/id/:id/reauthorize/:isReauthorize/?" + _KEY


def unescape_js(text: str) -> str:
    """Undo the JS escaping Magento applies to URLs in pages: every ``\\uXXXX`` and ``\\/``."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if code[0] == "u" else code

    return _JS_ESCAPE.sub(one, text)


def _quoted_urls(html: str) -> Iterator[str]:
    """Every quoted string of a page, JS escapes and HTML entities decoded."""
    for quoted in _QUOTED:
        for match in quoted.finditer(html):
            raw = match.group(1)
            if "/" in raw or "\\" in raw:
                yield unescape(unescape_js(raw))


def _find_url(html: str, tail: str) -> str | None:
    pattern = re.compile(r"(?:https?://[^/\s]+)?(?:/[^\s'\"<>]*)?" + tail)
    for candidate in _quoted_urls(html):
        if pattern.fullmatch(candidate):
            return candidate
    return None


def find_grid_url(html: str, front_name: str) -> str | None:
    """The integration grid URL from an Admin page's menu, keyed or not (C5.2)."""
    return _find_url(html, "/" + re.escape(front_name.strip("/")) + _GRID_TAIL)


def find_tokens_exchange_template(html: str) -> str | None:
    """The tokensExchange URL template (``.../id/:id/reauthorize/:isReauthorize/[key/<k>/]``): one of the
    positional JS strings of ``new Integration(...)`` on the grid page."""
    return _find_url(html, _TOKENS_EXCHANGE_TAIL)


def is_integration_grid(html: str) -> bool:
    """The grid page itself: Magento's Integration widget is built on it."""
    return "new Integration(" in html


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
        verify: bool | str = True,
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
            if _CAPTCHA_FIELD in landing.text or any("CAPTCHA" in text for text in shown):
                # Magento_Captcha: after 3 failed logins for a user even the right password is refused
                # until a person answers the CAPTCHA (recorded on 2.4.7); retrying only adds failures.
                raise AdminLoginFailed(
                    f"the Admin login as {self._username!r} was refused{detail}: Magento asks for a CAPTCHA "
                    "for this user after failed logins, which automation cannot answer: log in once by hand "
                    "in a browser (answering it), or use activation: cli"
                )
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
        landed = urlsplit(page.url).path.split("/key/")[0]
        if _TFA_PATH.search(landed):
            raise TwoFactorAuthRequired(self._tfa_message(page.url))
        template = find_tokens_exchange_template(page.text)
        if not template and not is_integration_grid(page.text):
            # Magento redirects a refused grid URL (wrong secret key, no permission) to the dashboard.
            raise AdminError(
                f"GET of the integration grid landed on {landed}, not on the grid: the admin user needs "
                "the Magento_Integration::integrations resource, or the grid link's secret key was refused "
                "(or use activation: cli)"
            )
        if not template:
            raise AdminError(
                f"the integration grid at {landed} was not understood: it builds Magento's Integration "
                "widget but holds no URL template .../tokensExchange/id/:id/reauthorize/:isReauthorize/ "
                "(this Magento's grid differs from 2.4.7's): use activation: cli, and report the page"
            )
        self._grid_html = page.text
        return urljoin(page.url, template)

    def tokens_exchange(self, integration_id: int, reauthorize: bool) -> TokensExchangeReply:
        """Activate (C5.3): Magento POSTs the four fields to the endpoint inside this request."""
        template = self.tokens_exchange_template()
        url = template.replace(":id", str(int(integration_id))).replace(
            ":isReauthorize", "1" if reauthorize else "0"
        )
        # As the grid's integration.js sends it: an XHR. Magento then answers its redirects as
        # 200 JSON {"_redirect": url} instead of a 302 (recorded on 2.4.7).
        reply = self._request("GET", url, headers={"X-Requested-With": "XMLHttpRequest"})
        data = _json_object(reply) if reply.status_code == 200 else None
        if data is not None and "oauth_consumer_key" in data:
            return TokensExchangeReply(
                identity_link_url=data.get("identity_link_url"),
                consumer_key=str(data.get("oauth_consumer_key") or ""),
            )
        if data is not None and data.get("error"):
            raise AdminError(
                f"tokensExchange for integration {integration_id} was refused: {data.get('message')!s}; "
                "run again"
            )
        if data is not None and isinstance(data.get("_redirect"), str):
            page = self._follow(self._request("GET", urljoin(reply.url, data["_redirect"])))
        else:
            page = self._follow(reply)
        # On failure Magento sends the browser back to the grid and shows the error there (C5.3).
        shown = error_messages(page.text) if page.text else []
        if any(POST_TO_CONSUMER_FAILED in text for text in shown) or POST_TO_CONSUMER_FAILED in page.text:
            raise ActivationPostFailed(
                f"Magento could not deliver the activation POST ('{POST_TO_CONSUMER_FAILED}'): the "
                "integration's endpoint_url must reach the listener from the store (endpoint: self binds "
                "listen_address:listen_port; with a bridge network use host.docker.internal)"
            )
        if is_login_page(page.text):
            raise AdminError(
                "tokensExchange answered with the login form: the Admin session was lost; run again"
            )
        landed = urlsplit(page.url).path.split("/key/")[0]
        if "/dashboard" in landed:
            raise AdminError(
                f"tokensExchange for integration {integration_id} was sent back to the dashboard: Magento "
                "refused the URL's secret key (the session ended, e.g. another login as the same admin "
                "user); run again"
            )
        detail = f" ('{shown[0]}')" if shown else ""
        raise AdminError(
            f"tokensExchange for integration {integration_id} answered {reply.status_code}{detail} and "
            f"landed on {landed}: check the integration exists and the store's var/log/exception.log"
        )


def _json_object(reply: requests.Response) -> dict[str, Any] | None:
    try:
        data = reply.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
