"""OAuth 1.0a client for Magento's integration handshake (C6) and signed REST calls (C7).

Public API (stable):
    class Token(token, secret)                          request or access token; repr hides both
    class OAuthProblem(Exception)                       an ``oauth_problem=`` reply (C6.4): status, problem,
                                                        endpoint, hint, clause
    class RestError(Exception)                          a REST error reply (C7.2): status, path,
                                                        magento_message (raw), parameters, text
                                                        (placeholders filled), trace, hint, clause
    class OAuthTransportError(Exception)                Magento could not be reached
    request_token(base_url, consumer_key, consumer_secret, *, timeout, verify) -> Token
    access_token(base_url, consumer_key, consumer_secret, request: Token, verifier, *, timeout, verify)
        -> Token
    signed_request(method, url, credentials, *, timeout, verify, data=None) -> requests.Response
    rest_url(base_url, path) -> str                     ``<base_url>rest`` + path (the probe URL)
    probe(base_url, path, credentials, *, timeout, verify) -> int   200, or raises RestError
    problem_hint(problem) -> (hint, clause)             the hint for one C6.4 text
    rest_error_hint(message) -> (hint, clause)          the hint for one C7.2 message
    fill_placeholders(message, parameters) -> str       Magento's %name / %1 filled from parameters
    parse_token_reply(status, body, endpoint) -> Token  raises OAuthProblem for an error reply

Every request is signed with HMAC-SHA256 (C6.2), parameters in the ``Authorization: OAuth`` header only
(C6.1), over exactly the URL built from ``base_url``, which must be the store URL as Magento sees it.
No secret ever appears in an exception message, a repr or a hint.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

# Missing libraries are reported by the module's main() (magento_requirements), not by a traceback here.
try:
    import requests

    HAS_REQUESTS = True
except ImportError:
    requests = None  # type: ignore[assignment]
    HAS_REQUESTS = False
try:
    from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER
    from requests_oauthlib import OAuth1

    HAS_REQUESTS_OAUTHLIB = True
except ImportError:
    SIGNATURE_HMAC_SHA256 = SIGNATURE_TYPE_AUTH_HEADER = ""
    OAuth1 = None  # type: ignore[assignment,misc]
    HAS_REQUESTS_OAUTHLIB = False

# C6.1 endpoints, relative to the base URL.
REQUEST_TOKEN_PATH = "oauth/token/request"  # noqa: S105 (a URL path)
ACCESS_TOKEN_PATH = "oauth/token/access"  # noqa: S105 (a URL path)
# C7 REST prefix, relative to the base URL.
REST_PREFIX = "rest"
# C6.3 token and secret length; also the consumer key and verifier lengths (C6.4).
TOKEN_LENGTH = 32


@dataclass(frozen=True)
class Token:
    """A request or access token. Both values are secrets: repr shows neither."""

    token: str = field(repr=False)
    secret: str = field(repr=False)


class SigningCredentials(Protocol):
    """What ``signed_request`` needs (magento_credentials.Credentials satisfies it)."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


# C6.4: every oauth_problem text Magento answers, with its likely cause and fix. One place for these texts.
# (pattern matched against the decoded problem, hint, clause)
_PROBLEM_HINTS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"^Signature method (?P<method>.+) is not supported$"),
        "Magento accepts only HMAC-SHA256 signatures: sign with HMAC-SHA256 (something between this "
        "client and Magento rewrote the Authorization header)",
        "C6.2",
    ),
    (
        re.compile(r"^The signature is invalid\. Verify and try again\.$"),
        "the signed URL or the secret differs from Magento's: base_url must be the store URL exactly as "
        "Magento sees it (scheme, host, port; behind a TLS proxy Magento honours X-Forwarded-Proto; a web "
        "server that passes HTTP_HOST without the port, as Debian's nginx fastcgi_params does with $host, "
        "makes Magento sign without it: pass $http_host), and the consumer secret must be the one Magento "
        "posted for this integration",
        "C6.1",
    ),
    (
        re.compile(r"^Consumer key has expired$"),
        "more than expiration_period (default 300 s) passed since activation posted the credentials: "
        "activate again, faster, or raise oauth/consumer/expiration_period",
        "C6.5",
    ),
    (
        re.compile(r"^A consumer having the specified key does not exist$"),
        "Magento has no consumer with this key: the integration was recreated by setup:upgrade after the "
        "key was read (new consumer, C3.2) or the credentials belong to another store: read the "
        "integration again and activate it",
        "C3.2",
    ),
    (
        re.compile(r"^Consumer key is not the correct length$"),
        "the consumer key is not 32 characters: use the oauth_consumer_key exactly as Magento posted it",
        "C6.4",
    ),
    (
        re.compile(r"^The nonce is already being used by the consumer with ID (?P<consumer_id>\d+)$"),
        "the nonce was already used (Magento stores it before checking the signature, so a retry with the "
        "same nonce fails): sign the retry again with a fresh nonce and timestamp",
        "C6.5",
    ),
    (
        re.compile(r"^An error occurred validating the nonce$"),
        "the timestamp is more than 600 s ahead of Magento's clock (or not positive): fix the clock skew "
        "between this host and the store (NTP on both)",
        "C6.4",
    ),
    (
        re.compile(r"^Cannot create request token because consumer token is not a verifier token$"),
        "an old request/access row wedges the consumer: purge this integration's tokens before activating",
        "C6.6",
    ),
    (
        re.compile(r"^A token with consumer ID (?P<consumer_id>\d+) does not exist$"),
        "the consumer has no verifier row: its tokens were purged after activation (that deletes the "
        "fresh verifier too) or activation did not run: purge the tokens first, then activate again",
        "C6.6",
    ),
    (
        re.compile(r"^Cannot get access token because consumer token is not a request token$"),
        "the consumer's token row is not a request token: the request token was already exchanged or "
        "another activation ran meanwhile: purge this integration's tokens and activate again, one run "
        "at a time",
        "C6.6",
    ),
    (
        re.compile(r"^Specified token does not exist$"),
        "Magento has no request token of this value: it was already exchanged for an access token (a "
        "second /oauth/token/access with the same request token, e.g. a retry after a lost reply, gets "
        "this) or the rows were deleted (a token purge or reauthorization ran meanwhile): run the whole "
        "handshake again, activation first, exchanging each request token once, one run at a time",
        "C6.4",
    ),
    (
        re.compile(r"^Token verifier and verifier token do not match$"),
        "the oauth_verifier is not the one Magento stored: another activation posted a newer verifier: "
        "activate once and use the verifier from that POST",
        "C5.3",
    ),
    (
        re.compile(r"^Verifier is not the correct length$"),
        "the oauth_verifier is not 32 characters: use the verifier exactly as Magento posted it",
        "C6.4",
    ),
)

# C6.4 missing parameters: one reads '"oauth_consumer_key" is required. Enter and try again.'; with no
# Authorization header at all Magento joins one message per parameter with ", ", none with a period
# (recorded on 2.4.7-p3). A period before each comma is accepted too.
_MISSING_ONE = r'"[^"]+" is required\. Enter and try again\.?'
_MISSING_PARAMETERS = re.compile(rf"^{_MISSING_ONE}(?:, {_MISSING_ONE})*$")
_MISSING_NAME = re.compile(r'"([^"]+)" is required')
# What Magento demands on every OAuth request (C6.5); all of them missing means no header reached PHP.
_ALWAYS_REQUIRED = frozenset(
    {"oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce", "oauth_timestamp"}
)


def _missing_parameters_hint(problem: str) -> tuple[str, str] | None:
    if not _MISSING_PARAMETERS.match(problem):
        return None
    names = _MISSING_NAME.findall(problem)
    listed = ", ".join(names)
    if _ALWAYS_REQUIRED <= set(names):
        return (
            f"no OAuth parameter reached Magento ({listed} missing): the web server or proxy in front of "
            "PHP dropped the Authorization header; pass it through (Apache: CGIPassAuth On; nginx/FastCGI: "
            "fastcgi_param HTTP_AUTHORIZATION $http_authorization) and check that no proxy strips it",
            "C6.1",
        )
    return (
        f"the Authorization header reached Magento without a value for {listed}: the consumer key, token "
        "or verifier given to the client was empty or left out: use the values Magento posted to the "
        "endpoint, in full",
        "C6.4",
    )


# C7.2 REST error messages, with cause and fix. (pattern, hint, clause)
_REST_HINTS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"^The consumer isn't authorized to access %resources\.$"),
        "the call did not come from an active integration granted the resource named: its ACL lacks it "
        "(grant it in the integration's configuration and reinstall, or probe a route it is granted, "
        "C4.3), or the integration is not active (status must be 1, C7.1), or no OAuth signature reached "
        "Magento (a proxy dropped the Authorization header, or a Bearer token was sent: Magento answers "
        "both like an anonymous call, C7.3)",
        "C7.2",
    ),
    (
        re.compile(r"^The signature is invalid\. Verify and try again\.$"),
        "the signed URL or the secrets differ from Magento's: base_url must be the store URL exactly as "
        "Magento sees it, and the consumer and access secrets must be the current ones",
        "C7.2",
    ),
    (
        re.compile(r"^Specified token does not exist$"),
        "the access token was deleted (by a reauthorization or a token purge): run the handshake again",
        "C7.2",
    ),
    (
        # Magento sends the method as %1 with parameters ["HMAC-SHA1"] (recorded); filled in, the same.
        re.compile(r"^Signature method (?:%1|\S+) is not supported$"),
        "Magento accepts only HMAC-SHA256 signatures (C6.2): sign with HMAC-SHA256 (something between "
        "this client and Magento rewrote the Authorization header)",
        "C7.2",
    ),
    (
        re.compile(r'^"%fieldName" is required\. Enter and try again\.?$'),
        "the route needs the query parameter named: list routes such as /V1/orders need searchCriteria: "
        "set probe_path to e.g. /V1/orders?searchCriteria[pageSize]=1",
        "C7.4",
    ),
    (
        re.compile(r"^Request does not match any route\.$"),
        "Magento has no REST route for this method and path: set probe_path to a GET route of an enabled "
        "module, starting at /V1/ (without /rest), e.g. /V1/orders?searchCriteria[pageSize]=1",
        "C7.4",
    ),
)

# Magento's %name / %1 placeholders (Magento\Framework\Phrase): a name for an object of parameters, a
# 1-based position for a list.
_PLACEHOLDER = re.compile(r"%(\w+)")


def fill_placeholders(message: str, parameters: Any) -> str:
    """Magento's message with ``%name`` (parameters an object) or ``%1`` (a list) replaced; others kept."""
    if isinstance(parameters, dict):
        values = {str(k): v for k, v in parameters.items()}
    elif isinstance(parameters, list):
        values = {str(i): v for i, v in enumerate(parameters, start=1)}
    else:
        return message

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return match.group(0)
        return value if isinstance(value, str) else json.dumps(value)

    return _PLACEHOLDER.sub(one, message)


_GENERIC_PROBLEM_HINT = (
    "Magento refused the OAuth request with a problem this module does not know: check the store's "
    "var/log/exception.log",
    "C6.4",
)
UNEXPECTED_REPLY = "unexpected reply"
_SERVER_ERROR_HINT = (
    "the store failed with a server error instead of answering the OAuth request (not an OAuth problem): "
    "see the store's var/log/exception.log and the web server's error log, fix that, then run again"
)
_GENERIC_REST_HINT = ("Magento refused the REST call: check the store's var/log/exception.log", "C7.2")


def problem_hint(problem: str) -> tuple[str, str]:
    """The likely cause and fix (and the contract clause) for one C6.4 ``oauth_problem`` text."""
    for pattern, hint, clause in _PROBLEM_HINTS:
        if pattern.match(problem):
            return hint, clause
    return _missing_parameters_hint(problem) or _GENERIC_PROBLEM_HINT


def rest_error_hint(message: str) -> tuple[str, str]:
    """The likely cause and fix (and the clause) for one C7.2 REST error message."""
    for pattern, hint, clause in _REST_HINTS:
        if pattern.match(message):
            return hint, clause
    return _GENERIC_REST_HINT


class OAuthProblem(Exception):
    """Magento answered an OAuth endpoint with ``oauth_problem=...`` (C6.4). Carries no secret."""

    def __init__(self, status: int, problem: str, endpoint: str) -> None:
        self.status = status
        self.problem = problem
        self.endpoint = endpoint
        self.hint, self.clause = problem_hint(problem)
        if status >= 500 and problem.startswith(UNEXPECTED_REPLY):
            # No oauth_problem at all: PHP or the web server failed before Magento's OAuth code answered.
            self.hint = _SERVER_ERROR_HINT
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.endpoint} answered {self.status} '{self.problem}': {self.hint} ({self.clause})"


class RestError(Exception):
    """A signed REST call failed (C7.2). ``magento_message`` is Magento's text with its placeholders raw
    (``%resources``, ``%1``), ``text`` the same with them filled from ``parameters`` (an object or a list).
    ``trace`` is the developer-mode stack trace (a string, or None) and stays out of the message."""

    def __init__(
        self, status: int, path: str, message: str, parameters: Any = None, trace: str | None = None
    ) -> None:
        self.status = status
        self.path = path
        self.magento_message = message
        self.parameters = parameters
        self.trace = trace
        self.text = fill_placeholders(message, parameters)
        self.hint, self.clause = rest_error_hint(message)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"GET {self.path} answered {self.status} '{self.text}': {self.hint} ({self.clause})"

    @classmethod
    def from_response(cls, status: int, path: str, body: str) -> RestError:
        """Parse a C7.2 JSON error body; anything else keeps the first 200 characters of the body."""
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            trace = data.get("trace")
            return cls(
                status,
                path,
                data["message"],
                data.get("parameters"),
                trace if isinstance(trace, str) else None,
            )
        return cls(status, path, (body or "").strip()[:200] or "(empty body)")


class OAuthTransportError(Exception):
    """The store could not be reached (no secret in the message)."""


def _endpoint_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def rest_url(base_url: str, path: str) -> str:
    """The REST URL of ``path`` (``/V1/...``) under ``base_url`` (C7.4: ``<base>/rest/V1/...``)."""
    return _endpoint_url(base_url, REST_PREFIX + "/" + path.lstrip("/"))


def _auth(
    consumer_key: str,
    consumer_secret: str,
    token: str | None = None,
    token_secret: str | None = None,
    verifier: str | None = None,
) -> OAuth1:
    # C6.1/C6.2: HMAC-SHA256, parameters in the Authorization header only; oauthlib adds a fresh nonce
    # and timestamp to every request (C6.5: a retry must not reuse a nonce).
    return OAuth1(
        consumer_key,
        client_secret=consumer_secret,
        resource_owner_key=token,
        resource_owner_secret=token_secret,
        verifier=verifier,
        signature_method=SIGNATURE_HMAC_SHA256,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
    )


def _send(
    method: str, url: str, auth: OAuth1, timeout: float, verify: bool | str, **kwargs: Any
) -> requests.Response:
    try:
        return requests.request(
            method, url, auth=auth, timeout=timeout, verify=verify, allow_redirects=False, **kwargs
        )
    except requests.RequestException as exc:
        # The exception text names the URL and the failure, never the Authorization header.
        raise OAuthTransportError(
            f"{method} {url} failed: {type(exc).__name__}: {exc}: check that base_url reaches the store "
            "from this host"
        ) from None


def parse_token_reply(status: int, body: str, endpoint: str) -> Token:
    """A C6.3 success body as a Token; an ``oauth_problem`` (or any other) reply raises OAuthProblem."""
    fields = parse_qs(body or "", keep_blank_values=True)
    if "oauth_problem" in fields:
        raise OAuthProblem(status, fields["oauth_problem"][0], endpoint)
    token = fields.get("oauth_token", [""])[0]
    secret = fields.get("oauth_token_secret", [""])[0]
    if status != 200 or not token or not secret:
        snippet = "" if token or secret else f" '{(body or '').strip()[:120]}'"
        raise OAuthProblem(status, f"{UNEXPECTED_REPLY}{snippet}", endpoint)
    return Token(token, secret)


def request_token(
    base_url: str, consumer_key: str, consumer_secret: str, *, timeout: float = 30, verify: bool | str = True
) -> Token:
    """POST /oauth/token/request signed with the consumer key and secret (key ``secret&``, C6.5)."""
    url = _endpoint_url(base_url, REQUEST_TOKEN_PATH)
    reply = _send("POST", url, _auth(consumer_key, consumer_secret), timeout, verify)
    return parse_token_reply(reply.status_code, reply.text, "/" + REQUEST_TOKEN_PATH)


def access_token(
    base_url: str,
    consumer_key: str,
    consumer_secret: str,
    request: Token,
    verifier: str,
    *,
    timeout: float = 30,
    verify: bool | str = True,
) -> Token:
    """POST /oauth/token/access signed with consumer + request token and the posted verifier (C6)."""
    url = _endpoint_url(base_url, ACCESS_TOKEN_PATH)
    auth = _auth(consumer_key, consumer_secret, request.token, request.secret, verifier)
    reply = _send("POST", url, auth, timeout, verify)
    return parse_token_reply(reply.status_code, reply.text, "/" + ACCESS_TOKEN_PATH)


def signed_request(
    method: str,
    url: str,
    credentials: SigningCredentials,
    *,
    timeout: float = 30,
    verify: bool | str = True,
    data: Any = None,
) -> requests.Response:
    """One request signed with consumer + access token (C7.1). ``url`` must start with the base URL."""
    auth = _auth(
        credentials.consumer_key,
        credentials.consumer_secret,
        credentials.access_token,
        credentials.access_token_secret,
    )
    headers = {"Accept": "application/json"}
    return _send(method, url, auth, timeout, verify, data=data, headers=headers)


def probe(
    base_url: str,
    path: str,
    credentials: SigningCredentials,
    *,
    timeout: float = 30,
    verify: bool | str = True,
) -> int:
    """Signed ``GET <base>rest<path>`` (C7.4); returns 200 or raises RestError with Magento's message."""
    reply = signed_request("GET", rest_url(base_url, path), credentials, timeout=timeout, verify=verify)
    if reply.status_code != 200:
        raise RestError.from_response(reply.status_code, path, reply.text)
    return reply.status_code
