"""The signed probe against the REST replies a real Magento 2.4.7-p3 sent (../shared/magento-2.4.7-p3/rest/).

Each recorded reply is served as Magento sent it from 127.0.0.1 and magento_oauth.probe (what the handshake
runs before it writes credentials) calls it over HTTP. A user relies on: 200 for every reply Magento
answered 200 (JSON or XML), and for every refusal a RestError with the recorded status, Magento's message
with its %resources / %fieldName / %1 placeholders filled from ``parameters`` (an object or a LIST), the
developer-mode trace kept out of the message, and a hint that names the cause and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from ansible.module_utils.magento_contract import DEFAULT_PROBE_PATH
from ansible.module_utils.magento_credentials import Credentials
from ansible.module_utils.magento_oauth import RestError, probe, rest_error_hint
from recordings import RECORDINGS, Recording, recording
from test_oauth import expected_signature, parse_oauth_header
from test_recordings_oauth import RecordedMagento, endpoint_post, token_secrets

GENERIC_HINT = rest_error_hint("a message Magento never sends")

OK = {
    "orders_ok",
    "orders_store_code_default",
    "orders_store_code_all",
    "orders_accept_xml",
    "orders_ok_after_consumer_expiry",
    "orders_ok_2fa_enabled",
}
# file -> (what the user reads: Magento's message, placeholders filled; clause; cause; fix)
REFUSED = {
    "orders_bad_signature": (
        "The signature is invalid. Verify and try again.",
        "C7.2",
        "differ from Magento's",
        "base_url must be the store URL",
    ),
    "orders_no_auth": (
        "The consumer isn't authorized to access Magento_Sales::actions_view.",
        "C7.2",
        "no OAuth signature reached Magento",
        "grant it in the integration's configuration",
    ),
    "orders_bearer_access_token": (
        "The consumer isn't authorized to access Magento_Sales::actions_view.",
        "C7.2",
        "a Bearer token was sent",
        "grant it in the integration's configuration",
    ),
    "products_not_granted": (
        "The consumer isn't authorized to access Magento_Catalog::products.",
        "C7.2",
        "its ACL lacks it",
        "probe a route it is granted",
    ),
    "orders_hmac_sha1": (
        "Signature method HMAC-SHA1 is not supported",
        "C7.2",
        "only HMAC-SHA256",
        "sign with HMAC-SHA256",
    ),
    "orders_no_searchCriteria": (
        '"searchCriteria" is required. Enter and try again.',
        "C7.4",
        "needs the query parameter named",
        "set probe_path to e.g. /V1/orders?searchCriteria[pageSize]=1",
    ),
    "orders_old_token_after_reauthorize": (
        "Specified token does not exist",
        "C7.2",
        "access token was deleted",
        "run the handshake again",
    ),
    "unknown_route": (
        "Request does not match any route.",
        "C7.4",
        "no REST route for this method and path",
        "set probe_path to a GET route",
    ),
}


@pytest.fixture
def stores() -> Iterator[list[RecordedMagento]]:
    started: list[RecordedMagento] = []
    yield started
    for store in started:
        store.close()


def probe_path(rec: Recording) -> str:
    """The probe_path that produced this request: the URL after ``/rest``."""
    url = urlsplit(rec.url)
    assert url.path.startswith("/rest/")
    return url.path[len("/rest") :] + (f"?{url.query}" if url.query else "")


def credentials(rec: Recording, base_url: str) -> Credentials:
    """The recorded consumer and the access token this request carried (the first one when it had none)."""
    secrets = token_secrets()
    header = rec.request.header("Authorization") or ""
    token = parse_oauth_header(header)["oauth_token"] if header.startswith("OAuth ") else None
    if token is None:
        ok = recording("oauth/access_ok.json").response.body
        token = ok.split("&")[0].split("=", 1)[1]
    post = endpoint_post()
    return Credentials(
        base_url, post["oauth_consumer_key"], post["oauth_consumer_secret"], token, secrets[token], ""
    )


def run_probe(stores: list[RecordedMagento], name: str) -> tuple[Recording, RecordedMagento, Credentials]:
    rec = recording(f"rest/{name}.json")
    store = RecordedMagento(rec)
    stores.append(store)
    return rec, store, credentials(rec, store.base_url)


def test_every_recorded_rest_reply_is_covered() -> None:
    recording("rest/orders_ok.json")  # skips (or fails under CI) without the recordings
    assert {path.stem for path in (RECORDINGS / "rest").glob("*.json")} == OK | set(REFUSED)


@pytest.mark.parametrize("name", sorted(OK))
def test_probe_returns_200_for_every_recorded_success(stores: list[RecordedMagento], name: str) -> None:
    rec, store, creds = run_probe(stores, name)
    path = probe_path(rec)
    assert probe(store.base_url, path, creds, timeout=5) == 200
    seen = store.seen[0]
    assert seen.method == "GET"
    assert seen.path == urlsplit(rec.url).path + "?" + urlsplit(rec.url).query
    # The probe asks for JSON: Magento answers in the format of Accept (orders_accept_xml is XML), and
    # only a JSON error body can be read back into a RestError.
    assert seen.headers["Accept"] == "application/json"
    params = parse_oauth_header(seen.headers["Authorization"])
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["oauth_token"] == creds.access_token
    url = urlsplit(store.base_url + seen.path.lstrip("/"))
    assert params["oauth_signature"] == expected_signature(
        "GET",
        f"{url.scheme}://{url.netloc}{url.path}",
        url.query,
        params,
        creds.consumer_secret,
        creds.access_token_secret,
    )


def test_the_xml_reply_is_a_200_too(stores: list[RecordedMagento]) -> None:
    rec, store, creds = run_probe(stores, "orders_accept_xml")
    assert (rec.response.header("Content-Type") or "").startswith("application/xml")
    assert rec.response.body.startswith('<?xml version="1.0"?>\n<response>')
    assert probe(store.base_url, probe_path(rec), creds, timeout=5) == 200


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_every_recorded_refusal_is_a_rest_error_with_cause_and_fix(
    stores: list[RecordedMagento], name: str
) -> None:
    rec, store, creds = run_probe(stores, name)
    text, clause, cause, fix = REFUSED[name]
    body = rec.json()
    path = probe_path(rec)
    with pytest.raises(RestError) as caught:
        probe(store.base_url, path, creds, timeout=5)
    error = caught.value
    assert error.status == rec.status
    assert error.path == path
    assert error.magento_message == body["message"]
    assert error.parameters == body.get("parameters")
    assert error.text == text
    assert text in str(error) and "%" not in error.text
    assert (error.hint, error.clause) != GENERIC_HINT
    assert error.clause == clause
    assert cause in error.hint and fix in error.hint
    # The developer-mode trace (a string, or null for an unknown route) stays out of what the user reads.
    assert error.trace == body["trace"]
    assert "#0 " not in str(error) and "/var/www/html" not in str(error)
    for secret in (creds.consumer_secret, creds.access_token_secret):
        assert secret not in str(error)


def test_parameters_as_a_list_fill_positional_placeholders() -> None:
    body = recording("rest/orders_hmac_sha1.json").json()
    assert body["parameters"] == ["HMAC-SHA1"] and "%1" in body["message"]
    error = RestError.from_response(400, "/V1/orders", json.dumps(body))
    assert error.text == "Signature method HMAC-SHA1 is not supported"
    assert error.magento_message == "Signature method %1 is not supported"


def test_unknown_route_has_a_null_trace_and_is_a_404(stores: list[RecordedMagento]) -> None:
    rec, store, creds = run_probe(stores, "unknown_route")
    assert "trace" in rec.json() and rec.json()["trace"] is None
    with pytest.raises(RestError) as caught:
        probe(store.base_url, probe_path(rec), creds, timeout=5)
    assert caught.value.status == 404 and caught.value.trace is None


def test_bearer_token_reads_exactly_like_no_authentication() -> None:
    """C7.3: with enable_integration_as_bearer off, an integration token as Bearer is anonymous."""
    bearer = recording("rest/orders_bearer_access_token.json")
    anonymous = recording("rest/orders_no_auth.json")
    assert (bearer.request.header("Authorization") or "").startswith("Bearer ")
    assert anonymous.request.header("Authorization") is None
    one = RestError.from_response(bearer.status, "/V1/orders", bearer.response.body)
    other = RestError.from_response(anonymous.status, "/V1/orders", anonymous.response.body)
    assert (one.status, one.text, one.parameters, one.hint) == (
        other.status,
        other.text,
        other.parameters,
        other.hint,
    )


def test_the_default_probe_path_asks_what_the_recorded_200_asked(stores: list[RecordedMagento]) -> None:
    rec, store, creds = run_probe(stores, "orders_ok")
    assert probe(store.base_url, DEFAULT_PROBE_PATH, creds, timeout=5) == 200
    seen = urlsplit(store.seen[0].path)
    assert seen.path == urlsplit(rec.url).path
    assert parse_qsl(seen.query) == parse_qsl(urlsplit(rec.url).query)
