"""Step 6 of the flow: activate an integration, finish the OAuth handshake, prove and deliver the tokens.

Public API (stable):
    HANDSHAKE_OPTIONS: dict                   argument_spec entries (merged with site_argument_spec())
    HELPER_MODULE = "Reintegrate_CliActivation"; CLI_ACTIVATE = "integration:activate"
    class HandshakeOptions                    typed view of the module options
    handshake_options(params) -> HandshakeOptions
    run_handshake(site_params, options, *, check_mode=False, want_diff=False) -> dict
        the module result (changed, integration facts, activation, probe, timings, diff, warnings);
        raises ModuleFailure whose message names the cause and the fix. Never returns a secret.
    parse_cli_activation(stdout) -> dict[str, str]      the ``key: value`` lines of integration:activate
    cli_failure_message(name, rc, stdout, stderr, external_endpoint=None) -> str
    external_post_failed_message(via, endpoint_url) -> str   C5.3 POST not delivered, endpoint: external
    redacted_diff(path, old, new) -> dict     Ansible diff with secrets replaced by markers

Flow (apply): read the integration and its consumer key from the DB (never the secret); preflight the
DB, the store's OAuth endpoint, the listener port and the Admin login; unless converged (file passes the
probe, status 1) or forced: start the listener, activate (Admin tokensExchange or bin/magento
integration:activate), take the POST, ask the request token at once (C6.5), the access token, probe
``/rest<probe_path>`` signed, then write the credentials file atomically (0600).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# A missing library is reported by the module's main() (magento_requirements), not by a traceback here.
try:
    import requests
except ImportError:
    requests = None  # type: ignore[assignment]
from ansible.module_utils.magento_activation import HELPER_MODULE, TWO_FACTOR_MODULE, planned_activation
from ansible.module_utils.magento_admin import (
    POST_TO_CONSUMER_FAILED,
    ActivationPostFailed,
    AdminError,
    AdminSession,
)
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_contract import (
    DEFAULT_PROBE_PATH,
    STATUS_ACTIVE,
    STATUS_NAMES,
    TOKEN_TYPE_ACCESS,
)
from ansible.module_utils.magento_credentials import (
    FIELDS,
    SECRET_FIELDS,
    Credentials,
    CredentialsFileError,
    changed_fields,
    check_writable,
    file_mode,
    format_for,
    read_credentials,
    write_credentials,
)
from ansible.module_utils.magento_db import database_for
from ansible.module_utils.magento_integrations import (
    Integration,
    access_token_present,
    diagnose_tokens,
    find_integration,
    token_rows,
)
from ansible.module_utils.magento_integrations import consumer_key as read_consumer_key
from ansible.module_utils.magento_listener import EndpointListener, ListenerError
from ansible.module_utils.magento_oauth import (
    OAuthProblem,
    OAuthTransportError,
    RestError,
    access_token,
    probe,
    request_token,
)
from ansible.module_utils.magento_site import Site, site_from_params

HELPER_SRC = "magento/Reintegrate/CliActivation"
CLI_ACTIVATE = "integration:activate"
CLI_REAUTHORIZE = "--reauthorize"
# docs/interfaces.md: texts of integration:activate (besides Magento's own POST_TO_CONSUMER_FAILED).
CLI_NO_ENDPOINT = "has no endpoint URL or identity link URL"
CLI_UNKNOWN = "does not exist."
CLI_NOT_DEFINED = ('"integration:activate" is not defined', 'no commands defined in the "integration"')
HELPER_MISSING = (
    f"helper module {HELPER_MODULE} is not installed: install it with magento_integration_module "
    f"src={HELPER_SRC} and run setup:upgrade (production mode also needs setup:di:compile)"
)
BRIDGE_HINT = "with a bridge network use host.docker.internal"

HANDSHAKE_OPTIONS: dict[str, dict[str, Any]] = {
    "integration": {"type": "str", "required": True},
    "activation": {"type": "str", "default": "admin", "choices": ["admin", "cli", "auto"]},
    "endpoint": {"type": "str", "default": "self", "choices": ["self", "external"]},
    "listen_address": {"type": "str", "default": "127.0.0.1"},
    "listen_port": {"type": "int"},
    "listen_port_forwarded": {"type": "bool", "default": False},
    "listen_timeout": {"type": "int", "default": 30},
    "reauthorize": {"type": "str", "default": "auto", "choices": ["auto", "yes", "no"]},
    "probe_path": {"type": "str", "default": DEFAULT_PROBE_PATH},
    "credentials_path": {"type": "path"},
    "credentials_format": {"type": "str", "choices": ["json", "env"]},
    "force": {"type": "bool", "default": False},
    "cli_timeout": {"type": "int", "default": 120},
}


@dataclass(frozen=True)
class HandshakeOptions:
    integration: str
    activation: str = "admin"
    endpoint: str = "self"
    listen_address: str = "127.0.0.1"
    listen_port: int | None = None
    listen_port_forwarded: bool = False
    listen_timeout: int = 30
    reauthorize: str = "auto"
    probe_path: str = DEFAULT_PROBE_PATH
    credentials_path: str | None = None
    credentials_format: str | None = None
    force: bool = False
    cli_timeout: int = 120


def handshake_options(params: dict[str, Any]) -> HandshakeOptions:
    return HandshakeOptions(**{name: params.get(name) for name in HANDSHAKE_OPTIONS if name in params})


@dataclass
class _Timer:
    started: float = field(default_factory=time.monotonic)
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, since: float) -> None:
        self.marks[name] = round(time.monotonic() - since, 3)

    def result(self) -> dict[str, float]:
        return {**self.marks, "total": round(time.monotonic() - self.started, 3)}


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_cli_activation(stdout: str) -> dict[str, str]:
    """``key: value`` lines printed by ``bin/magento integration:activate`` (docs/interfaces.md)."""
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and " " not in key.strip():
            out[key.strip()] = value.strip()
    return out


def external_post_failed_message(via: str, endpoint_url: str) -> str:
    """C5.3's POST failed with ``endpoint: external``: no listener of ours is involved, the fix is the
    integration's own endpoint (the ``endpoint: self`` hint about listen_address would mislead)."""
    return (
        f"{via} could not deliver the activation POST to the integration's endpoint_url {endpoint_url} "
        f"('{POST_TO_CONSUMER_FAILED}'): with endpoint: external that endpoint must receive it and finish "
        "the handshake: start it and make it reachable from the store, or fix endpoint_url in the "
        "integration's configuration and reinstall it"
    )


def cli_failure_message(
    name: str, rc: int, stdout: str, stderr: str, external_endpoint: str | None = None
) -> str:
    text = (stderr.strip() or stdout.strip()).replace("\n", " ")
    if POST_TO_CONSUMER_FAILED in text and external_endpoint:
        return external_post_failed_message(f"bin/magento {CLI_ACTIVATE}", external_endpoint)
    if POST_TO_CONSUMER_FAILED in text:
        return (
            f"bin/magento {CLI_ACTIVATE} could not deliver the activation POST "
            f"('{POST_TO_CONSUMER_FAILED}'): "
            "the integration's endpoint_url must reach the listener from the store (endpoint: self binds "
            f"listen_address:listen_port; {BRIDGE_HINT})"
        )
    if CLI_NO_ENDPOINT in text:
        return (
            f"integration {name!r} has no endpoint URL or identity link URL, so Magento activates it without "
            "the OAuth handshake (C5.1): set both in its integration configuration and reinstall it"
        )
    if any(marker in text for marker in CLI_NOT_DEFINED):
        return (
            f"bin/magento has no {CLI_ACTIVATE} command: {HELPER_MODULE} is not registered: run "
            "bin/magento setup:upgrade (production mode also needs setup:di:compile)"
        )
    if CLI_UNKNOWN in text and "Integration" in text:
        return (
            f"bin/magento {CLI_ACTIVATE} says integration {name!r} does not exist, yet the DB holds it: "
            "the command and the DB reached by this module are different stores: check container/"
            "magento_root and db_host/db_port"
        )
    return f"bin/magento {CLI_ACTIVATE} exited {rc}: {text[:300] or '(no output)'}: check the store's logs"


def _redacted_text(path: str, creds: Credentials | None, marks: dict[str, str]) -> str:
    if creds is None:
        return ""
    lines = [f"# {path}"]
    values = creds.__dict__
    for name in FIELDS:
        shown = f"({marks.get(name, 'secret')})" if name in SECRET_FIELDS else values[name]
        lines.append(f"{name}: {shown}")
    return "\n".join(lines) + "\n"


def redacted_diff(path: str, old: Credentials | None, new: Credentials | None) -> dict[str, str]:
    """A diff of the credentials file: base_url and obtained_at shown, secrets as markers only."""
    changed = set(changed_fields(old, new)) if new is not None else set()
    before = {name: "secret" for name in SECRET_FIELDS}
    after = {name: ("new secret" if name in changed else "secret") for name in SECRET_FIELDS}
    return {
        "before_header": path,
        "after_header": path,
        "before": _redacted_text(path, old, before),
        "after": _redacted_text(path, new, after),
    }


class _Handshake:
    def __init__(self, sp: SiteParams, opts: HandshakeOptions, check_mode: bool, want_diff: bool) -> None:
        self.sp = sp
        self.opts = opts
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.timer = _Timer()
        self.warnings: list[str] = []
        self.result: dict[str, Any] = {"changed": False, "integration": opts.integration}
        self.base_url = (sp.base_url or "").rstrip("/") + "/"
        self.fmt = format_for(opts.credentials_path or "", opts.credentials_format)

    # ---------- preflight (read-only) ----------
    def validate(self) -> None:
        if not self.sp.base_url:
            raise ModuleFailure(
                "base_url is required: set it to the store URL exactly as Magento sees it (C6.1)"
            )
        if not urlsplit(self.base_url).scheme.startswith("http"):
            raise ModuleFailure(f"base_url {self.sp.base_url!r} is not an http(s) URL: fix base_url")
        if self.opts.endpoint == "self" and not self.opts.credentials_path:
            raise ModuleFailure(
                "credentials_path is required with endpoint: self: set it (the role uses "
                ".credentials/<inventory_hostname>/<integration>.json)"
            )
        if not self.opts.probe_path.startswith("/"):
            raise ModuleFailure(
                f"probe_path {self.opts.probe_path!r} must start with / (e.g. {DEFAULT_PROBE_PATH})"
            )
        if self.opts.listen_timeout <= 0:
            raise ModuleFailure("listen_timeout must be a positive number of seconds")

    def read_site(self) -> None:
        started = time.monotonic()
        self.site: Site = site_from_params(self.sp)
        self.site.preread_etc()  # the activation's check reads config.php next
        self.env = self.site.env()
        self.db = database_for(self.env, self.sp)
        self.integration = self._integration()
        if self.integration.consumer_id is None:
            raise ModuleFailure(
                f"integration {self.opts.integration!r} has no OAuth consumer: reinstall it (setup:upgrade "
                "recreates it from its configuration, C3.2)"
            )
        self.consumer_id = self.integration.consumer_id
        key = read_consumer_key(self.db, self.consumer_id)
        if not key:
            raise ModuleFailure(
                f"consumer {self.consumer_id} of integration {self.opts.integration!r} is missing: reinstall "
                "the integration (setup:upgrade recreates it, C3.2)"
            )
        self.consumer_key = key
        self.rows = token_rows(self.db, self.consumer_id)
        self.timer.mark("read_site", started)

    def _integration(self) -> Integration:
        found = find_integration(self.db, self.opts.integration)
        if found is None:
            raise ModuleFailure(
                f"integration {self.opts.integration!r} does not exist in the store's DB: install its "
                "module and "
                "run setup:upgrade first (magento_integration_module, magento_cli)"
            )
        return found

    def check_endpoint_config(self) -> None:
        integ = self.integration
        if not integ.endpoint or not integ.identity_link_url:
            raise ModuleFailure(
                f"integration {integ.name!r} has no endpoint URL or identity link URL, so Magento "
                "activates it "
                "without the OAuth handshake (C5.1): set both in its integration configuration and "
                "reinstall it"
            )
        if self.opts.endpoint != "self":
            return
        parts = urlsplit(integ.endpoint)
        endpoint_port = parts.port or (443 if parts.scheme == "https" else 80)
        self.listen_port = endpoint_port if self.opts.listen_port is None else self.opts.listen_port
        if self.listen_port != endpoint_port and not self.opts.listen_port_forwarded:
            # Magento posts to endpoint_url: a listener elsewhere gets nothing, and the run would fail
            # after the role purged the tokens. So this is an error, in check mode too (before the purge).
            raise ModuleFailure(
                f"the integration's endpoint_url {integ.endpoint} uses port {endpoint_port} but the listener "
                f"would bind {self.opts.listen_address}:{self.listen_port}, where Magento's POST never "
                f"arrives: leave listen_port unset (it defaults to {endpoint_port}), point endpoint_url at "
                f"port {self.listen_port}, or set listen_port_forwarded when a port forward really maps "
                "one to the other",
                endpoint_port=endpoint_port,
                listen_port=self.listen_port,
            )
        if parts.scheme == "https":
            raise ModuleFailure(
                f"endpoint_url {integ.endpoint} is https: the listener speaks plain http: point "
                "endpoint_url at "
                f"http://{self.opts.listen_address}:{self.listen_port}/... or use endpoint: external"
            )

    def preflight_http(self) -> None:
        """The store's OAuth endpoint answers an unsigned call with an oauth_problem; that call stores no
        consumer and no nonce. Magento's endpoint takes any method (C6.1), and GET goes first because it is
        a safe method: for a POST to a frontend controller Magento saves a customer_visitor row
        (Magento\\Customer\\Model\\Visitor::initByRequest skips only safe methods), which a check run must
        not write. POST follows only when the GET was not answered with an oauth_problem (a front end that
        routes only POST there)."""
        started = time.monotonic()
        url = self.base_url + "oauth/token/request"
        for method in ("GET", "POST"):
            try:
                reply = requests.request(
                    method,
                    url,
                    timeout=self.sp.http_timeout,
                    verify=self.sp.tls_verify,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise ModuleFailure(
                    f"cannot reach the store at {url} ({type(exc).__name__}): start the store or fix "
                    "base_url (it must be the URL Magento sees, reachable from this host)"
                ) from None
            if "oauth_problem=" in reply.text:
                self.timer.mark("preflight_http", started)
                return
        raise ModuleFailure(
            f"{url} answered {reply.status_code} without an oauth_problem: base_url does not point at the "
            "Magento store's root (check scheme, host, port and path)"
        )

    def resolve_activation(self) -> str:
        wanted = self.opts.activation
        modules = self.site.config_modules()
        helper_on = modules.get(HELPER_MODULE) is True
        tfa_on = modules.get(TWO_FACTOR_MODULE) is True
        has_credentials = bool(self.sp.admin_username and self.sp.admin_password)
        if wanted == "auto":
            if not helper_on and tfa_on:
                raise ModuleFailure(
                    f"{TWO_FACTOR_MODULE} is enabled, so the Admin login cannot be automated, and "
                    f"{HELPER_MESSAGE_TAIL}"
                )
            if not helper_on and not has_credentials:
                raise ModuleFailure(
                    f"activation: auto found no admin_username/admin_password and {HELPER_MESSAGE_TAIL}"
                )
            return planned_activation(wanted, modules, has_credentials)
        if wanted == "cli" and not helper_on:
            state = "disabled in app/etc/config.php" if HELPER_MODULE in modules else "not installed"
            raise ModuleFailure(
                HELPER_MISSING
                if state == "not installed"
                else f"helper module {HELPER_MODULE} is {state}: "
                f"run bin/magento module:enable {HELPER_MODULE} and setup:upgrade (production mode also "
                "needs "
                "setup:di:compile)"
            )
        if wanted == "admin":
            if not (self.sp.admin_username and self.sp.admin_password):
                raise ModuleFailure(
                    "activation: admin needs admin_username and admin_password (or use activation: cli)"
                )
            if tfa_on:
                raise ModuleFailure(
                    f"{TWO_FACTOR_MODULE} is enabled in app/etc/config.php: two-factor auth blocks an "
                    "automated "
                    "Admin login (C5.2): use activation: cli (or auto)"
                )
        return wanted

    def admin_login(self) -> AdminSession:
        front = self.env.backend_frontname
        if not front:
            raise ModuleFailure(
                "app/etc/env.php has no backend.frontName (C1.2): fix env.php or use activation: cli"
            )
        session = AdminSession(
            self.base_url,
            front,
            self.sp.admin_username or "",
            self.sp.admin_password or "",
            timeout=self.sp.http_timeout,
            verify=self.sp.tls_verify,
        )
        started = time.monotonic()
        try:
            session.login()
            session.tokens_exchange_template()  # proves the grid is reachable before anything changes
        except AdminError as exc:
            session.close()
            raise ModuleFailure(str(exc), admin_error=type(exc).__name__) from None
        self.timer.mark("admin_login", started)
        return session

    # ---------- convergence ----------
    def existing_state(self) -> None:
        path = self.opts.credentials_path
        self.existing: Credentials | None = None
        self.existing_mode: str | None = None
        if not path:
            return
        try:
            self.existing = read_credentials(path, self.fmt)
        except CredentialsFileError as exc:
            self.warnings.append(f"{exc}; it will be replaced")
            self.existing = None
        self.existing_mode = file_mode(path)

    def converged_reason(self) -> str | None:
        """None when converged; else why a handshake is needed."""
        integ = self.integration
        if self.opts.force:
            return "force"
        if integ.status != STATUS_ACTIVE:
            return f"integration status is {integ.status} ({integ.status_name}), not 1"
        if self.opts.endpoint == "external":
            has_access = any(r.type == TOKEN_TYPE_ACCESS for r in self.rows)
            return None if has_access else "the consumer has no access token"
        creds = self.existing
        if creds is None:
            return "no credentials file"
        if creds.base_url.rstrip("/") != self.base_url.rstrip("/"):
            return "the credentials file is for another base_url"
        if creds.consumer_key != self.consumer_key:
            return "the consumer key changed (the integration was recreated, C3.2)"
        if not access_token_present(self.db, self.consumer_id, creds.access_token):
            return "the file's access token is not the consumer's access token"
        diagnosis = diagnose_tokens(self.rows)
        if diagnosis.wedged:
            # Working tokens today, but the next activation (a human's Reauthorize included) fails (C6.6).
            return f"the consumer is wedged: {diagnosis.reason}"
        # Also in check mode: the answer must be what apply would see. The signed GET changes nothing but
        # the oauth_nonce row Magento stores for every signed call (replay protection, C6.5).
        try:
            self.signed_probe(creds)
        except RestError as exc:
            self.warnings.append(f"the existing credentials fail the probe: {exc}")
            return f"the probe answered {exc.status}"
        return None

    def decide_reauthorize(self) -> bool:
        if self.opts.reauthorize != "auto":
            return self.opts.reauthorize == "yes"
        return self.integration.status == STATUS_ACTIVE or bool(self.rows)

    def check_tokens(self, reauthorize: bool) -> None:
        diagnosis = diagnose_tokens(self.rows)
        # reauthorize deletes ONE integration row (the one Magento finds first); more rows, or a request/
        # access row left without reauthorize, wedge the consumer (C6.6).
        blocking = diagnosis.wedged or (diagnosis.leftover and not reauthorize)
        if blocking and self.check_mode:
            # What the role's check asks before it purges: a reason to purge, not an error. The purge
            # (magento_oauth_tokens state=absent) deletes these rows, then the activation starts clean.
            self.result["purge_needed"] = True
            self.warnings.append(
                f"{diagnosis.reason or 'leftover token rows'}: purging this integration's tokens before the "
                "activation clears it"
            )
            return
        if blocking:
            raise ModuleFailure(
                f"integration {self.opts.integration!r}: {diagnosis.reason or 'leftover token rows'}; run "
                "magento_oauth_tokens state=absent for it before activating (C6.6)",
                token_types=diagnosis.types,
            )

    # ---------- activation and handshake ----------
    def activate_cli(self, reauthorize: bool) -> dict[str, str]:
        args = [CLI_ACTIVATE, self.opts.integration] + ([CLI_REAUTHORIZE] if reauthorize else [])
        res = self.site.cli(args, timeout=self.opts.cli_timeout)
        if res.rc != 0:
            external = self.integration.endpoint if self.opts.endpoint == "external" else None
            raise ModuleFailure(
                cli_failure_message(self.opts.integration, res.rc, res.stdout, res.stderr, external)
            )
        out = parse_cli_activation(res.stdout)
        if out.get("integration_id") not in (None, str(self.integration.integration_id)):
            raise ModuleFailure(
                f"bin/magento {CLI_ACTIVATE} activated integration {out.get('integration_id')}, not "
                f"{self.integration.integration_id}: the command and this module reach different stores"
            )
        return out

    def activate(self, method: str, session: AdminSession | None, reauthorize: bool) -> None:
        started = time.monotonic()
        # From here on Magento's state changes (consumer stamped, verifier minted): a failure is changed.
        self.result["changed"] = True
        if method == "cli":
            self.activate_cli(reauthorize)
        else:
            if session is None:  # planned_activation gave admin, so the preflight logged in
                raise AssertionError("activation admin without an Admin session")
            try:
                session.tokens_exchange(self.integration.integration_id, reauthorize)
            except ActivationPostFailed as exc:
                message = str(exc)
                if self.opts.endpoint == "external":
                    message = external_post_failed_message("Magento", self.integration.endpoint or "")
                raise ModuleFailure(message, admin_error=type(exc).__name__) from None
            except AdminError as exc:
                raise ModuleFailure(str(exc), admin_error=type(exc).__name__) from None
        self.timer.mark("activation", started)

    def finish_oauth(self, post: Any) -> Credentials:
        if post.store_base_url and post.store_base_url.rstrip("/") != self.base_url.rstrip("/"):
            self.warnings.append(
                f"Magento posted store_base_url {post.store_base_url} but base_url is {self.base_url}: "
                "signatures are made over base_url; if they fail, set base_url to the URL Magento sees"
            )
        started = time.monotonic()
        try:
            # C6.5: the consumer expires expiration_period after the POST: ask at once.
            req = request_token(
                self.base_url,
                post.consumer_key,
                post.consumer_secret,
                timeout=self.sp.http_timeout,
                verify=self.sp.tls_verify,
            )
            acc = access_token(
                self.base_url,
                post.consumer_key,
                post.consumer_secret,
                req,
                post.verifier,
                timeout=self.sp.http_timeout,
                verify=self.sp.tls_verify,
            )
        except OAuthProblem as exc:
            raise ModuleFailure(
                f"OAuth handshake failed: {exc.message}", oauth_problem=exc.problem, clause=exc.clause
            ) from None
        except OAuthTransportError as exc:
            raise ModuleFailure(str(exc)) from None
        self.timer.mark("oauth", started)
        return Credentials(
            base_url=self.base_url,
            consumer_key=post.consumer_key,
            consumer_secret=post.consumer_secret,
            access_token=acc.token,
            access_token_secret=acc.secret,
            obtained_at=_utc_now(),
        )

    def signed_probe(self, creds: Credentials) -> None:
        """The signed GET on probe_path; records its status and time. A refused call raises RestError
        (each caller decides what that means); an unreachable store is a ModuleFailure."""
        started = time.monotonic()
        try:
            status = probe(
                self.base_url,
                self.opts.probe_path,
                creds,
                timeout=self.sp.http_timeout,
                verify=self.sp.tls_verify,
            )
        except OAuthTransportError as exc:
            raise ModuleFailure(str(exc)) from None
        self.timer.mark("probe", started)
        self.result["probe"] = {"path": self.opts.probe_path, "status": status}

    def prove(self, creds: Credentials) -> None:
        try:
            self.signed_probe(creds)
        except RestError as exc:
            kept = self.keep_unproven(creds)
            raise ModuleFailure(
                f"the new tokens were minted but the signed probe of {self.opts.probe_path} failed: "
                f"{exc.message}. The credentials file was not replaced; "
                + (f"the minted credentials are kept (0600, never printed) in {kept}. " if kept else "")
                + "A rerun purges these tokens and activates again: fix the cause first (the integration's "
                "resources or probe_path)",
                probe={"path": self.opts.probe_path, "status": exc.status},
                unproven_credentials_path=kept,
            ) from None

    def keep_unproven(self, creds: Credentials) -> str | None:
        """Minted but unproven credentials, beside the target and never over it: a human may still use
        them, and nothing of the old file is lost."""
        path = self.opts.credentials_path
        if not path:
            return None
        kept = f"{path}.unproven"
        try:
            write_credentials(kept, creds, self.fmt)
        except CredentialsFileError:
            return None
        return kept

    def wait_external(self) -> None:
        deadline = time.monotonic() + self.opts.listen_timeout
        while True:
            integ = self._integration()
            rows = token_rows(self.db, self.consumer_id)
            if integ.status == STATUS_ACTIVE and any(r.type == TOKEN_TYPE_ACCESS for r in rows):
                self.integration, self.rows = integ, rows
                return
            if time.monotonic() >= deadline:
                raise ModuleFailure(
                    f"the external endpoint did not finish the handshake in {self.opts.listen_timeout} s "
                    f"(status {integ.status}, token rows {[r.type for r in rows]}): check the endpoint's "
                    "logs "
                    f"and that it can reach {self.base_url}"
                )
            time.sleep(0.5)

    def preflight_listener(self) -> None:
        """Bind the listener's port and let it go, in check mode too: a busy port must fail before the
        role purges this integration's tokens, not after."""
        probe = EndpointListener(self.consumer_key, self.opts.listen_address, self.listen_port)
        try:
            probe.start()
        except ListenerError as exc:
            raise ModuleFailure(str(exc)) from None
        finally:
            probe.close()

    def preflight_credentials_path(self) -> None:
        """The credentials file can be written, in check mode too: tokens minted but not delivered are
        lost, and the purge before them has already logged the old credentials out."""
        try:
            check_writable(self.opts.credentials_path or "")
        except CredentialsFileError as exc:
            raise ModuleFailure(str(exc)) from None

    def handshake(self, method: str, session: AdminSession | None, reauthorize: bool) -> None:
        if self.opts.endpoint == "external":
            self.activate(method, session, reauthorize)
            self.wait_external()
            return
        path = urlsplit(self.integration.endpoint or "").path or "/"
        listener = EndpointListener(self.consumer_key, self.opts.listen_address, self.listen_port, path)
        try:
            listener.start()
        except ListenerError as exc:
            raise ModuleFailure(str(exc)) from None
        try:
            self.activate(method, session, reauthorize)
            started = time.monotonic()
            try:
                post = listener.wait(self.opts.listen_timeout)
            except ListenerError as exc:
                raise ModuleFailure(str(exc)) from None
            self.timer.mark("wait_post", started)
        finally:
            listener.close()
        creds = self.finish_oauth(post)
        self.prove(creds)
        path = self.opts.credentials_path or ""
        started = time.monotonic()
        try:
            write_credentials(path, creds, self.fmt)
        except CredentialsFileError as exc:
            raise ModuleFailure(str(exc)) from None
        self.timer.mark("write", started)
        self.new_credentials = creds

    # ---------- orchestration ----------
    def run(self) -> dict[str, Any]:
        self.validate()
        self.read_site()
        self.check_endpoint_config()
        self.existing_state()
        # A converged store is proven by the signed probe alone; only a run that goes on to activate
        # first proves that base_url answers as Magento's OAuth endpoint (an unsigned call stores nothing).
        reason = self.converged_reason()
        self.new_credentials: Credentials | None = None
        path = self.opts.credentials_path
        if reason is None:
            if path and self.opts.endpoint == "self" and self.existing_mode != "0600":
                self.result["changed"] = True
                if not self.check_mode:
                    os.chmod(path, 0o600)
                self.result["mode_fixed"] = True
            return self.finish(activation=None, reauthorized=False, reason=None)
        self.preflight_http()
        reauthorize = self.decide_reauthorize()
        self.check_tokens(reauthorize)
        if self.opts.endpoint == "self":
            self.preflight_listener()
            self.preflight_credentials_path()
        if self.check_mode:
            method = self.resolve_activation()
            self.result["changed"] = True
            return self.finish(activation=method, reauthorized=reauthorize, reason=reason)
        method = self.resolve_activation()
        session = self.admin_login() if method == "admin" else None
        try:
            self.handshake(method, session, reauthorize)
        finally:
            if session is not None:
                session.close()
        self.result["changed"] = True
        self.integration = self._integration()
        self.rows = token_rows(self.db, self.consumer_id)
        return self.finish(activation=method, reauthorized=reauthorize, reason=reason)

    def finish(self, activation: str | None, reauthorized: bool, reason: str | None) -> dict[str, Any]:
        integ = self.integration
        path = self.opts.credentials_path if self.opts.endpoint == "self" else None
        self.result.update(
            integration_id=integ.integration_id,
            consumer_id=integ.consumer_id,
            status=integ.status,
            status_name=STATUS_NAMES.get(integ.status, str(integ.status)),
            endpoint=self.opts.endpoint,
            endpoint_url=integ.endpoint,
            activation=activation,
            reauthorized=reauthorized if activation else False,
            reason=reason,
            credentials_path=path,
            credentials_format=self.fmt if path else None,
            access_rows=sum(1 for r in self.rows if r.type == TOKEN_TYPE_ACCESS),
            timings=self.timer.result(),
            warnings=self.warnings,
        )
        self.result.setdefault("probe", {"path": self.opts.probe_path, "status": None})
        self.result.setdefault("purge_needed", False)
        if path:
            if self.new_credentials is not None:
                fields = changed_fields(self.existing, self.new_credentials)
            elif activation is not None:  # check mode: every token changes
                fields = [f for f in FIELDS if f not in ("base_url",)] if self.existing else list(FIELDS)
            else:
                fields = []
            self.result["credentials_changed_fields"] = fields
            self.result["credentials_file_mode"] = (
                file_mode(path) if not self.check_mode else self.existing_mode
            )
            if self.want_diff and (fields or self.result.get("mode_fixed")):
                self.result["diff"] = self._diff(path, fields)
        return self.result

    def _diff(self, path: str, fields: list[str]) -> dict[str, str]:
        if self.new_credentials is not None:
            return redacted_diff(path, self.existing, self.new_credentials)
        placeholder = Credentials(
            base_url=self.base_url,
            consumer_key="",
            consumer_secret="",
            access_token="",
            access_token_secret="",
            obtained_at="(at the handshake)"
            if fields
            else (self.existing.obtained_at if self.existing else ""),
        )
        diff = redacted_diff(path, self.existing, placeholder)
        marks = {name: ("new secret" if name in fields else "secret") for name in SECRET_FIELDS}
        diff["after"] = _redacted_text(path, placeholder, marks)
        return diff


HELPER_MESSAGE_TAIL = (
    f"helper module {HELPER_MODULE} is not enabled: install it with magento_integration_module "
    f"src={HELPER_SRC} and run setup:upgrade (production mode also needs setup:di:compile)"
)


def run_handshake(
    site_params: SiteParams,
    options: HandshakeOptions,
    *,
    check_mode: bool = False,
    want_diff: bool = False,
    when_done: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """when_done(db) runs last, success or failure, with the run's connection to the site's database
    (None when it failed before opening one): the module releases the run lock on it."""
    run = _Handshake(site_params, options, check_mode, want_diff)
    try:
        return run.run()
    except ModuleFailure as exc:
        exc.details.setdefault("changed", bool(run.result.get("changed")) and not check_mode)
        raise
    finally:
        db = getattr(run, "db", None)
        try:
            if when_done is not None:
                when_done(db)
        finally:
            if db is not None:
                db.close()
