"""C6: the OAuth 1.0a token endpoints, error texts, order of checks and the one-row lifecycle."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from twin_clients import (
    AdminClient,
    access_token,
    decrypt,
    handshake,
    oauth_headers,
    parse_pair,
    problem,
    request_token,
)

pytestmark = pytest.mark.docker


@pytest.fixture
def activated(stack, make_integration, listener):
    """An integration whose Activate POST has just been received: (row, posted form, admin client)."""
    row = make_integration(endpoint=listener.url)
    admin = AdminClient(stack)
    assert admin.tokens_exchange(row["integration_id"]).status_code == 200
    return row, listener.posts[-1]["form"], admin


def tokens(stack, consumer_id):
    return stack.query(
        f"SELECT entity_id, type, token, verifier FROM {stack.t('oauth_token')} WHERE consumer_id=%s "
        "ORDER BY entity_id",
        (consumer_id,),
    )


def test_c6_1_c6_3_request_and_access_token_success(stack, activated):
    """C6.1/C6.3: POST with header params only; 200 and 32-char token + secret at each step."""
    _, form, _ = activated
    r1 = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    assert r1.status_code == 200
    token, secret = parse_pair(r1)
    assert len(token) == 32 and len(secret) == 32
    r2 = access_token(
        stack,
        form["oauth_consumer_key"],
        form["oauth_consumer_secret"],
        token,
        secret,
        form["oauth_verifier"],
    )
    assert r2.status_code == 200
    at, ats = parse_pair(r2)
    assert len(at) == 32 and len(ats) == 32
    assert r2.text == f"oauth_token={at}&oauth_token_secret={ats}"


def test_c6_1_params_in_body_are_ignored(stack, activated):
    """C6.1: oauth_* parameters are read only from the Authorization header."""
    _, form, _ = activated
    url = f"{stack.base_url}oauth/token/request"
    headers = oauth_headers(url, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    body = dict(p.split("=", 1) for p in headers["Authorization"][6:].replace('"', "").split(", "))
    resp = requests.post(url, data=body, timeout=30)
    assert resp.status_code == 400
    # Five "is required" errors joined by ", ", each without its period (recorded:
    # oauth/request_no_authorization_header.json); a single one keeps it.
    assert problem(resp) == ", ".join(
        f'"{p}" is required. Enter and try again'
        for p in (
            "oauth_consumer_key",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_nonce",
            "oauth_timestamp",
        )
    )


def test_c6_1_any_method_accepted_and_forwarded_proto(stack, activated):
    """C6.1: any method is accepted; the signed URL honours X-Forwarded-Proto."""
    _, form, _ = activated
    plain = f"{stack.base_url}oauth/token/request"
    https = plain.replace("http://", "https://", 1)
    headers = oauth_headers(https, form["oauth_consumer_key"], form["oauth_consumer_secret"], method="GET")
    wrong = requests.get(plain, headers=headers, timeout=30)
    assert (wrong.status_code, problem(wrong)) == (401, "The signature is invalid. Verify and try again.")
    headers = oauth_headers(https, form["oauth_consumer_key"], form["oauth_consumer_secret"], method="GET")
    right = requests.get(plain, headers={**headers, "X-Forwarded-Proto": "https"}, timeout=30)
    assert right.status_code == 200, right.text


def test_c6_2_signature_method_not_supported(stack, activated):
    """C6.2: HMAC-SHA1 gets 400 `Signature method HMAC-SHA1 is not supported`."""
    _, form, _ = activated
    resp = request_token(
        stack, form["oauth_consumer_key"], form["oauth_consumer_secret"], signature_method="HMAC-SHA1"
    )
    assert resp.status_code == 400
    assert problem(resp) == "Signature method HMAC-SHA1 is not supported"
    assert resp.text == "oauth_problem=Signature+method+HMAC-SHA1+is+not+supported"


def test_c6_4_missing_parameter(stack):
    """C6.4: no Authorization header at all -> 400, every missing parameter named."""
    resp = requests.post(f"{stack.base_url}oauth/token/request", timeout=30)
    assert resp.status_code == 400
    # Five "is required" errors joined by ", ", each without its period (recorded:
    # oauth/request_no_authorization_header.json); a single one keeps it.
    assert problem(resp) == ", ".join(
        f'"{p}" is required. Enter and try again'
        for p in (
            "oauth_consumer_key",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_nonce",
            "oauth_timestamp",
        )
    )


def test_c6_4_consumer_key_wrong_length_and_unknown(stack):
    """C6.4: `Consumer key is not the correct length`, `A consumer having the specified key does
    not exist`."""
    short = request_token(stack, "abc", "x" * 32)
    assert (short.status_code, problem(short)) == (401, "Consumer key is not the correct length")
    unknown = request_token(stack, "z" * 32, "x" * 32)
    assert (unknown.status_code, problem(unknown)) == (
        401,
        "A consumer having the specified key does not exist",
    )


def test_c6_4_bad_signature(stack, activated):
    """C6.4: a wrong consumer secret -> 401 `The signature is invalid. Verify and try again.`"""
    _, form, _ = activated
    resp = request_token(stack, form["oauth_consumer_key"], "w" * 32)
    assert (resp.status_code, problem(resp)) == (401, "The signature is invalid. Verify and try again.")


def test_c6_4_nonce_reused(stack, activated):
    """C6.4: the same nonce twice -> `The nonce is already being used by the consumer with ID <id>`."""
    row, form, _ = activated
    nonce = uuid.uuid4().hex
    first = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"], nonce=nonce)
    assert first.status_code == 200
    again = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"], nonce=nonce)
    assert again.status_code == 401
    assert problem(again) == f"The nonce is already being used by the consumer with ID {row['consumer_id']}"


def test_c6_4_nonce_timestamp_bounds(stack, activated):
    """C6.4: timestamp > now+600 or <= 0 -> `An error occurred validating the nonce`; no lower bound."""
    _, form, _ = activated
    key, secret = form["oauth_consumer_key"], form["oauth_consumer_secret"]
    future = request_token(stack, key, secret, timestamp=int(time.time()) + 3600)
    assert (future.status_code, problem(future)) == (401, "An error occurred validating the nonce")
    zero = request_token(stack, key, secret, timestamp=0)
    assert (zero.status_code, problem(zero)) == (401, "An error occurred validating the nonce")
    old = request_token(stack, key, secret, timestamp=1000)
    assert old.status_code == 200, old.text


def test_c6_5_nonce_stored_before_signature_check(stack, activated):
    """C6.5: a request with a bad signature still consumes its nonce: a retry needs a fresh nonce."""
    row, form, _ = activated
    nonce = uuid.uuid4().hex
    bad = request_token(stack, form["oauth_consumer_key"], "w" * 32, nonce=nonce)
    assert problem(bad) == "The signature is invalid. Verify and try again."
    stored = stack.query(f"SELECT * FROM {stack.t('oauth_nonce')} WHERE nonce=%s", (nonce,))
    assert [r["consumer_id"] for r in stored] == [row["consumer_id"]]
    retry = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"], nonce=nonce)
    assert problem(retry) == f"The nonce is already being used by the consumer with ID {row['consumer_id']}"
    fresh = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    assert fresh.status_code == 200


def test_c6_5_consumer_expiry(stack, activated):
    """C6.5: now - consumer.updated_at must be < oauth/consumer/expiration_period (default 300 s)."""
    row, form, _ = activated
    stack.execute(
        f"UPDATE {stack.t('oauth_consumer')} SET updated_at = UTC_TIMESTAMP() - INTERVAL 301 SECOND "
        "WHERE entity_id=%s",
        (row["consumer_id"],),
    )
    resp = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    assert (resp.status_code, problem(resp)) == (401, "Consumer key has expired")
    stack.execute(
        f"UPDATE {stack.t('oauth_consumer')} SET updated_at = UTC_TIMESTAMP() - INTERVAL 290 SECOND "
        "WHERE entity_id=%s",
        (row["consumer_id"],),
    )
    assert request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"]).status_code == 200


def test_c6_5_expiry_checked_before_signature(stack, activated):
    """C6.5: an expired consumer with a bad signature reports the expiry, not the signature."""
    row, form, _ = activated
    stack.execute(
        f"UPDATE {stack.t('oauth_consumer')} SET updated_at = UTC_TIMESTAMP() - INTERVAL 1 DAY "
        f"WHERE entity_id=%s",
        (row["consumer_id"],),
    )
    resp = request_token(stack, form["oauth_consumer_key"], "w" * 32)
    assert problem(resp) == "Consumer key has expired"


def test_c6_5_expiration_period_from_core_config_data(stack, activated):
    """C6.5: the period comes from core_config_data `oauth/consumer/expiration_period`."""
    row, form, _ = activated
    before = stack.config_value("oauth/consumer/expiration_period")
    stack.execute(
        f"UPDATE {stack.t('oauth_consumer')} SET updated_at = UTC_TIMESTAMP() - INTERVAL 400 SECOND "
        "WHERE entity_id=%s",
        (row["consumer_id"],),
    )
    try:
        assert stack.magento("config:set", "oauth/consumer/expiration_period", "1000").rc == 0
        assert (
            request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"]).status_code == 200
        )
    finally:
        if before is None:
            stack.execute(
                f"DELETE FROM {stack.t('core_config_data')} WHERE path='oauth/consumer/expiration_period'"
            )
        else:
            stack.magento("config:set", "oauth/consumer/expiration_period", before)


def test_c6_5_access_checks_token_before_signature_and_no_expiry(stack, activated):
    """C6.5: /access checks the request token and verifier before the signature; no expiry check."""
    row, form, _ = activated
    key, secret = form["oauth_consumer_key"], form["oauth_consumer_secret"]
    token, token_secret = parse_pair(request_token(stack, key, secret))
    unknown = access_token(stack, key, "w" * 32, "q" * 32, token_secret, form["oauth_verifier"])
    assert (unknown.status_code, problem(unknown)) == (401, "Specified token does not exist")
    mismatch = access_token(stack, key, "w" * 32, token, token_secret, "v" * 32)
    assert problem(mismatch) == "Token verifier and verifier token do not match"
    short = access_token(stack, key, secret, token, token_secret, "v" * 10)
    assert problem(short) == "Verifier is not the correct length"
    bad_sig = access_token(stack, key, "w" * 32, token, token_secret, form["oauth_verifier"])
    assert problem(bad_sig) == "The signature is invalid. Verify and try again."
    stack.execute(
        f"UPDATE {stack.t('oauth_consumer')} SET updated_at = UTC_TIMESTAMP() - INTERVAL 1 DAY "
        f"WHERE entity_id=%s",
        (row["consumer_id"],),
    )
    ok = access_token(stack, key, secret, token, token_secret, form["oauth_verifier"])
    assert ok.status_code == 200, ok.text


def test_c6_4_request_token_twice_is_not_a_verifier(stack, activated):
    """C6.4: a second /request on the same row -> `Cannot create request token because ... not a
    verifier token`."""
    _, form, _ = activated
    assert request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"]).status_code == 200
    again = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    assert again.status_code == 401
    assert problem(again) == "Cannot create request token because consumer token is not a verifier token"


def test_c6_4_access_with_verifier_token(stack, activated):
    """C6.4: /access with the verifier row's token -> `Cannot get access token because ... not a
    request token`."""
    row, form, _ = activated
    verifier_row = tokens(stack, row["consumer_id"])[0]
    resp = access_token(
        stack,
        form["oauth_consumer_key"],
        form["oauth_consumer_secret"],
        verifier_row["token"],
        "s" * 32,
        form["oauth_verifier"],
    )
    assert problem(resp) == "Cannot get access token because consumer token is not a request token"


def test_c6_6_one_row_moves_verifier_request_access(stack, activated):
    """C6.6: one integration token row per consumer moves verifier -> request -> access in place."""
    row, form, _ = activated
    first = tokens(stack, row["consumer_id"])
    assert [t["type"] for t in first] == ["verifier"]
    token, token_secret = parse_pair(
        request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    )
    second = tokens(stack, row["consumer_id"])
    assert [(t["entity_id"], t["type"], t["token"]) for t in second] == [
        (first[0]["entity_id"], "request", token)
    ]
    at, ats = parse_pair(
        access_token(
            stack,
            form["oauth_consumer_key"],
            form["oauth_consumer_secret"],
            token,
            token_secret,
            form["oauth_verifier"],
        )
    )
    third = stack.query(f"SELECT * FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],))
    assert [(t["entity_id"], t["type"], t["token"]) for t in third] == [(first[0]["entity_id"], "access", at)]
    assert third[0]["user_type"] == 1
    assert decrypt(stack, third[0]["secret"]) == ats


def test_c6_6_leftover_access_row_wedges_consumer(stack, make_integration, listener):
    """C6.6: an access row left next to a new verifier wedges /request until the rows are deleted first."""
    row = make_integration(endpoint=listener.url)
    admin = AdminClient(stack)
    handshake(stack, admin, row["integration_id"], listener)
    assert admin.tokens_exchange(row["integration_id"], reauthorize=False).status_code == 200
    rows = tokens(stack, row["consumer_id"])
    assert [t["type"] for t in rows] == ["access", "verifier"]
    form = listener.posts[-1]["form"]
    wedged = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    assert problem(wedged) == "Cannot create request token because consumer token is not a verifier token"
    # Deleting AFTER activation also deletes the fresh verifier.
    stack.execute(f"DELETE FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],))
    gone = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    assert problem(gone) == f"A token with consumer ID {row['consumer_id']} does not exist"
    # Deleting BEFORE the next activation works.
    handshake(stack, admin, row["integration_id"], listener)


def test_c6_6_lookup_is_lowest_entity_id(stack, make_integration, listener):
    """C6.6: with two rows the lookup takes the lowest entity_id, whatever its type."""
    row = make_integration(endpoint=listener.url)
    admin = AdminClient(stack)
    assert admin.tokens_exchange(row["integration_id"]).status_code == 200
    form = listener.posts[-1]["form"]
    verifier = tokens(stack, row["consumer_id"])[0]
    # Move the verifier to a higher id and put a request row below it.
    stack.execute(
        f"INSERT INTO {stack.t('oauth_token')} (consumer_id, type, token, secret, verifier, "
        f"callback_url, user_type) "
        "VALUES (%s, 'request', %s, %s, %s, 'oob', 1)",
        (row["consumer_id"], uuid.uuid4().hex, "s" * 32, "v" * 32),
    )
    stack.execute(
        f"UPDATE {stack.t('oauth_token')} SET entity_id = entity_id + 1000000 WHERE entity_id=%s",
        (verifier["entity_id"],),
    )
    wedged = request_token(stack, form["oauth_consumer_key"], form["oauth_consumer_secret"])
    assert problem(wedged) == "Cannot create request token because consumer token is not a verifier token"
