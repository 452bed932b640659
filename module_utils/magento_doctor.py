"""Read-only preflight and doctor of one site, for library/magento_site_info.py (issue 4 item 1).

Public API:
    clock_skew_seconds(date_header: str, now: datetime | None = None) -> float | None   local - server
    integration_report(db, integration, period) -> dict     status, consumer, token types, flags
    collect(params, integration=None, fail_on="connection", check_mode=False, activation="admin",
            admin_login="prove", plan=None, declare=None, check_handshake=None) -> dict
        the module result; logs in to the Admin (and reads the grid's tokensExchange template) only when
        the planned activation is admin; with admin_login "if_renewing" only when the handshake check
        finds the credentials must be renewed (after that check; else the caller proves it later);
        with a RunPlan, proves it (magento_preflight) and fails on the
        first proof that does not hold, whatever fail_on says; with check_handshake (the handshake's
        options), also runs magento_integration_handshake's check mode and returns it as handshake_check
Nothing here writes; the Admin login (skipped in check mode) is the one step Magento records.
Secrets (DB/admin password, crypt key, consumer key/secret, tokens) are never
returned.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from typing import Any
from urllib.parse import urlsplit

from ansible.module_utils import magento_integrations as mi
from ansible.module_utils.magento_activation import HELPER_MODULE, TWO_FACTOR_MODULE, planned_activation
from ansible.module_utils.magento_background import InBackground
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_contract import STATUS_ACTIVE, TOKEN_TYPE_ACCESS
from ansible.module_utils.magento_db import Database, database_for
from ansible.module_utils.magento_handshake import handshake_options, run_handshake
from ansible.module_utils.magento_module_files import install_module
from ansible.module_utils.magento_preflight import (
    MAX_AHEAD_SECONDS,
    RunPlan,
    helper_would_change,
    prove,
    prove_cli_user,
    with_declaration,
)
from ansible.module_utils.magento_read_snapshot import read_snapshot
from ansible.module_utils.magento_site import site_from_params

WARN_SKEW_SECONDS = 60


def clock_skew_seconds(date_header: str | None, now: dt.datetime | None = None) -> float | None:
    if not date_header:
        return None
    try:
        server = email.utils.parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    if server.tzinfo is None:
        server = server.replace(tzinfo=dt.timezone.utc)
    return round(((now or dt.datetime.now(dt.timezone.utc)) - server).total_seconds(), 1)


def integration_report(db: Database, integration: mi.Integration, period: int) -> dict[str, Any]:
    report = integration.facts()
    report.update(token_types=[], nonces=0, wedged=False, leftover_tokens=False, expired=False)
    report["active_without_access_token"] = False
    report["consumer_age_seconds"] = None
    report["problems"] = []
    if integration.consumer_id is None:
        return report
    rows = mi.token_rows(db, integration.consumer_id)
    diag = mi.diagnose_tokens(rows)
    age = mi.consumer_age_seconds(db, integration.consumer_id)
    report.update(
        token_types=diag.types,
        nonces=mi.nonce_count(db, integration.consumer_id),
        wedged=diag.wedged,
        leftover_tokens=diag.leftover,
        consumer_age_seconds=age,
        # C6.5: /request refuses a consumer stamped longer ago than expiration_period; only matters while
        # an activation is under way (verifier present, no access token yet).
        expired=mi.is_expired(age, period) and TOKEN_TYPE_ACCESS not in diag.types,
    )
    # Active with its one access row is the converged state (C5.4): the leftover flag stays a fact, but
    # it is a problem only next to other rows or on an integration that is not active.
    converged = integration.status == STATUS_ACTIVE and diag.types == [TOKEN_TYPE_ACCESS]
    if diag.reason and not converged:
        report["problems"].append(diag.reason)
    if integration.status == STATUS_ACTIVE and TOKEN_TYPE_ACCESS not in diag.types:
        report["active_without_access_token"] = True
        report["problems"].append(
            "status is 1 (active) but the consumer has no access token: nothing can call the API with it; "
            "purge its tokens and activate again (C5.4, C6.6)"
        )
    if report["expired"] and "verifier" in diag.types:
        report["problems"].append(
            f"the consumer was stamped {age} s ago, beyond expiration_period {period} s: "
            "/oauth/token/request answers 'Consumer key has expired'; activate again (C6.5)"
        )
    return report


def _http_check(params: SiteParams) -> dict[str, Any]:
    import requests

    try:  # requests names only the exception (InvalidSchema, InvalidURL), and the hint blamed the store
        parts = urlsplit(params.base_url or "")
        port = parts.port
    except ValueError:
        port, parts = -1, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ModuleFailure(
            f"base_url {params.base_url!r} is not an http(s) URL with a host and a valid port (1-65535): "
            "write it as Magento sees it, scheme included, e.g. http://127.0.0.1:8080/ (C6.1)"
        )
    try:
        reply = requests.get(
            params.base_url,  # type: ignore[arg-type]
            timeout=params.http_timeout,
            verify=params.tls_verify,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise ModuleFailure(
            f"HTTP GET {params.base_url} failed ({type(exc).__name__}): start the store, or set base_url to "
            "the URL this host reaches it at (as Magento sees it, C6.1)"
        ) from None
    skew = clock_skew_seconds(reply.headers.get("Date"))
    return {
        "ok": True,
        "status": reply.status_code,
        "date": reply.headers.get("Date"),
        "clock_skew_seconds": skew,
    }


def _admin_check(params: SiteParams, front_name: str | None) -> dict[str, Any]:
    from ansible.module_utils.magento_admin import AdminError, AdminSession, TwoFactorAuthRequired

    if not front_name:
        raise ModuleFailure("env.php has no backend.frontName: the Admin URL is unknown; fix app/etc/env.php")
    try:
        with AdminSession(
            params.base_url,  # type: ignore[arg-type]
            front_name,
            params.admin_username,  # type: ignore[arg-type]
            params.admin_password,  # type: ignore[arg-type]
            timeout=params.http_timeout,
            verify=params.tls_verify,
        ) as session:
            session.login()
            # What the Admin activation needs, proven before any destructive step: the grid, and a
            # tokensExchange template this module understands.
            session.tokens_exchange_template()
    except TwoFactorAuthRequired as exc:
        return {"ok": False, "two_factor_auth": True, "grid": False, "detail": str(exc)}
    except AdminError as exc:
        raise ModuleFailure(str(exc), admin_error=type(exc).__name__) from None
    return {"ok": True, "two_factor_auth": False, "grid": True, "detail": None}


# A read-only run: each site file is read once, in one snapshot shared by the declaration, the plan, the
# helper check and the handshake check.
@read_snapshot()
def collect(
    params: SiteParams,
    integration: str | None = None,
    fail_on: str = "connection",
    check_mode: bool = False,
    activation: str = "admin",
    admin_login: str = "prove",
    plan: RunPlan | None = None,
    declare: dict[str, Any] | None = None,
    check_handshake: dict[str, Any] | None = None,
) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    problems: list[str] = []
    warnings: list[str] = []
    timings: dict[str, float] = {}
    result: dict[str, Any] = {
        "changed": False,
        "checks": checks,
        "problems": problems,
        "warnings": warnings,
        "timings": timings,
    }
    started = lap = time.monotonic()

    def mark(name: str) -> None:
        nonlocal lap
        now = time.monotonic()
        timings[name] = round(now - lap, 3)
        lap = now

    def failed(name: str, exc: ModuleFailure) -> None:
        checks[name] = {"ok": False, "detail": exc.message}
        problems.append(exc.message)
        if fail_on == "connection":
            raise ModuleFailure(exc.message, **{k: v for k, v in result.items() if k != "changed"})

    def log_in() -> None:
        try:
            checks["admin_login"] = _admin_check(params, env.backend_frontname)  # type: ignore[union-attr]
            if checks["admin_login"]["two_factor_auth"]:
                warnings.append(checks["admin_login"]["detail"])
        except ModuleFailure as exc:
            failed("admin_login", exc)

    login_deferred = False
    env = None
    cli_user_proof = None
    # The waits on the store that need nothing from each other overlap: the storefront's GET (a cold page
    # takes seconds), the CLI user's process, the Docker read of the files. Each answer is taken, and each
    # failure raised, where the checks below come to it.
    http_answer = InBackground(lambda: _http_check(params)) if params.base_url else None
    try:
        site = site_from_params(params)
        # Every file this run reads, in one round trip, in the background.
        site.prefetch(
            ([declare["module"]] if declare is not None else [])
            + ([HELPER_MODULE] if plan is not None and plan.cli_helper_src else [])
        )
        if plan is not None:
            cli_user_proof = InBackground(lambda: prove_cli_user(site))
        env = site.env()
        # read_with parser: the plain literal Magento writes; php: more than a literal (the note says why).
        checks["env_php"] = {"ok": True, "read_with": site.env_reader}
        if site.env_reader_note:
            checks["env_php"]["note"] = site.env_reader_note
        result["env"] = env.facts()
        result["config_modules_enabled"] = sorted(m for m, on in site.config_modules().items() if on)
    except ModuleFailure as exc:
        failed("env_php", exc)
    mark("env_php")

    declared_integration = None
    if declare is not None and env is not None:
        # What the module declares, read as magento_integration_module's check mode reads it (no write),
        # in this same run: the name and the plan are checked before anything changes.
        result["declared"] = install_module(
            params,
            declare["module"],
            declare.get("src"),
            declare.get("spec"),
            None,
            declare.get("acl_parents"),
            True,
            False,
            True,
        )
        names = [i["name"] for i in result["declared"]["integrations"]]
        if integration is not None and integration not in names:
            raise ModuleFailure(
                f"{declare['module']} declares no integration named {integration!r} (it declares: "
                f"{', '.join(names) if names else 'none'}): fix the integration name or the module's "
                "integration config. Nothing was changed."
            )
        declared_integration = next(
            (i for i in result["declared"]["integrations"] if i["name"] == integration), None
        )
        if declared_integration is not None:
            declared_integration = {**declared_integration, "format": result["declared"]["format"]}
        mark("declare")

    db = None
    if env is not None:
        try:
            db = database_for(env, params)
            checks["db"] = {"ok": True, "host": db.host, "port": db.port}
        except ModuleFailure as exc:
            failed("db", exc)

    if http_answer is not None:
        try:
            checks["http"] = http_answer.result()
            skew = checks["http"]["clock_skew_seconds"]
            if skew is not None and skew > MAX_AHEAD_SECONDS:
                problems.append(
                    f"this host's clock is {skew:.0f} s ahead of the store's: OAuth requests fail with "
                    "'An error occurred validating the nonce' (C6.4); fix the clock (NTP)"
                )
            elif skew is not None and abs(skew) > WARN_SKEW_SECONDS:
                warnings.append(f"clock skew against the store is {skew:.0f} s; keep clocks in sync (NTP)")
        except ModuleFailure as exc:
            failed("http", exc)
    else:
        checks["http"] = {"ok": None, "detail": "base_url not given"}
    mark("db_http")

    enabled = {m: True for m in result.get("config_modules_enabled", [])}
    two_factor = enabled.get(TWO_FACTOR_MODULE, False)
    has_credentials = bool(params.admin_username and params.admin_password)
    planned = planned_activation(activation, enabled, has_credentials)
    result["activation"] = planned
    if plan is not None and planned == "admin" and not has_credentials:
        raise ModuleFailure(
            "activation admin needs admin_username and admin_password (the role has no default password "
            "outside the sandbox inventory): set magento_integration_admin_password (from a vault), or use "
            "activation cli. Nothing was changed."
        )
    if plan is not None and planned == "admin" and two_factor:
        raise ModuleFailure(
            f"{TWO_FACTOR_MODULE} is enabled in app/etc/config.php: two-factor auth blocks an automated "
            "Admin login (C5.2), so activation admin cannot work. Use activation cli or auto "
            "(magento_integration_activation: cli), which installs the helper module "
            "Reintegrate_CliActivation and runs bin/magento integration:activate. Nothing was changed."
        )
    if planned != "admin" and env is not None:
        # Each login is recorded, ends the user's other sessions and counts toward the CAPTCHA (C5.2).
        checks["admin_login"] = {
            "ok": None,
            "two_factor_auth": two_factor,
            "detail": f"not needed: activation {planned}",
        }
    elif two_factor and env is not None:
        # A login would pass the password and then stop at the 2FA page (C5.2): it cannot help, and it
        # records a login (admin_user.logdate) on a run that must stop before any change.
        checks["admin_login"] = {
            "ok": False,
            "two_factor_auth": True,
            "detail": f"not tried: {TWO_FACTOR_MODULE} is enabled in app/etc/config.php (C5.2)",
        }
    elif check_mode and env is not None:
        # A login writes admin_user.logdate and a session: check mode leaves Magento's tables alone.
        checks["admin_login"] = {
            "ok": None,
            "two_factor_auth": two_factor,
            "detail": "not tried in check mode (a login is recorded by Magento); 2FA read from config.php",
        }
    elif params.base_url and has_credentials and env is not None:
        if admin_login == "if_renewing":
            # Decided after the handshake check below: a run whose credentials stand activates nothing.
            login_deferred = True
            checks["admin_login"] = {
                "ok": None,
                "two_factor_auth": two_factor,
                "deferred": True,
                "detail": "deferred: the caller proves it before a step that activates through the Admin",
            }
        else:
            log_in()
    else:
        checks["admin_login"] = {"ok": None, "detail": "base_url, admin_username or admin_password not given"}
    mark("admin_login")

    if db is not None:
        with db:
            period = mi.expiration_period(db)
            result["expiration_period"] = period
            result["enable_integration_as_bearer"] = mi.bearer_enabled(db)
            reports = [integration_report(db, i, period) for i in mi.list_integrations(db)]
            if result.get("declared") is not None and declare is not None:
                # setup:upgrade stopped midway (killed, a failed patch) leaves the row missing or behind
                # module.xml's setup_version: the role reruns setup:upgrade then, as the rescue says.
                version = result["declared"].get("setup_version")
                row = mi.setup_module_row(db, declare["module"]) if version else None
                result["setup_current"] = not version or (
                    row is not None and row.get("schema_version") == version == row.get("data_version")
                )
            if plan is not None:
                # The run's plan, proven before its first destructive step: a failure here always fails.
                skew = (checks.get("http") or {}).get("clock_skew_seconds")
                modules = site.config_modules()
                full = with_declaration(plan, declared_integration)
                mark("integrations")
                checks["plan"] = prove(site, env, db, full, planned, modules, skew, cli_user_proof)
                mark("plan")
                if planned == "cli" and plan.cli_helper_src:
                    # The role installs the helper (and reruns setup:upgrade) only when this is false.
                    result["cli_helper_current"] = modules.get(HELPER_MODULE) is True and not (
                        helper_would_change(site, plan.cli_helper_src)
                    )
                    mark("cli_helper")
        result["integrations"] = reports
        if integration is not None:
            focus = next((r for r in reports if r["name"] == integration), None)
            result["integration"] = focus
            # None: it does not exist yet, which a first install expects (setup:upgrade creates it, C3.1),
            # so it is neither a warning nor a problem; the result says it with integration: null.
            if focus is not None:
                problems.extend(f"{integration}: {p}" for p in focus["problems"])
    # Not when admin activation meets two-factor auth: the role stops on that before any change, and the
    # check's signed probe would leave an oauth_nonce row (C6.5).
    if (
        check_handshake is not None
        and result.get("integration") is not None
        and not (planned == "admin" and two_factor)
    ):
        result["handshake_check"] = _handshake_check(params, integration, check_handshake)
        mark("handshake_check")
        check = result["handshake_check"]
        # The credentials must be renewed (the role's handshake_needed): the activation follows, so its
        # login is proven now, before the run's first destructive step.
        if login_deferred and (check.get("reason") is not None or check.get("mode_fixed")):
            log_in()
            mark("admin_login")
    timings["total"] = round(time.monotonic() - started, 3)
    result["ok"] = not problems
    return result


def _handshake_check(params: SiteParams, integration: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """What the role's check task would return at this moment (check mode: nothing but the probe's
    oauth_nonce row is written, C6.5). A run that changes nothing before that task uses it instead of
    running the module a second time. A failure is returned, not raised: setup:upgrade may still fix it."""
    try:
        opts = handshake_options({**options, "integration": integration})
        check = run_handshake(params, opts, check_mode=True)
    except ModuleFailure as exc:
        return {"failed": True, "msg": exc.message}
    check["would_change"] = check.pop("changed", False)
    return check
