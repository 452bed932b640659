"""OAuth 1.0a as Magento's Framework\\Oauth does it (C6): header parsing, checks in Magento's order."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import urllib.parse
from typing import Any

from twin import integration as svc
from twin.site import Site

TIME_DEVIATION = 600
DEFAULT_EXPIRATION = 300
BASE_REQUIRED = [
    "oauth_consumer_key",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_nonce",
    "oauth_timestamp",
]


def render(message: str, parameters: list[str] | dict[str, str] | None) -> str:
    """Magento\\Framework\\Phrase: `%1`.. from a list, `%name` from a dict."""
    if isinstance(parameters, dict):
        for key, value in parameters.items():
            message = message.replace(f"%{key}", str(value))
    elif parameters:
        for i in range(len(parameters), 0, -1):
            message = message.replace(f"%{i}", str(parameters[i - 1]))
    return message


class OauthError(Exception):
    """Magento\\Framework\\Oauth\\Exception: 401. Keeps the raw phrase and its parameters, which REST
    shows as they are (`message` with the placeholder, `parameters`), while /oauth shows the text."""

    status = 401

    def __init__(self, message: str, parameters: list[str] | dict[str, str] | None = None) -> None:
        super().__init__(render(message, parameters))
        self.raw = message
        self.parameters = parameters


class OauthInputError(OauthError):
    """Magento\\Framework\\Oauth\\OauthInputException: 400."""

    status = 400


class MissingParameters(OauthInputError):
    """_checkRequiredParams: one "is required" error per missing parameter. One reads with its trailing
    period; several are joined by ", " with each period trimmed (recorded: oauth/request_no_authorization_
    header.json, oauth/request_missing_consumer_key.json)."""

    REQUIRED = '"%fieldName" is required. Enter and try again.'

    def __init__(self, names: list[str]) -> None:
        self.names = names
        if len(names) == 1:
            super().__init__(self.REQUIRED, {"fieldName": names[0]})
        else:
            super().__init__("One or more input exceptions have occurred.")
            Exception.__init__(
                self, ", ".join(render(self.REQUIRED, {"fieldName": n}).rstrip(".") for n in names)
            )


_PROTOCOL = re.compile(r"oauth_[a-z_-]+")


def protocol_params(
    auth_header: str | None, content_type: str | None, body: bytes, query: str
) -> dict[str, str]:
    """Helper\\Request::_processRequest: header oauth_* params, plus non-oauth body and query params.

    Without an `Authorization: OAuth` header there are no parameters at all (C6.1).
    """
    header = auth_header or ""
    pos = header.lower().find("oauth ")
    if pos < 0:
        return {}
    params: dict[str, str] = {}
    for part in header[pos + 6 :].split(","):
        name, eq, value = part.strip().partition("=")
        if eq and _PROTOCOL.search(name):
            params[urllib.parse.unquote(name)] = urllib.parse.unquote(value.strip('"'))
    if body and content_type and content_type.startswith("application/x-www-form-urlencoded"):
        for name, value in urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            if not _PROTOCOL.search(name):
                params[name] = value
    for piece in query.split("&") if query else []:
        bits = piece.split("=")
        if len(bits) == 2 and not _PROTOCOL.search(bits[0]):
            params[urllib.parse.unquote_plus(bits[0])] = urllib.parse.unquote_plus(bits[1])
    return params


def _enc(s: str) -> str:
    return urllib.parse.quote(s, safe="~")


def signature(
    params: dict[str, str], method: str, url: str, consumer_secret: str, token_secret: str | None
) -> str:
    pairs = sorted((_enc(k), _enc(v)) for k, v in params.items() if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), _enc(url), _enc(normalized)])
    key = _enc(consumer_secret) + "&" + _enc(token_secret or "")
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class OauthServer:
    def __init__(self, site: Site, cur: Any) -> None:
        self.site = site
        self.cur = cur

    # --- Oauth::_validateProtocolParams
    def validate_protocol(self, params: dict[str, str], required: list[str]) -> dict[str, Any]:
        if "oauth_version" in params and params["oauth_version"] != "1.0":
            raise OauthError("OAuth version %1 is not supported", [params["oauth_version"]])
        missing = [p for p in required if p not in params]
        if missing:
            raise MissingParameters(missing)
        if "oauth_token" in params and len(params["oauth_token"]) != 32:
            raise OauthInputError("The token length is invalid. Check the length and try again.")
        if params["oauth_signature_method"] != "HMAC-SHA256":
            raise OauthInputError("Signature method %1 is not supported", [params["oauth_signature_method"]])
        consumer = self.consumer_by_key(params["oauth_consumer_key"])
        self.validate_nonce(consumer, params["oauth_nonce"], params["oauth_timestamp"])
        return consumer

    def consumer_by_key(self, key: str) -> dict[str, Any]:
        if len(key) != 32:
            raise OauthError("Consumer key is not the correct length")
        self.cur.execute(f"SELECT * FROM {self.site.t('oauth_consumer')} WHERE `key`=%s", (key,))
        row = self.cur.fetchone()
        if row is None:
            raise OauthError("A consumer having the specified key does not exist")
        return row

    def validate_nonce(self, consumer: dict[str, Any], nonce: str, timestamp: str) -> None:
        """NonceGenerator::validateNonce: the nonce is stored here, before any signature check (C6.5)."""
        try:
            ts = int(timestamp) if re.fullmatch(r"\s*-?\d+", timestamp) else 0
        except ValueError:
            ts = 0
        offset = float(self.site.config_value(self.cur, "twin/fault/clock_offset") or 0)  # tests/faults
        if ts <= 0 or ts > time.time() + offset + TIME_DEVIATION or len(nonce) > 32:
            raise OauthError("An error occurred validating the nonce")
        self.cur.execute(
            f"SELECT nonce FROM {self.site.t('oauth_nonce')} WHERE nonce=%s AND consumer_id=%s",
            (nonce, consumer["entity_id"]),
        )
        if self.cur.fetchone() is not None:
            raise OauthError(
                "The nonce is already being used by the consumer with ID %1", [str(consumer["entity_id"])]
            )
        self.cur.execute(
            f"INSERT INTO {self.site.t('oauth_nonce')} (nonce, timestamp, consumer_id) VALUES (%s, %s, %s)",
            (nonce, ts, consumer["entity_id"]),
        )

    def validate_signature(
        self,
        params: dict[str, str],
        consumer: dict[str, Any],
        token_secret: str | None,
        method: str,
        url: str,
    ) -> None:
        secret = self.site.encryptor.decrypt(consumer["secret"])
        expected = signature(params, method, url, secret, token_secret)
        if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
            raise OauthError("The signature is invalid. Verify and try again.")

    def consumer_expired(self, consumer: dict[str, Any]) -> bool:
        """Consumer::isValidForTokenExchange: now - updated_at < oauth/consumer/expiration_period. A
        consumer never stamped keeps updated_at 0000-00-00 00:00:00 and counts as expired."""
        period = self.site.config(self.cur, "oauth/consumer/expiration_period")
        expiry = int(period) if period and period.strip().lstrip("-").isdigit() else DEFAULT_EXPIRATION
        updated = consumer["updated_at"]
        if not hasattr(updated, "year"):
            return True
        age = (svc.now() - updated).total_seconds()
        return not age < expiry

    # --- /oauth/token/request
    def request_token(self, params: dict[str, str], method: str, url: str) -> tuple[str, str]:
        consumer = self.validate_protocol(params, BASE_REQUIRED)
        if self.consumer_expired(consumer):
            raise OauthError("Consumer key has expired")
        self.validate_signature(params, consumer, None, method, url)
        token = svc.integration_token(self.cur, self.site, consumer["entity_id"])
        if token is None:
            raise OauthError("A token with consumer ID %1 does not exist", [str(consumer["entity_id"])])
        if token["type"] != "verifier":
            raise OauthError("Cannot create request token because consumer token is not a verifier token")
        return svc.to_request(self.cur, self.site, token["entity_id"])

    # --- /oauth/token/access
    def access_token(self, params: dict[str, str], method: str, url: str) -> tuple[str, str]:
        consumer = self.validate_protocol(params, [*BASE_REQUIRED, "oauth_token", "oauth_verifier"])
        self.cur.execute(
            f"SELECT * FROM {self.site.t('oauth_token')} WHERE token=%s", (params["oauth_token"],)
        )
        token = self.cur.fetchone()
        if token is None:
            raise OauthError("Specified token does not exist")
        if token["consumer_id"] != consumer["entity_id"]:
            raise OauthError("Request token is not associated with the specified consumer")
        if token["type"] != "request":
            raise OauthError("Cannot get access token because consumer token is not a request token")
        verifier = params["oauth_verifier"]
        if len(verifier) != 32:
            raise OauthError("Verifier is not the correct length")
        if not hmac.compare_digest(verifier, token["verifier"] or ""):
            raise OauthError("Token verifier and verifier token do not match")
        self.validate_signature(params, consumer, token["secret"], method, url)
        first = svc.integration_token(self.cur, self.site, consumer["entity_id"])
        if first is None or first["type"] != "request":
            raise OauthError("Cannot get access token because consumer token is not a request token")
        result = svc.to_access(self.cur, self.site, first["entity_id"])
        self.cur.execute(
            f"UPDATE {self.site.t('integration')} SET status=%s WHERE consumer_id=%s",
            (svc.STATUS_ACTIVE, consumer["entity_id"]),
        )
        return result

    # --- REST: Oauth::validateAccessTokenRequest
    def validate_access_request(self, params: dict[str, str], method: str, url: str) -> int:
        consumer = self.validate_protocol(params, [*BASE_REQUIRED, "oauth_token"])
        self.cur.execute(
            f"SELECT * FROM {self.site.t('oauth_token')} WHERE token=%s", (params["oauth_token"],)
        )
        token = self.cur.fetchone()
        if token is None:
            raise OauthError("Specified token does not exist")
        if token["consumer_id"] != consumer["entity_id"]:
            raise OauthError("Token is not associated with the specified consumer")
        if token["type"] != "access":
            raise OauthError("Token is not an access token")
        if token["revoked"]:
            raise OauthError("Access token has been revoked")
        self.validate_signature(params, consumer, self.site.encryptor.decrypt(token["secret"]), method, url)
        return int(consumer["entity_id"])
