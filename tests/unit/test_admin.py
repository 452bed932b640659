"""magento_admin against the Admin of a real 2.4.7-p3 store, replayed from its recordings (C5.2, C5.3).

replay_admin.ReplayAdmin answers each request with what the real store sent for it; a request the
recordings do not cover gets a 599, so a client that takes another path than the real Admin fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

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
    is_integration_grid,
    is_login_page,
    parse_form_key,
    unescape_js,
)
from recordings import recording
from replay_admin import ORIGIN, PASSWORD, RECORDED_KEY, ReplayAdmin

KEYED_LOGIN = ("login_page", "login_ok_1_post", "login_ok_2_get", "integrations_grid")
NOKEY_LOGIN = (
    "nokey_login_page",
    "nokey_login_ok_1_post",
    "nokey_login_ok_2_get",
    "nokey_login_ok_3_get",
    "nokey_integrations_grid",
)


@pytest.fixture
def replay(request: pytest.FixtureRequest) -> Iterator[ReplayAdmin]:
    names, edit = request.param if isinstance(request.param[0], tuple) else (request.param, None)
    store = ReplayAdmin(*names, edit=edit)
    yield store
    store.close()


def scenario(*names: str, edit: dict[str, tuple[str, str]] | None = None) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("replay", [(names, edit)], indirect=True, ids=[names[-1]])


# ---------- the pure parsers on the recorded pages ----------


def test_unescape_js_decodes_every_escape_of_the_real_grid() -> None:
    grid = recording("admin/integrations_grid.json").response.body
    line = next(line for line in grid.splitlines() if "tokensExchange" in line)
    assert "\\u003A" in line and "\\u002F" in line  # what defeated the slash-only decoder
    decoded = unescape_js(line)
    assert "\\u" not in decoded
    assert (
        "http://127.0.0.1:8180/admin/admin/integration/tokensExchange/id/:id/reauthorize/:isReauthorize/"
        in (decoded)
    )
    assert unescape_js('{"u":"http:\\/\\/h\\/a"}') == '{"u":"http://h/a"}'


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        (
            "admin/integrations_grid.json",
            ORIGIN + "/admin/admin/integration/tokensExchange/id/:id/reauthorize/:isReauthorize/key/"
            "9893ef19183afdaa482942e5a23fb6badb18eb33b8407b45fec126e4b9aca3f9/",
        ),
        (
            "admin/nokey_integrations_grid.json",
            ORIGIN + "/admin/admin/integration/tokensExchange/id/:id/reauthorize/:isReauthorize/",
        ),
    ],
    ids=["keyed", "use_form_key_0"],
)
def test_tokens_exchange_template_is_read_from_the_real_grid(grid: str, expected: str) -> None:
    page = recording(grid).response.body
    assert is_integration_grid(page)
    assert find_tokens_exchange_template(page) == expected


@pytest.mark.parametrize(
    ("dashboard", "expected"),
    [
        (
            "admin/login_ok_2_get.json",
            ORIGIN + "/admin/admin/integration/index/key/"
            "8008be126293413f72dc4f41eec5c14cf9d1f74e1fa6c0d8ddd293b638c9af3c/",
        ),
        ("admin/nokey_login_ok_3_get.json", ORIGIN + "/admin/admin/integration/"),
    ],
    ids=["keyed", "use_form_key_0"],
)
def test_grid_link_is_read_from_the_real_dashboard(dashboard: str, expected: str) -> None:
    page = recording(dashboard).response.body
    assert find_grid_url(page, "admin") == expected
    assert find_grid_url(page, "backoffice") is None


def test_login_page_form_key_and_error_texts_are_read_as_recorded() -> None:
    page = recording("admin/login_page.json").response.body
    assert is_login_page(page)
    key = parse_form_key(page)
    assert key and f"var FORM_KEY = '{key}'" in page
    bad = recording("admin/login_bad_1_post.json").response.body
    assert error_messages(bad) == [
        "The account sign-in was incorrect or your account is disabled temporarily. "
        "Please wait and try again later."
    ]
    failed = recording("admin/tokensExchange_nolistener_reauth0_2_get.json").response.body
    assert error_messages(failed) == [POST_TO_CONSUMER_FAILED]


# ---------- whole sessions against the replayed store ----------


@scenario(*KEYED_LOGIN, "tokensExchange_reauth0", "tokensExchange_reauth1")
def test_activation_on_the_real_admin_uses_the_grid_template(replay: ReplayAdmin) -> None:
    with replay.session() as session:
        landing = session.login()
        assert "/admin/admin/dashboard/index/key/" in landing
        first = session.tokens_exchange(1, reauthorize=False)
        again = session.tokens_exchange(1, reauthorize=True)
    assert first.consumer_key == RECORDED_KEY == again.consumer_key
    assert first.identity_link_url == "http://127.0.0.1:18099/identity"
    assert RECORDED_KEY not in repr(first)
    login_form = next(form for method, _, _, form in replay.requests if method == "POST")
    assert login_form["form_key"] == [parse_form_key(recording("admin/login_page.json").response.body)]
    exchanges = [(path, headers) for _, path, headers, _ in replay.requests if "tokensExchange" in path]
    assert [path.split("/key/")[0] for path, _ in exchanges] == [
        "/admin/admin/integration/tokensExchange/id/1/reauthorize/0",
        "/admin/admin/integration/tokensExchange/id/1/reauthorize/1",
    ]
    assert all(headers.get("X-Requested-With") == "XMLHttpRequest" for _, headers in exchanges)


@scenario(*NOKEY_LOGIN, "nokey_tokensExchange_reauth0")
def test_activation_with_secret_keys_off(replay: ReplayAdmin) -> None:
    with replay.session() as session:
        session.login()  # two hops: a relative Location: /admin/, then the dashboard
        reply = session.tokens_exchange(1, reauthorize=False)
    assert reply.consumer_key == RECORDED_KEY
    assert "/admin/admin/integration/tokensExchange/id/1/reauthorize/0/" in replay.paths()


@scenario(
    *KEYED_LOGIN,
    "tokensExchange_nolistener_reauth0_1_get",
    "tokensExchange_nolistener_reauth0_2_get",
)
def test_undelivered_post_is_read_from_the_grid_the_redirect_json_names(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(ActivationPostFailed) as caught:
        session.login()
        session.tokens_exchange(1, reauthorize=False)
    assert POST_TO_CONSUMER_FAILED in str(caught.value) and "endpoint_url" in str(caught.value)
    assert replay.paths()[-1].startswith("/admin/admin/integration/index/key/")  # the _redirect target


@scenario(
    *KEYED_LOGIN,
    "tokensExchange_nolistener_noxhr_reauth0_1_get",
    "tokensExchange_nolistener_noxhr_reauth0_2_get",
)
def test_undelivered_post_behind_a_plain_redirect(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(ActivationPostFailed):
        session.login()
        session.tokens_exchange(1, reauthorize=False)


# The recorded refusals were for a key of zeros: the grid hands the client that key here.
TEMPLATE_KEY = "9893ef19183afdaa482942e5a23fb6badb18eb33b8407b45fec126e4b9aca3f9"
ZERO_KEY = {"admin/integrations_grid.json": (TEMPLATE_KEY, "0" * 64)}


@scenario(*KEYED_LOGIN, "tokensExchange_wrong_key", "grid_wrong_key_2_get", edit=ZERO_KEY)
def test_refused_secret_key_on_tokens_exchange_is_named(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(AdminError) as caught:
        session.login()
        session.tokens_exchange(1, reauthorize=False)
    assert "secret key" in str(caught.value) and "Magento_Integration::integrations" not in str(caught.value)


@scenario(*KEYED_LOGIN, "tokensExchange_wrong_key_isAjax", edit=ZERO_KEY)
def test_refusal_as_json_error_is_passed_on(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(AdminError, match="invalid Secret Key"):
        session.login()
        session.tokens_exchange(1, reauthorize=False)


@scenario(
    *KEYED_LOGIN,
    edit={"admin/integrations_grid.json": ("tokensExchange\\u002Fid", "tokensSwap\\u002Fid")},
)
def test_a_grid_not_understood_is_reported_as_that_not_as_acl(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(AdminError) as caught:
        session.login()
        session.tokens_exchange_template()
    message = str(caught.value)
    assert "not understood" in message and "activation: cli" in message
    assert "Magento_Integration::integrations" not in message


@scenario("login_page", "login_ok_1_post", "login_ok_2_get", "grid_wrong_key_1_get", "grid_wrong_key_2_get")
def test_grid_that_lands_on_the_dashboard_is_not_read_as_the_grid(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(AdminError) as caught:
        session.login()
        session._grid_url = replay.base_url + "admin/admin/integration/index/key/" + "0" * 64 + "/"
        session.tokens_exchange_template()
    assert "landed on /admin/admin/dashboard" in str(caught.value)


@scenario("tfa_login_page", "tfa_login_ok_1_post", "tfa_login_ok_2_get", "tfa_login_ok_3_get")
def test_two_factor_auth_after_a_successful_password_login(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(TwoFactorAuthRequired) as caught:
        session.login()
    assert "activation: cli" in str(caught.value)
    assert replay.paths()[-1].startswith("/admin/tfa/tfa/requestconfig/")


@scenario("login_page", "login_bad_1_post")
def test_wrong_password_is_reported_without_the_password(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(AdminLoginFailed) as caught:
        session.login()
    message = str(caught.value)
    assert "sign-in was incorrect" in message and "admin_password" in message
    assert PASSWORD not in message


@scenario("login_page", "captcha_right_password_no_captcha")
def test_captcha_after_failed_logins_is_named(replay: ReplayAdmin) -> None:
    with replay.session() as session, pytest.raises(AdminLoginFailed) as caught:
        session.login()
    message = str(caught.value)
    assert "CAPTCHA" in message and "activation: cli" in message


@scenario("login_page")
def test_wrong_front_name_is_reported(replay: ReplayAdmin) -> None:
    session = AdminSession(replay.base_url, "backoffice", "admin", PASSWORD, timeout=5)
    with session, pytest.raises(AdminError, match="frontName"):
        session.login()


def test_recorded_tokens_exchange_reply_is_the_json_the_client_reads() -> None:
    reply = recording("admin/tokensExchange_reauth0.json")
    assert list(reply.json()) == ["identity_link_url", "oauth_consumer_key", "popup_content"]
    assert "\\/" in reply.response.body  # json_encode escapes slashes; .json() undoes it
    assert json.loads(recording("admin/tokensExchange_nolistener_reauth0_1_get.json").response.body) == {
        "_redirect": recording("admin/tokensExchange_nolistener_reauth0_2_get.json").url
    }
