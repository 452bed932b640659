"""magento_oauth against the replies a real Magento 2.4.7-p3 sent (../shared/magento-2.4.7-p3/oauth/).

Each recorded reply is served byte for byte (status, reason, every header in wire order, body) from
127.0.0.1, and the real request_token / access_token talk to it over HTTP. What a user relies on: the
tokens of a success reply, and for every refusal an OAuthProblem with Magento's text, the recorded status
and a hint that names the cause and the fix (never the generic fallback). The signatures Magento accepted
are checked against the RFC 5849 computation the signer is tested with (test_oauth.expected_signature).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, unquote_plus, urlsplit

import pytest
from ansible.module_utils.magento_oauth import (
    OAuthProblem,
    Token,
    access_token,
    problem_hint,
    request_token,
)
from local_http import LocalHTTPServer
from recordings import RECORDINGS, Recording, recording
from test_oauth import expected_signature, parse_oauth_header

GENERIC_HINT = problem_hint("a problem text Magento never sends")
# The endpoint POST Magento sent for the activation whose tokens oauth/request_ok and access_ok carry.
ENDPOINT_POST = "admin/tokensExchange_reauth1_endpoint_post.json"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: str


class RecordedMagento:
    """Answers each request with the next recording's response exactly as Magento sent it; keeps what it got.

    The recorded headers have no Content-Length (PHP's built-in server closes the connection), so the
    body ends where the connection does, as it did on the real store."""

    def __init__(self, *replies: Recording) -> None:
        self.replies = list(replies)
        self.seen: list[Seen] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                store.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                reply = store.replies.pop(0)
                self.send_response_only(reply.status, reply.raw["response"].get("reason"))
                for name, value in reply.response.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.response.body.encode("utf-8"))

            do_GET = do_POST = _handle

        self.server = LocalHTTPServer(Handler)
        self.base_url = self.server.base_url

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def serve() -> Iterator[list[RecordedMagento]]:
    started: list[RecordedMagento] = []
    yield started
    for store in started:
        store.close()


def start(started: list[RecordedMagento], *replies: Recording) -> RecordedMagento:
    store = RecordedMagento(*replies)
    started.append(store)
    return store


def endpoint_post() -> dict[str, str]:
    return dict(parse_qsl(recording(ENDPOINT_POST).request.body))


def token_secrets() -> dict[str, str]:
    """token -> secret for every token Magento handed out in these recordings (oauth/*_ok*.json)."""
    out = {}
    for name in ("request_ok", "request_ok_2fa_enabled", "access_ok", "access_ok_2fa_enabled"):
        reply = dict(parse_qsl(recording(f"oauth/{name}.json").response.body))
        out[reply["oauth_token"]] = reply["oauth_token_secret"]
    return out


def call(rec: Recording, base_url: str, token: Token | None = None) -> Token:
    """What the handshake calls for this recording's endpoint, with the recorded consumer key."""
    params = parse_oauth_header(rec.request.header("Authorization") or "OAuth ")
    post = endpoint_post()
    key = params.get("oauth_consumer_key", post["oauth_consumer_key"])
    if urlsplit(rec.url).path.endswith("/oauth/token/request"):
        return request_token(base_url, key, post["oauth_consumer_secret"], timeout=5)
    request = token or Token(params["oauth_token"], token_secrets().get(params["oauth_token"], "x" * 32))
    return access_token(
        base_url, key, post["oauth_consumer_secret"], request, params["oauth_verifier"], timeout=5
    )


# ---------------------------------------------------------------- what Magento accepted
SIGNED_AND_ACCEPTED = [
    "oauth/request_ok.json",
    "oauth/request_ok_2fa_enabled.json",
    "oauth/access_ok.json",
    "oauth/access_ok_2fa_enabled.json",
    "rest/orders_ok.json",
    "rest/orders_store_code_default.json",
    "rest/orders_store_code_all.json",
    "rest/orders_accept_xml.json",
    "rest/orders_ok_after_consumer_expiry.json",
    "rest/orders_ok_2fa_enabled.json",
]


def _recorded_signature_check(rec: Recording) -> tuple[str, str]:
    params = parse_oauth_header(rec.request.header("Authorization") or "")
    token_secret = token_secrets()[params["oauth_token"]] if "oauth_token" in params else ""
    url = urlsplit(rec.url)
    computed = expected_signature(
        rec.method,
        f"{url.scheme}://{url.netloc}{url.path}",
        url.query,
        params,
        endpoint_post()["oauth_consumer_secret"],
        token_secret,
    )
    return computed, params["oauth_signature"]


@pytest.mark.parametrize("name", SIGNED_AND_ACCEPTED)
def test_magento_accepted_exactly_the_signature_our_signer_is_held_to(name: str) -> None:
    """HMAC-SHA256 over scheme://host:port/path + the decoded query + the header's oauth_* parameters,
    key consumer_secret&token_secret (C6.1, C6.2, C6.5): what test_oauth proves our signer sends."""
    rec = recording(name)
    assert rec.status == 200
    computed, sent = _recorded_signature_check(rec)
    assert computed == sent


@pytest.mark.parametrize("name", ["oauth/request_bad_signature.json", "rest/orders_bad_signature.json"])
def test_the_signatures_magento_refused_fail_that_computation(name: str) -> None:
    rec = recording(name)
    assert rec.status == 401
    computed, sent = _recorded_signature_check(rec)
    assert computed != sent


# ---------------------------------------------------------------- success replies over HTTP
def _success_tokens(rec: Recording) -> tuple[str, str]:
    token, secret = (part.split("=", 1)[1] for part in rec.response.body.split("&"))
    return token, secret


def test_request_token_reads_the_recorded_success_reply(serve: list[RecordedMagento]) -> None:
    rec = recording("oauth/request_ok.json")
    # What this reply looks like on the wire: text/html, no trailing newline, two cookies.
    assert rec.response.header("Content-Type") == "text/html; charset=UTF-8"
    assert not rec.response.body.endswith("\n")
    store = start(serve, rec)
    token = call(rec, store.base_url)
    assert (token.token, token.secret) == _success_tokens(rec)
    assert len(token.token) == len(token.secret) == 32
    seen = store.seen[0]
    assert (seen.method, seen.path, seen.body) == ("POST", "/oauth/token/request", "")
    ours = parse_oauth_header(seen.headers["Authorization"])
    recorded = parse_oauth_header(rec.request.header("Authorization") or "")
    # The parameters Magento required and accepted, no more (parameters in the header only, C6.1).
    assert set(ours) == set(recorded)
    assert ours["oauth_signature_method"] == "HMAC-SHA256"
    assert ours["oauth_signature"] == expected_signature(
        "POST", store.base_url + "oauth/token/request", "", ours, endpoint_post()["oauth_consumer_secret"], ""
    )


@pytest.mark.parametrize("name", ["oauth/access_ok.json", "oauth/access_ok_2fa_enabled.json"])
def test_access_token_reads_the_recorded_success_reply(serve: list[RecordedMagento], name: str) -> None:
    rec = recording(name)
    assert not rec.response.body.endswith("\n")
    store = start(serve, rec)
    token = call(rec, store.base_url)
    assert (token.token, token.secret) == _success_tokens(rec)
    ours = parse_oauth_header(store.seen[0].headers["Authorization"])
    recorded = parse_oauth_header(rec.request.header("Authorization") or "")
    assert set(ours) == set(recorded)
    assert (ours["oauth_token"], ours["oauth_verifier"]) == (
        recorded["oauth_token"],
        recorded["oauth_verifier"],
    )


def test_request_then_access_against_the_recorded_exchange(serve: list[RecordedMagento]) -> None:
    """The handshake's two calls in a row: the request token of the first reply signs the second."""
    first, second = recording("oauth/request_ok.json"), recording("oauth/access_ok.json")
    store = start(serve, first, second)
    request = call(first, store.base_url)
    access = call(second, store.base_url, request)
    assert (access.token, access.secret) == _success_tokens(second)
    params = parse_oauth_header(store.seen[1].headers["Authorization"])
    assert params["oauth_token"] == request.token
    assert params["oauth_signature"] == expected_signature(
        "POST",
        store.base_url + "oauth/token/access",
        "",
        params,
        endpoint_post()["oauth_consumer_secret"],
        request.secret,
    )


# ---------------------------------------------------------------- every recorded refusal
# file -> (clause, a fragment naming the cause, a fragment naming the fix)
REFUSALS = {
    "request_bad_signature": ("C6.1", "differs from Magento's", "base_url must be the store URL"),
    "request_consumer_expired": ("C6.5", "expiration_period", "activate again"),
    "request_consumer_key_wrong_length": ("C6.4", "not 32 characters", "exactly as Magento posted"),
    "request_hmac_sha1": ("C6.2", "only HMAC-SHA256", "sign with HMAC-SHA256"),
    "request_missing_consumer_key": (
        "C6.4",
        "without a value for oauth_consumer_key",
        "use the values Magento posted",
    ),
    "request_no_authorization_header": ("C6.1", "dropped the Authorization header", "CGIPassAuth On"),
    "request_reused_nonce": ("C6.5", "nonce was already used", "fresh nonce"),
    "request_second_time_not_verifier": ("C6.6", "wedges the consumer", "purge this integration's tokens"),
    "request_timestamp_700s_ahead": ("C6.4", "more than 600 s ahead", "clock skew"),
    "request_unknown_consumer_key": ("C3.2", "no consumer with this key", "read the integration again"),
    "access_wrong_verifier": ("C5.3", "not the one Magento stored", "use the verifier from that POST"),
    "access_second_time_not_request_token": ("C6.4", "already exchanged", "run the whole handshake again"),
}
SUCCESSES = {"request_ok", "request_ok_2fa_enabled", "access_ok", "access_ok_2fa_enabled"}


def test_every_recorded_oauth_reply_is_covered() -> None:
    recording("oauth/request_ok.json")  # skips (or fails under CI) without the recordings
    recorded = {path.stem for path in (RECORDINGS / "oauth").glob("*.json")}
    assert recorded == SUCCESSES | set(REFUSALS)


def _problem_text(rec: Recording) -> str:
    name, _, value = rec.response.body.partition("=")
    assert name == "oauth_problem"
    return unquote_plus(value)


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_every_recorded_refusal_maps_to_its_cause_and_fix(serve: list[RecordedMagento], name: str) -> None:
    rec = recording(f"oauth/{name}.json")
    clause, cause, fix = REFUSALS[name]
    store = start(serve, rec)
    with pytest.raises(OAuthProblem) as caught:
        call(rec, store.base_url)
    problem = caught.value
    assert problem.status == rec.status
    assert problem.problem == _problem_text(rec)
    assert problem.endpoint == urlsplit(rec.url).path
    assert (problem.hint, problem.clause) != GENERIC_HINT
    assert problem.clause == clause
    assert cause in problem.hint and fix in problem.hint
    assert problem.problem in str(problem) and problem.hint in str(problem)
    post = endpoint_post()
    for secret in [post["oauth_consumer_secret"], *token_secrets().values()]:
        assert secret not in str(problem)


def test_hmac_sha1_is_a_400_not_a_401(serve: list[RecordedMagento]) -> None:
    rec = recording("oauth/request_hmac_sha1.json")
    store = start(serve, rec)
    with pytest.raises(OAuthProblem) as caught:
        call(rec, store.base_url)
    assert caught.value.status == 400
    assert caught.value.problem == "Signature method HMAC-SHA1 is not supported"


def test_a_single_missing_parameter_keeps_its_trailing_period_and_is_named() -> None:
    problem = _problem_text(recording("oauth/request_missing_consumer_key.json"))
    assert problem == '"oauth_consumer_key" is required. Enter and try again.'
    error = OAuthProblem(400, problem, "/oauth/token/request")
    assert "oauth_consumer_key" in error.hint and "dropped the Authorization header" not in error.hint


def test_no_authorization_header_names_all_five_missing_parameters() -> None:
    problem = _problem_text(recording("oauth/request_no_authorization_header.json"))
    messages = problem.split(", ")
    assert len(messages) == 5 and not problem.endswith(".")
    error = OAuthProblem(400, problem, "/oauth/token/request")
    for message in messages:
        assert message.split('"')[1] in error.hint
    assert error.clause == "C6.1"


def test_reused_nonce_reply_carries_the_consumer_id_and_the_nonce_really_was_reused() -> None:
    first, again = recording("oauth/request_ok.json"), recording("oauth/request_reused_nonce.json")
    nonce = parse_oauth_header(first.request.header("Authorization") or "")["oauth_nonce"]
    assert parse_oauth_header(again.request.header("Authorization") or "")["oauth_nonce"] == nonce
    error = OAuthProblem(again.status, _problem_text(again), "/oauth/token/request")
    assert error.problem == "The nonce is already being used by the consumer with ID 1"
    assert "fresh nonce" in error.hint


def test_timestamp_refusal_hint_matches_the_recorded_skew() -> None:
    """The recorded request was 700 s ahead of Magento's clock; the hint blames a skew over 600 s."""
    rec = recording("oauth/request_timestamp_700s_ahead.json")
    sent = int(parse_oauth_header(rec.request.header("Authorization") or "")["oauth_timestamp"])
    magento_now = parsedate_to_datetime(rec.response.header("Date") or "").timestamp()
    assert sent - magento_now > 600
    error = OAuthProblem(rec.status, _problem_text(rec), "/oauth/token/request")
    assert "600 s ahead" in error.hint


def test_a_replayed_access_call_is_specified_token_does_not_exist() -> None:
    """The same request token and verifier as the successful access_ok call, sent again (C6.4 correction):
    the hint must name the second exchange, not only a purge."""
    ok, again = (
        recording("oauth/access_ok.json"),
        recording("oauth/access_second_time_not_request_token.json"),
    )
    ok_params = parse_oauth_header(ok.request.header("Authorization") or "")
    again_params = parse_oauth_header(again.request.header("Authorization") or "")
    assert (again_params["oauth_token"], again_params["oauth_verifier"]) == (
        ok_params["oauth_token"],
        ok_params["oauth_verifier"],
    )
    error = OAuthProblem(again.status, _problem_text(again), "/oauth/token/access")
    assert error.problem == "Specified token does not exist"
    assert "second /oauth/token/access with the same request token" in error.hint
