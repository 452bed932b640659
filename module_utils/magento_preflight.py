"""The run's plan, proven before its first destructive step (the setup rows, the tokens).

Everything here reads; the listener's port is bound and let go at once. Each proof that fails raises a
ModuleFailure whose message names the cause, the fix, and that nothing was changed.

Public API (stable):
    MIN_EXPIRATION_SECONDS
    class RunPlan(endpoint_url, listen_address, listen_port, listen_port_forwarded, probe_path,
                  resources, format, cli_helper_src, endpoint, listen_timeout,
                  credentials_path)
    plan_from_params(dict | None) -> RunPlan | None
    prove(site, env, db, plan, activation, modules, clock_skew, cli_user_proof) -> dict
                                                   the proofs, for RV(checks.plan)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from ansible.module_utils import magento_integrations as mi
from ansible.module_utils.magento_acl import AclError, AclTree
from ansible.module_utils.magento_activation import HELPER_MODULE
from ansible.module_utils.magento_background import InBackground
from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_listener import EndpointListener, ListenerError
from ansible.module_utils.magento_webapi import denied_resources, granted_resources, match, routes_from_files

# C6.4: Magento refuses an oauth_timestamp more than 600 s ahead of its own clock.
MAX_AHEAD_SECONDS = 600
# C6.5: the consumer expires expiration_period after the endpoint POST; the request token follows the POST
# within a second or two, a slow store's cold cache can take tens of seconds.
MIN_EXPIRATION_SECONDS = 30
NOTHING_CHANGED = "Nothing was changed."
CLI_ACTIVATE = "integration:activate"


@dataclass(frozen=True)
class RunPlan:
    endpoint_url: str | None = None
    listen_address: str = "127.0.0.1"
    listen_port: int = 0
    listen_port_forwarded: bool = False
    probe_path: str | None = None
    resources: list[str] = field(default_factory=list)
    format: str = "consolidated"
    cli_helper_src: str | None = None
    endpoint: str = "self"
    listen_timeout: float | None = None
    credentials_path: str | None = None


def plan_from_params(value: dict[str, Any] | None) -> RunPlan | None:
    if not value:
        return None
    return RunPlan(
        endpoint_url=value.get("endpoint_url") or None,
        listen_address=value.get("listen_address") or "127.0.0.1",
        listen_port=int(value.get("listen_port") or 0),
        listen_port_forwarded=bool(value.get("listen_port_forwarded")),
        probe_path=value.get("probe_path") or None,
        resources=list(value.get("resources") or []),
        format=value.get("format") or "consolidated",
        cli_helper_src=value.get("cli_helper_src") or None,
        endpoint=value.get("endpoint") or "self",
        listen_timeout=value.get("listen_timeout"),
        credentials_path=value.get("credentials_path") or None,
    )


def _fail(text: str, **extra: Any) -> ModuleFailure:
    return ModuleFailure(f"{text} {NOTHING_CHANGED}", **extra)


def with_declaration(plan: RunPlan, declared: dict[str, Any] | None) -> RunPlan:
    """The plan completed from the module's declaration (magento_integration_module's reading)."""
    if declared is None:
        return plan
    return replace(
        plan,
        endpoint_url=plan.endpoint_url or (declared.get("endpoint_url") if plan.endpoint == "self" else None),
        resources=plan.resources or list(declared.get("resources") or []),
        format=declared.get("format") or plan.format,
    )


def prove_listener(plan: RunPlan) -> dict[str, Any]:
    """Magento posts to endpoint_url: the listener must be able to bind where that arrives."""
    if plan.endpoint != "self" or not plan.endpoint_url:
        return {"ok": None, "detail": "no endpoint_url (endpoint: external, or none declared)"}
    parts = urlsplit(plan.endpoint_url)
    endpoint_port = parts.port or (443 if parts.scheme == "https" else 80)
    port = plan.listen_port or endpoint_port
    if parts.scheme == "https":
        # The handshake refuses it too, but only after setup:upgrade has applied the new endpoint_url.
        raise _fail(
            f"endpoint_url {plan.endpoint_url} is https, but the one-shot listener speaks plain http: point "
            f"endpoint_url at http://{plan.listen_address}:{port}/... or use endpoint: external."
        )
    if port != endpoint_port and not plan.listen_port_forwarded:
        raise _fail(
            f"endpoint_url {plan.endpoint_url} uses port {endpoint_port} but the listener would bind "
            f"{plan.listen_address}:{port}, where Magento's POST never arrives: leave listen_port unset "
            f"(it defaults to {endpoint_port}), or set listen_port_forwarded when a port forward maps one "
            "to the other."
        )
    try:
        EndpointListener("", plan.listen_address, port).check_bind()
    except ListenerError as exc:
        raise _fail(f"{exc}.") from None
    return {"ok": True, "address": plan.listen_address, "port": port}


def prove_probe(site: Any, plan: RunPlan) -> dict[str, Any]:
    """The probe's route exists and every ACL id it needs is one the integration will be granted."""
    if not plan.probe_path:
        return {"ok": None, "detail": "no probe_path"}
    if not plan.probe_path.startswith("/"):
        # The route matcher reads it anyway; the handshake refuses it, after the setup rows are gone.
        raise _fail(
            f"probe_path {plan.probe_path!r} must start with / (it is relative to /rest): set it to e.g. "
            "/V1/orders?searchCriteria[pageSize]=1."
        )
    try:
        tree = AclTree.from_files(site.acl_xml_files())
        routes = routes_from_files(site.webapi_xml_files())
    except AclError as exc:
        raise _fail(f"cannot read the store's ACL or REST routes: {exc}: fix that XML file.") from None
    route = match(routes, "GET", plan.probe_path)
    if route is None:
        raise _fail(
            f"probe_path {plan.probe_path} matches no REST route of the store's enabled modules (Magento "
            "would answer 404 'Request does not match any route.'): set probe_path to a GET route such as "
            "/V1/orders?searchCriteria[pageSize]=1."
        )
    granted = granted_resources(tree, plan.resources, plan.format)
    denied = denied_resources(route, granted)
    if denied:
        raise _fail(
            f"probe_path {plan.probe_path} (route GET {route.url}) needs {', '.join(denied)}, which the "
            f"integration will not be granted ({plan.format} format, it lists "
            f"{', '.join(plan.resources) or 'nothing'}; the store's ACL tree has {len(tree)} ids): the probe "
            "would answer 401 after the old tokens are gone. Add the id to the integration's resources, or "
            "set probe_path to a route it is granted."
        )
    return {"ok": True, "route": f"GET {route.url}", "resources": list(route.resources)}


def prove_clock(skew: float | None) -> dict[str, Any]:
    if skew is not None and skew > MAX_AHEAD_SECONDS:
        raise _fail(
            f"this host's clock is {skew:.0f} s ahead of the store's (the store's HTTP Date header); Magento "
            f"refuses OAuth timestamps more than {MAX_AHEAD_SECONDS} s ahead ('An error occurred validating "
            "the nonce', C6.4): fix the clock (NTP) on this host or the store."
        )
    return {"ok": True, "skew_seconds": skew}


def prove_expiry(db: Any) -> dict[str, Any]:
    period = mi.expiration_period(db)
    if period < MIN_EXPIRATION_SECONDS:
        raise _fail(
            f"oauth/consumer/expiration_period is {period} s: the consumer expires that long after Magento "
            "posts to the endpoint, before the request token can be asked for ('Consumer key has expired', "
            "C6.5): run bin/magento config:set oauth/consumer/expiration_period 300 (the default)."
        )
    return {"ok": True, "expiration_period": period}


def prove_cli(site: Any, env: Any, modules: dict[str, bool], plan: RunPlan) -> dict[str, Any]:
    """In production mode setup:upgrade --keep-generated compiles nothing: a helper that is new or changed
    brings no integration:activate until setup:di:compile, and one already there must be listed."""
    mode = getattr(env, "mage_mode", None) or "default"
    if mode != "production":
        return {"ok": True, "mage_mode": mode}
    if modules.get(HELPER_MODULE) is not True or helper_would_change(site, plan.cli_helper_src):
        raise _fail(
            f"the store is in production mode and the helper module {HELPER_MODULE} would be installed or "
            f"changed by this run: setup:upgrade --keep-generated does not compile it, so bin/magento "
            f"{CLI_ACTIVATE} would not exist after the tokens are purged. Install the helper with your "
            "deployment (module files, setup:upgrade, setup:di:compile) first, or use activation: admin."
        )
    res = site.cli(["list", "--raw"], timeout=300)
    listed = any(line.split(" ", 1)[0] == CLI_ACTIVATE for line in res.stdout.splitlines())
    if res.rc != 0 or not listed:
        raise _fail(
            f"bin/magento does not list {CLI_ACTIVATE} although {HELPER_MODULE} is enabled (production mode "
            "serves only compiled code): run bin/magento setup:di:compile, or use activation: admin."
        )
    return {"ok": True, "mage_mode": mode, "command_listed": True}


def helper_would_change(site: Any, src: str | None) -> bool:
    """The helper's source differs from what is installed (what magento_integration_module would write)."""
    if not src:
        return False
    import hashlib

    from ansible.module_utils.magento_module_files import read_src

    wanted = {rel: hashlib.sha256(data).hexdigest() for rel, data in read_src(src).items()}
    installed = site.runner.file_hashes(site.module_dir(HELPER_MODULE))
    return any(installed.get(rel) != digest for rel, digest in wanted.items())


def prove_cli_user(site: Any) -> dict[str, Any]:
    """bin/magento runs as cli_user: a user the store's host does not know fails setup:upgrade only after
    the setup rows are gone (docker exec answers 126 with no output)."""
    user = getattr(site, "cli_user", None)
    if not user:
        return {"ok": None, "detail": "no cli_user (the container's or SSH user)"}
    res = site.run_read_only(["true"], user=user)  # `true` changes nothing
    if res.rc != 0:
        detail = (res.stderr.strip() or res.stdout.strip() or "no output")[-200:]
        raise _fail(
            f"cannot start a process as cli_user {user!r} in {site.root} (rc {res.rc}: {detail}), so "
            "bin/magento would not run: set cli_user to a user that exists where the store runs (empty for "
            "the default user)."
        )
    return {"ok": True, "user": user}


def prove_delivery(plan: RunPlan) -> dict[str, Any]:
    """What the handshake checks too, but only after the setup rows are gone: the wait it may do and the
    file it writes last."""
    if plan.listen_timeout is not None and plan.listen_timeout <= 0:
        raise _fail(
            f"listen_timeout {plan.listen_timeout} must be a positive number of seconds: set it, e.g. 60."
        )
    if plan.endpoint != "self" or not plan.credentials_path:
        return {"ok": None, "detail": "no credentials file (endpoint external, or none given)"}
    from ansible.module_utils.magento_credentials import CredentialsFileError, check_writable

    try:
        check_writable(plan.credentials_path)
    except CredentialsFileError as exc:
        raise _fail(f"{exc}.") from None
    return {"ok": True, "credentials_path": plan.credentials_path}


def prove(
    site: Any,
    env: Any,
    db: Any,
    plan: RunPlan,
    activation: str,
    modules: dict[str, bool],
    clock_skew: float | None,
    cli_user_proof: InBackground[dict[str, Any]],
) -> dict[str, Any]:
    """Every proof, raised in this order; cli_user_proof is prove_cli_user(site), started by the caller
    while it read the site."""
    proofs: dict[str, Any] = {
        "clock": prove_clock(clock_skew),
        "consumer_expiry": prove_expiry(db),
        "listener": prove_listener(plan),
        "probe": prove_probe(site, plan),
        "cli_user": cli_user_proof.result(),
        "delivery": prove_delivery(plan),
    }
    if activation == "cli":
        proofs["cli"] = prove_cli(site, env, modules, plan)
    return proofs
