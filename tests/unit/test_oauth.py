"""magento_oauth: header-only HMAC-SHA256 signatures over the base URL (C6.1, C6.2), token replies (C6.3),
every C6.4 problem text mapped to a hint, C7.2 REST errors, no secret in errors or reprs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest
from ansible.module_utils.magento_credentials import Credentials
from ansible.module_utils.magento_oauth import (
    OAuthProblem,
    OAuthTransportError,
    RestError,
    Token,
    access_token,
    parse_token_reply,
    probe,
    request_token,
    rest_url,
    signed_request,
)
from local_http import LocalHTTPServer

CONSUMER_KEY = "ck" + "a" * 30
CONSUMER_SECRET = "cs" + "b" * 30
REQUEST_TOKEN = "rt" + "c" * 30
REQUEST_SECRET = "rs" + "d" * 30
VERIFIER = "vf" + "e" * 30
ACCESS_TOKEN = "at" + "f" * 30
ACCESS_SECRET = "as" + "g" * 30


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def parse_oauth_header(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header[len("OAuth ") :])}


def expected_signature(
    method: str, base_uri: str, query: str, params: dict[str, str], consumer_secret: str, token_secret: str
) -> str:
    """RFC 5849 §3.4 computed independently of oauthlib, with HMAC-SHA256 (C6.2)."""
    pairs = [(k, v) for k, v in params.items() if k not in ("oauth_signature", "realm")]
    pairs += parse_qsl(query, keep_blank_values=True)
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in pairs))
    base = "&".join([method.upper(), _enc(base_uri), _enc(normalized)])
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()


class FakeStore:
    """Records each request; answers with the next queued (status, body)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, object]] = []
        self.replies: list[tuple[int, str]] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                store.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, text = store.replies.pop(0) if store.replies else (200, "")
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self.server = LocalHTTPServer(Handler)
        self.base_url = self.server.base_url

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def store() -> Iterator[FakeStore]:
    fake = FakeStore()
    yield fake
    fake.close()


def _token_body(token: str, secret: str) -> str:
    return f"oauth_token={token}&oauth_token_secret={secret}"


def test_request_token_signs_header_only_with_hmac_sha256_over_base_url(store: FakeStore) -> None:
    store.replies.append((200, _token_body(REQUEST_TOKEN, REQUEST_SECRET)))
    token = request_token(store.base_url, CONSUMER_KEY, CONSUMER_SECRET, timeout=5)
    assert (token.token, token.secret) == (REQUEST_TOKEN, REQUEST_SECRET)
    seen = store.requests[0]
    assert seen["method"] == "POST" and seen["path"] == "/oauth/token/request"
    assert seen["body"] == ""  # parameters only in the header (C6.1)
    params = parse_oauth_header(seen["headers"]["Authorization"])
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["oauth_consumer_key"] == CONSUMER_KEY
    assert params["oauth_version"] == "1.0"
    assert params["oauth_nonce"] and params["oauth_timestamp"].isdigit()
    assert "oauth_token" not in params
    # Key "consumer_secret&" (C6.5), URL = base_url + path exactly.
    assert params["oauth_signature"] == expected_signature(
        "POST", store.base_url + "oauth/token/request", "", params, CONSUMER_SECRET, ""
    )


def test_access_token_carries_request_token_and_verifier_in_signature(store: FakeStore) -> None:
    store.replies.append((200, _token_body(ACCESS_TOKEN, ACCESS_SECRET)))
    token = access_token(
        store.base_url.rstrip("/"),
        CONSUMER_KEY,
        CONSUMER_SECRET,
        Token(REQUEST_TOKEN, REQUEST_SECRET),
        VERIFIER,
    )
    assert (token.token, token.secret) == (ACCESS_TOKEN, ACCESS_SECRET)
    seen = store.requests[0]
    assert seen["path"] == "/oauth/token/access"
    params = parse_oauth_header(seen["headers"]["Authorization"])
    assert params["oauth_token"] == REQUEST_TOKEN
    assert params["oauth_verifier"] == VERIFIER
    assert params["oauth_signature"] == expected_signature(
        "POST", store.base_url + "oauth/token/access", "", params, CONSUMER_SECRET, REQUEST_SECRET
    )


def test_signed_rest_call_signs_query_with_brackets(store: FakeStore) -> None:
    store.replies.append((200, '{"items":[],"total_count":0}'))
    creds = Credentials(store.base_url, CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, "")
    url = rest_url(store.base_url, "/V1/orders?searchCriteria[pageSize]=1")
    assert url == store.base_url + "rest/V1/orders?searchCriteria[pageSize]=1"
    reply = signed_request("GET", url, creds, timeout=5)
    assert reply.status_code == 200
    seen = store.requests[0]
    path, _, query = str(seen["path"]).partition("?")
    assert path == "/rest/V1/orders"
    assert dict(parse_qsl(query)) == {"searchCriteria[pageSize]": "1"}
    params = parse_oauth_header(seen["headers"]["Authorization"])
    assert params["oauth_token"] == ACCESS_TOKEN
    assert params["oauth_signature"] == expected_signature(
        "GET", store.base_url + "rest/V1/orders", query, params, CONSUMER_SECRET, ACCESS_SECRET
    )


def test_every_request_gets_a_fresh_nonce(store: FakeStore) -> None:
    store.replies += [(200, _token_body(REQUEST_TOKEN, REQUEST_SECRET))] * 2
    request_token(store.base_url, CONSUMER_KEY, CONSUMER_SECRET)
    request_token(store.base_url, CONSUMER_KEY, CONSUMER_SECRET)
    nonces = {parse_oauth_header(r["headers"]["Authorization"])["oauth_nonce"] for r in store.requests}
    assert len(nonces) == 2


# C6.4: every text Magento answers, and a fragment its hint must contain (cause or fix).
C64_TEXTS = [
    (400, "Signature method HMAC-SHA1 is not supported", "HMAC-SHA256", "C6.2"),
    (401, "The signature is invalid. Verify and try again.", "base_url", "C6.1"),
    (401, "Consumer key has expired", "expiration_period", "C6.5"),
    (401, "A consumer having the specified key does not exist", "recreated", "C3.2"),
    (401, "Consumer key is not the correct length", "32 characters", "C6.4"),
    (401, "The nonce is already being used by the consumer with ID 7", "fresh nonce", "C6.5"),
    (401, "An error occurred validating the nonce", "clock", "C6.4"),
    (
        401,
        "Cannot create request token because consumer token is not a verifier token",
        "purge this integration's tokens before activating",
        "C6.6",
    ),
    (401, "A token with consumer ID 7 does not exist", "purged after activation", "C6.6"),
    (
        401,
        "Cannot get access token because consumer token is not a request token",
        "already exchanged",
        "C6.6",
    ),
    (401, "Specified token does not exist", "already exchanged", "C6.4"),
    (401, "Token verifier and verifier token do not match", "newer verifier", "C5.3"),
    (401, "Verifier is not the correct length", "32 characters", "C6.4"),
    (
        400,
        '"oauth_consumer_key" is required. Enter and try again.',
        "without a value for oauth_consumer_key",
        "C6.4",
    ),
]


@pytest.mark.parametrize(("status", "text", "fragment", "clause"), C64_TEXTS)
def test_every_c64_problem_maps_to_a_hint(
    store: FakeStore, status: int, text: str, fragment: str, clause: str
) -> None:
    store.replies.append((status, "oauth_problem=" + quote(text)))
    with pytest.raises(OAuthProblem) as caught:
        request_token(store.base_url, CONSUMER_KEY, CONSUMER_SECRET)
    problem = caught.value
    assert problem.status == status
    assert problem.problem == text
    assert problem.endpoint == "/oauth/token/request"
    assert fragment in problem.hint
    assert problem.clause == clause
    assert text in str(problem) and fragment in str(problem)
    assert CONSUMER_KEY not in str(problem) and CONSUMER_SECRET not in str(problem)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('"oauth_consumer_key" is required. Enter and try again', "without a value for oauth_consumer_key"),
        (
            '"oauth_token" is required. Enter and try again., "oauth_verifier" is required. Enter and try '
            "again.",
            "without a value for oauth_token, oauth_verifier",
        ),
    ],
)
def test_missing_parameter_texts_with_or_without_periods_get_the_same_hint(text: str, fragment: str) -> None:
    problem = OAuthProblem(400, text, "/oauth/token/access")
    assert fragment in problem.hint and problem.clause == "C6.4"


def test_unknown_problem_gets_generic_hint_and_non_token_reply_is_a_problem() -> None:
    with pytest.raises(OAuthProblem) as unknown:
        parse_token_reply(500, "oauth_problem=Something+new", "/x")
    assert unknown.value.problem == "Something new" and "exception.log" in unknown.value.hint
    with pytest.raises(OAuthProblem) as garbage:
        parse_token_reply(502, "<html>Bad gateway</html>", "/x")
    assert garbage.value.status == 502 and "unexpected reply" in garbage.value.problem


def test_token_and_credentials_repr_hide_secrets() -> None:
    token = Token(ACCESS_TOKEN, ACCESS_SECRET)
    creds = Credentials("http://s/", CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, "t")
    for text in (repr(token), str(token), repr(creds)):
        for secret in (CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET):
            assert secret not in text


C72_BODIES = [
    (
        '{"message":"The consumer isn\'t authorized to access %resources.",'
        '"parameters":{"resources":"Magento_Sales::actions_view"}}',
        "The consumer isn't authorized to access %resources.",
        "ACL",
    ),
    ('{"message":"The signature is invalid. Verify and try again."}', "The signature", "base_url"),
    ('{"message":"Specified token does not exist"}', "Specified token", "handshake again"),
]


@pytest.mark.parametrize(("body", "message", "fragment"), C72_BODIES)
def test_probe_raises_rest_error_with_magento_message_and_hint(
    store: FakeStore, body: str, message: str, fragment: str
) -> None:
    store.replies.append((401, body))
    creds = Credentials(store.base_url, CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, "")
    with pytest.raises(RestError) as caught:
        probe(store.base_url, "/V1/orders?searchCriteria[pageSize]=1", creds)
    error = caught.value
    assert error.status == 401
    assert error.magento_message.startswith(message)
    assert fragment in error.hint
    assert error.path == "/V1/orders?searchCriteria[pageSize]=1"
    for secret in (CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET):
        assert secret not in str(error)


def test_rest_error_fills_the_resources_placeholder_and_keeps_the_raw_text() -> None:
    error = RestError.from_response(401, "/V1/x", C72_BODIES[0][0])
    assert error.parameters == {"resources": "Magento_Sales::actions_view"}
    assert error.magento_message == "The consumer isn't authorized to access %resources."
    assert error.text == "The consumer isn't authorized to access Magento_Sales::actions_view."
    assert "%resources" not in str(error) and error.text in str(error)


def test_signature_method_refusal_reads_the_same_with_the_method_filled_in() -> None:
    raw = RestError(400, "/V1/x", "Signature method %1 is not supported", ["HMAC-SHA1"])
    filled = RestError(400, "/V1/x", "Signature method HMAC-SHA1 is not supported")
    assert raw.text == filled.text and raw.hint == filled.hint and "HMAC-SHA256" in raw.hint


def test_probe_returns_200(store: FakeStore) -> None:
    store.replies.append((200, '{"items":[]}'))
    creds = Credentials(store.base_url, CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, "")
    assert probe(store.base_url, "/V1/store/storeViews", creds) == 200
    assert urlsplit(str(store.requests[0]["path"])).path == "/rest/V1/store/storeViews"


def test_unreachable_store_raises_transport_error_without_secrets() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    with pytest.raises(OAuthTransportError) as caught:
        request_token(f"http://127.0.0.1:{port}/", CONSUMER_KEY, CONSUMER_SECRET, timeout=2)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert CONSUMER_KEY not in str(caught.value) and CONSUMER_SECRET not in str(caught.value)
