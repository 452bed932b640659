"""magento_admin against a stdlib fake of the Admin's observable surface (C5.2, C5.3): form_key and
cookie login, 302 to the dashboard, keyed grid link, JS-escaped tokensExchange template, the synchronous
endpoint POST, two-factor auth, bad credentials, the "post data to consumer failed" message."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest
from ansible.module_utils.magento_admin import (
    POST_TO_CONSUMER_FAILED,
    ActivationPostFailed,
    AdminError,
    AdminLoginFailed,
    AdminSession,
    TwoFactorAuthRequired,
    error_messages,
    find_grid_url,
    find_tokens_exchange_template,
    parse_form_key,
)
from local_http import LocalHTTPServer

PASSWORD = "Admin12345!"
FORM_KEY = "Fk0123456789abcd"
BAD_LOGIN = (
    "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
)

LOGIN_PAGE = """<!doctype html><html><body>
{messages}
<form method="post" action="" id="login-form">
  <input name="form_key" type="hidden" value="{form_key}" />
  <input id="username" class="admin__control-text" type="text" name="login[username]" />
  <input id="login" class="admin__control-text" type="password" name="login[password]" />
</form></body></html>"""
ERROR_BLOCK = (
    '<div class="messages"><div class="message message-error error">'
    '<div data-ui-id="messages-message-error">{text}</div></div></div>'
)


class FakeAdmin:
    def __init__(self, two_factor: bool = False, endpoint_down: bool = False) -> None:
        self.two_factor = two_factor
        self.endpoint_down = endpoint_down
        self.exchanges: list[tuple[int, int, str | None]] = []
        self.grid_message: str | None = None
        self.login_posts: list[dict[str, list[str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _logged_in(self) -> bool:
                return "admin=logged-in" in (self.headers.get("Cookie") or "")

            def _login_page(self, messages: str = "") -> None:
                page = LOGIN_PAGE.format(messages=messages, form_key=FORM_KEY)
                self._send(200, page, {"Set-Cookie": "admin=anonymous; path=/admin"})

            def do_GET(self) -> None:
                base = fake.base_url
                path = self.path
                if not path.startswith("/admin/"):
                    self._send(404, "<h1>404 Not Found</h1>")  # the storefront's no-route page
                elif path == "/admin/":
                    self._login_page()
                elif not self._logged_in():
                    self._login_page()
                elif path == "/admin/admin/dashboard/index/key/d4sh/":
                    self._send(
                        200,
                        '<nav><a href="'
                        + base
                        + 'admin/admin/integration/index/key/9r1d/">Integrations</a></nav>'
                        "<h1>Dashboard</h1>",
                    )
                elif path == "/admin/tfa/tfa/index/key/7fa/":
                    self._send(200, "<h1>Two-Factor Authentication</h1>")
                elif path == "/admin/admin/integration/index/key/9r1d/":
                    messages = ERROR_BLOCK.format(text=fake.grid_message) if fake.grid_message else ""
                    fake.grid_message = None
                    template = (
                        base
                        + "admin/admin/integration/tokensExchange/id/:id/reauthorize/:isReauthorize/key/t0k/"
                    ).replace("/", "\\u002F")
                    self._send(
                        200,
                        messages + '<script type="text/x-magento-init">{"*":{"integration":{'
                        '"tokensExchangeUrl":"' + template + '"}}}</script>',
                    )
                elif m := re.fullmatch(
                    r"/admin/admin/integration/tokensExchange/id/(\d+)/reauthorize/([01])/key/t0k/", path
                ):
                    fake.exchanges.append((int(m[1]), int(m[2]), self.headers.get("X-Requested-With")))
                    if fake.endpoint_down:
                        fake.grid_message = POST_TO_CONSUMER_FAILED
                        self._send(302, "", {"Location": base + "admin/admin/integration/index/key/9r1d/"})
                        return
                    body = {
                        "identity_link_url": "http://127.0.0.1:8099/identity",
                        "oauth_consumer_key": "k" * 32,
                        "popup_content": "<div/>",
                    }
                    self._send(200, json.dumps(body), {"Content-Type": "application/json"})
                else:
                    self._send(404, "not found")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                fake.login_posts.append(form)
                good = (
                    self.path == "/admin/"
                    and form.get("form_key") == [FORM_KEY]
                    and form.get("login[username]") == ["admin"]
                    and form.get("login[password]") == [PASSWORD]
                )
                if not good:
                    self._login_page(ERROR_BLOCK.format(text=BAD_LOGIN))
                    return
                target = (
                    "admin/tfa/tfa/index/key/7fa/"
                    if fake.two_factor
                    else "admin/admin/dashboard/index/key/d4sh/"
                )
                self._send(
                    302,
                    "",
                    {"Location": fake.base_url + target, "Set-Cookie": "admin=logged-in; path=/admin"},
                )

        self.server = LocalHTTPServer(Handler)
        self.base_url = self.server.base_url

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def admin() -> Iterator[FakeAdmin]:
    fake = FakeAdmin()
    yield fake
    fake.close()


def _session(fake: FakeAdmin, password: str = PASSWORD) -> AdminSession:
    return AdminSession(fake.base_url, "admin", "admin", password, timeout=5)


def test_login_posts_form_key_and_lands_on_the_dashboard(admin: FakeAdmin) -> None:
    with _session(admin) as session:
        landing = session.login()
    assert landing.endswith("/admin/admin/dashboard/index/key/d4sh/")
    assert admin.login_posts[0]["form_key"] == [FORM_KEY]


def test_tokens_exchange_uses_the_keyed_template_with_id_and_reauthorize(admin: FakeAdmin) -> None:
    with _session(admin) as session:
        session.login()
        assert session.integration_grid_url().endswith("/admin/admin/integration/index/key/9r1d/")
        reply = session.tokens_exchange(7, reauthorize=True)
        session.tokens_exchange(7, reauthorize=False)
    assert admin.exchanges == [(7, 1, "XMLHttpRequest"), (7, 0, "XMLHttpRequest")]
    assert reply.identity_link_url == "http://127.0.0.1:8099/identity"
    assert reply.consumer_key == "k" * 32 and "k" * 32 not in repr(reply)


def test_two_factor_auth_is_a_typed_error_pointing_at_cli(admin: FakeAdmin) -> None:
    admin.two_factor = True
    with _session(admin) as session, pytest.raises(TwoFactorAuthRequired) as caught:
        session.login()
    assert "activation: cli" in str(caught.value) and "two-factor" in str(caught.value)


def test_bad_credentials_are_reported_without_the_password(admin: FakeAdmin) -> None:
    with _session(admin, "wrong-password") as session, pytest.raises(AdminLoginFailed) as caught:
        session.login()
    message = str(caught.value)
    assert "admin_password" in message and "sign-in was incorrect" in message
    assert "wrong-password" not in message


def test_undeliverable_post_is_reported_with_magentos_text(admin: FakeAdmin) -> None:
    admin.endpoint_down = True
    with _session(admin) as session, pytest.raises(ActivationPostFailed) as caught:
        session.login()
        session.tokens_exchange(3, reauthorize=False)
    assert POST_TO_CONSUMER_FAILED in str(caught.value)
    assert "endpoint_url" in str(caught.value)


def test_wrong_front_name_is_reported(admin: FakeAdmin) -> None:
    session = AdminSession(admin.base_url, "backoffice", "admin", PASSWORD, timeout=5)
    with session, pytest.raises(AdminError, match="frontName"):
        session.login()


def test_parsers_on_real_shaped_markup() -> None:
    assert parse_form_key(LOGIN_PAGE.format(messages="", form_key="abc")) == "abc"
    assert parse_form_key('<input value="xyz" type="hidden" name="form_key">') == "xyz"
    assert error_messages(ERROR_BLOCK.format(text=BAD_LOGIN)) == [BAD_LOGIN]
    page = '<a href="http://s.test/admin/admin/integration/index/key/0abc/">x</a>'
    assert find_grid_url(page, "admin") == "http://s.test/admin/admin/integration/index/key/0abc/"
    assert find_grid_url(page, "backend") is None
    escaped = (
        '"url":"https:\\/\\/s.test\\/admin\\/admin\\/integration\\/tokensExchange\\/id\\/:id'
        '\\/reauthorize\\/:isReauthorize\\/key\\/ff00\\/"'
    )
    assert (
        find_tokens_exchange_template(escaped)
        == "https://s.test/admin/admin/integration/tokensExchange/id/:id/reauthorize/:isReauthorize/key/ff00/"
    )
