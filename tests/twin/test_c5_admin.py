"""C5: Admin login, keyed URLs, the grid's URL templates and tokensExchange with its endpoint POST."""

from __future__ import annotations

import re
import time

import pytest
import requests
from twin_clients import AdminClient, handshake, problem, request_token
from twin_support import Listener, dead_endpoint

pytestmark = pytest.mark.docker

POST_FAILED = (
    "The attempt to post data to consumer failed due to an unexpected error. Please try again later."
)


def test_c5_2_login_form_key_cookie_and_redirect(stack):
    """C5.2: GET /<frontName>/ -> hidden form_key + `admin` cookie; POST -> 302 to the keyed dashboard."""
    admin = AdminClient(stack)
    page = admin.login_page()
    assert page.status_code == 200
    assert re.search(r'<input name="form_key" type="hidden" value="[A-Za-z0-9]+"', page.text)
    assert "admin" in admin.http.cookies
    resp = admin.login()
    assert resp.status_code == 302
    assert re.search(r"/admin/dashboard/index/key/[0-9a-f]+/$", resp.headers["Location"])
    dashboard = admin.http.get(resp.headers["Location"], timeout=30)
    assert dashboard.status_code == 200
    assert re.search(r'href="[^"]*/admin/integration/index/key/[0-9a-f]+/"', dashboard.text)


def test_c5_2_wrong_password_stays_on_login(stack):
    """C5.2: wrong credentials give no redirect to the dashboard."""
    admin = AdminClient(stack, password="wrong-password")
    resp = admin.login()
    assert resp.status_code == 200
    assert 'name="form_key"' in resp.text
    assert "The account sign-in was incorrect" in resp.text


def test_c5_2_grid_carries_js_escaped_templates(stack):
    """C5.2: the grid's `new Integration(...)` carries the tokensExchange URL template as its third
    positional argument, JS-escaped with both \\u002F and \\u003A, with :id and :isReauthorize."""
    admin = AdminClient(stack)
    grid = admin.grid()
    m = re.search(r"new Integration\(\s*'[^']*',\s*'[^']*',\s*'([^']*)'", grid)
    assert m
    raw = m.group(1)
    assert raw.startswith("http\\u003A\\u002F\\u002F")
    assert "/" not in raw and ":" not in raw
    assert re.search(
        r"/admin/integration/tokensExchange/id/:id/reauthorize/:isReauthorize/key/[0-9a-f]{64}/$",
        raw.replace("\\u002F", "/").replace("\\u003A", ":"),
    )


def test_c5_2_admin_url_without_valid_key_redirects_to_dashboard(stack):
    """C5.2: every admin GET needs the session's secret key; without it -> redirect to the dashboard."""
    admin = AdminClient(stack)
    admin.login()
    grid = admin.grid_url()
    wrong = re.sub(r"/key/[0-9a-f]+/", "/key/" + "0" * 64 + "/", grid)
    resp = admin.http.get(wrong, allow_redirects=False, timeout=30)
    assert resp.status_code == 302
    assert resp.headers["Location"] == admin.dashboard_url
    other = AdminClient(stack)
    other.login()
    assert other.grid_url() != grid  # keys are per session


def test_c5_3_tokens_exchange_posts_synchronously(stack, make_integration, listener):
    """C5.3: the form POST reaches the endpoint inside the request; JSON reply; verifier row; updated_at."""
    row = make_integration(endpoint=listener.url)
    stack.execute(
        f"UPDATE {stack.t('oauth_consumer')} SET updated_at = UTC_TIMESTAMP() - INTERVAL 1 DAY "
        f"WHERE entity_id=%s",
        (row["consumer_id"],),
    )
    admin = AdminClient(stack)
    admin.grid()
    resp = admin.tokens_exchange(row["integration_id"])
    assert resp.status_code == 200
    assert len(listener.posts) == 1  # already there when the reply arrives: synchronous
    post = listener.posts[0]
    assert post["content_type"].startswith("application/x-www-form-urlencoded")
    assert sorted(post["form"]) == [
        "oauth_consumer_key",
        "oauth_consumer_secret",
        "oauth_verifier",
        "store_base_url",
    ]
    assert post["form"]["store_base_url"] == stack.base_url
    consumer = stack.query(
        f"SELECT * FROM {stack.t('oauth_consumer')} WHERE entity_id=%s", (row["consumer_id"],)
    )[0]
    assert post["form"]["oauth_consumer_key"] == consumer["key"]
    assert (
        post["form"]["oauth_consumer_secret"] != consumer["secret"]
    )  # plain over the wire, encrypted at rest
    body = resp.json()
    assert set(body) == {"identity_link_url", "oauth_consumer_key", "popup_content"}
    assert body["oauth_consumer_key"] == consumer["key"]
    assert body["identity_link_url"] == row["identity_link_url"]
    tokens = stack.query(
        f"SELECT * FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )
    assert [(t["type"], t["verifier"]) for t in tokens] == [("verifier", post["form"]["oauth_verifier"])]
    age = stack.query(
        f"SELECT TIMESTAMPDIFF(SECOND, updated_at, UTC_TIMESTAMP()) AS age FROM {stack.t('oauth_consumer')} "
        "WHERE entity_id=%s",
        (row["consumer_id"],),
    )[0]["age"]
    assert age < 60
    # status is unchanged by tokensExchange with reauthorize=0 (C5.4)
    assert (
        stack.query(
            f"SELECT status FROM {stack.t('integration')} WHERE integration_id=%s", (row["integration_id"],)
        )[0]["status"]
        == row["status"]
    )


def test_c5_3_endpoint_response_ignored_and_no_redirects(stack, make_integration):
    """C5.3: a 500 or a redirect from the endpoint is ignored; the redirect is not followed."""
    for status in (500, 302):
        lst = Listener(status=status)
        try:
            row = make_integration(endpoint=lst.url)
            resp = AdminClient(stack).tokens_exchange(row["integration_id"])
            assert resp.status_code == 200, status
            assert len(lst.posts) == 1
        finally:
            lst.close()


def test_c5_3_reuses_verifier_row(stack, make_integration, listener):
    """C5.3: a second Activate reuses the existing verifier row (same verifier posted)."""
    row = make_integration(endpoint=listener.url)
    admin = AdminClient(stack)
    admin.tokens_exchange(row["integration_id"])
    admin.tokens_exchange(row["integration_id"])
    assert listener.posts[0]["form"]["oauth_verifier"] == listener.posts[1]["form"]["oauth_verifier"]
    rows = stack.query(
        f"SELECT type FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )
    assert [r["type"] for r in rows] == ["verifier"]


def test_c5_3_post_failure_message(stack, make_integration):
    """C5.3: undeliverable POST -> the XHR gets 200 {"_redirect": <grid>}, the grid then shows Magento's
    failure text; the verifier row still exists."""
    row = make_integration(endpoint=dead_endpoint())
    admin = AdminClient(stack)
    resp = admin.tokens_exchange(row["integration_id"])
    assert resp.status_code == 200
    assert list(resp.json()) == ["_redirect"]
    grid = admin.http.get(resp.json()["_redirect"], timeout=30).text
    assert POST_FAILED in grid
    rows = stack.query(
        f"SELECT type FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )
    assert [r["type"] for r in rows] == ["verifier"]


def test_c5_3_endpoint_timeout_is_5_seconds(stack, make_integration):
    """C5.3: the POST times out after 5 s (an endpoint answering after 7 s counts as a failure)."""
    lst = Listener(delay=7)
    try:
        row = make_integration(endpoint=lst.url)
        admin = AdminClient(stack)
        admin.grid()
        started = time.monotonic()
        resp = admin.tokens_exchange(row["integration_id"])
        elapsed = time.monotonic() - started
        assert resp.status_code == 200 and list(resp.json()) == ["_redirect"]
        assert 4.5 < elapsed < 6.9
    finally:
        lst.close()


def test_c5_3_reauthorize_deletes_token_and_resets_status(stack, make_integration, listener):
    """C5.3/C5.4: reauthorize=1 deletes the integration token and sets status 0; access sets 1."""
    row = make_integration(endpoint=listener.url)
    admin = AdminClient(stack)
    old = handshake(stack, admin, row["integration_id"], listener)
    status = lambda: stack.query(  # noqa: E731
        f"SELECT status FROM {stack.t('integration')} WHERE integration_id=%s", (row["integration_id"],)
    )[0]["status"]
    assert status() == 1
    assert admin.tokens_exchange(row["integration_id"], reauthorize=True).status_code == 200
    assert status() == 0
    rows = stack.query(
        f"SELECT type, token FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )
    assert [r["type"] for r in rows] == ["verifier"]
    assert old.access_token not in [r["token"] for r in rows]
    form = listener.posts[-1]["form"]
    assert request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"]).status_code == 200
    assert status() == 0  # C5.4: only /access sets 1


def test_c5_4_deleting_tokens_by_hand_keeps_status(stack, make_integration, listener):
    """C5.4: deleting the token rows by hand does not reset the status; tokensExchange(0) keeps it."""
    row = make_integration(endpoint=listener.url)
    admin = AdminClient(stack)
    handshake(stack, admin, row["integration_id"], listener)
    stack.execute(f"DELETE FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],))
    assert admin.tokens_exchange(row["integration_id"]).status_code == 200
    assert (
        stack.query(
            f"SELECT status FROM {stack.t('integration')} WHERE integration_id=%s", (row["integration_id"],)
        )[0]["status"]
        == 1
    )


def test_c5_1_without_endpoint_admin_mints_tokens(stack, make_integration, listener):
    """C5.1: no identity_link_url -> Activate (the grid's tokensDialog, as integration.js opens it for a row
    without token exchange) mints the tokens itself and calls nothing."""
    row = make_integration(endpoint=listener.url, identity=None)
    admin = AdminClient(stack)
    url = admin.templates()["tokensDialog"].replace(":id", str(row["integration_id"]))
    resp = admin.http.get(url.replace(":isReauthorize", "0"), timeout=30)
    assert resp.status_code == 200
    assert listener.posts == []
    rows = stack.query(
        f"SELECT type FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )
    assert [r["type"] for r in rows] == ["access"]
    assert (
        stack.query(
            f"SELECT status FROM {stack.t('integration')} WHERE integration_id=%s", (row["integration_id"],)
        )[0]["status"]
        == 1
    )


def test_c5_5_core_has_no_cli_or_rest_activation(stack, helper_disabled):
    """C5.5: without the helper module there is no `integration:activate` command and no REST route."""
    res = stack.magento("integration:activate", "anything")
    assert res.rc == 1
    assert 'Command "integration:activate" is not defined.' in res.err
    resp = requests.post(f"{stack.base_url}rest/V1/integration/activate", timeout=30)
    assert resp.status_code == 404
    assert stack.rest_error(resp) == {"message": "Request does not match any route."}
    assert problem  # the OAuth endpoints stay the only token source


def test_c3_4_config_integration_cannot_be_deleted_in_admin(stack, make_integration):
    """C3.4: deleting a config-made integration in the Admin is refused."""
    row = make_integration()
    admin = AdminClient(stack)
    grid = admin.grid()
    url = re.search(
        rf"setAttribute\('data-url', '([^']*/integration/delete/id/{row['integration_id']}/[^']*)'\)", grid
    ).group(1)
    form_key = re.search(r"var FORM_KEY = '([^']+)'", grid).group(1)
    resp = admin.http.post(url, data={"form_key": form_key}, allow_redirects=False, timeout=30)
    assert resp.status_code == 302
    page = admin.http.get(resp.headers["Location"], timeout=30).text
    assert f"Uninstall the extension to remove integration &#039;{row['name']}&#039;." in page
    assert stack.query(
        f"SELECT 1 FROM {stack.t('integration')} WHERE integration_id=%s", (row["integration_id"],)
    )


def test_c5_3_endpoint_can_call_back_during_the_post(stack, make_integration):
    """C5.3/C6: an endpoint that exchanges the tokens while Magento's POST is still open succeeds."""
    import threading
    import urllib.parse
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from twin_clients import access_token, parse_pair

    results: list[int] = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            key, secret = form["oauth_consumer_key"], form["oauth_consumer_secret"]
            r1 = request_token(stack, key, secret)
            token, token_secret = parse_pair(r1)
            results.append(
                access_token(stack, key, secret, token, token_secret, form["oauth_verifier"]).status_code
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        row = make_integration(endpoint=f"http://127.0.0.1:{server.server_address[1]}/cb")
        assert AdminClient(stack).tokens_exchange(row["integration_id"]).status_code == 200
        assert results == [200]
        status = stack.query(
            f"SELECT status FROM {stack.t('integration')} WHERE integration_id=%s", (row["integration_id"],)
        )[0]["status"]
        assert status == 1
    finally:
        server.shutdown()
        server.server_close()
