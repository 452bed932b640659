"""The doctor's clock skew (C6.4) and per-integration flags (C5.4, C6.5, C6.6) on real SQL (SQLite)."""

from __future__ import annotations

import datetime as dt

import pytest
from ansible.module_utils import magento_doctor as doctor
from ansible.module_utils import magento_integrations as mi
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_doctor import clock_skew_seconds, integration_report
from ansible.module_utils.magento_env_php import EnvConfig
from replay_admin import ReplayAdmin
from sqlite_db import SqliteDatabase

NOW = dt.datetime(2024, 3, 5, 10, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("header", "skew"),
    [
        ("Tue, 05 Mar 2024 10:00:00 GMT", 0.0),
        ("Tue, 05 Mar 2024 09:49:00 GMT", 660.0),  # store behind: this host is ahead
        ("Tue, 05 Mar 2024 10:00:30 GMT", -30.0),
        ("Tue, 05 Mar 2024 11:00:00 +0100", 0.0),
    ],
)
def test_clock_skew_is_local_minus_server(header: str, skew: float) -> None:
    assert clock_skew_seconds(header, now=NOW) == skew


@pytest.mark.parametrize("header", [None, "", "yesterday-ish"])
def test_clock_skew_is_none_without_a_usable_date(header) -> None:
    assert clock_skew_seconds(header, now=NOW) is None


def ts(seconds_ago: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%d %H:%M:%S")


def store(status: int, tokens: list[str], stamped_ago: int = 10, consumer: int | None = 5) -> SqliteDatabase:
    db = SqliteDatabase()
    db.insert(
        "oauth_consumer", entity_id=5, name="c", key="k" * 32, secret="0:3:x", updated_at=ts(stamped_ago)
    )
    db.insert("integration", integration_id=1, name="Acme", status=status, consumer_id=consumer, setup_type=1)
    for i, kind in enumerate(tokens):
        db.insert("oauth_token", entity_id=10 + i, consumer_id=5, type=kind, token=f"{i}" * 32, user_type=1)
    db.insert("oauth_nonce", nonce="n", timestamp=1, consumer_id=5)
    return db


def report(db: SqliteDatabase, period: int = 300) -> dict:
    integration = mi.find_integration(db, "Acme")
    assert integration is not None
    return integration_report(db, integration, period)


def test_healthy_active_integration_has_no_problems() -> None:
    r = report(store(1, ["access"], stamped_ago=5000))
    assert r["token_types"] == ["access"] and r["nonces"] == 1
    assert not (r["wedged"] or r["expired"] or r["active_without_access_token"])
    # The access row is a fact (purge it before the next activation, C6.6) but no problem of this state.
    assert r["leftover_tokens"] is True
    # An old stamp only matters during an activation: with an access token it is no problem.
    assert r["consumer_age_seconds"] >= 5000 and r["problems"] == []


def test_leftover_access_row_of_an_inactive_integration_is_a_problem() -> None:
    r = report(store(0, ["access"]))
    assert r["leftover_tokens"] and not r["wedged"]
    assert any("BEFORE the next activation" in p for p in r["problems"])


def test_active_without_access_token_is_flagged() -> None:
    r = report(store(1, []))
    assert r["active_without_access_token"] is True
    assert any("no access token" in p and "(C5.4, C6.6)" in p for p in r["problems"])


def test_wedged_consumer_is_flagged() -> None:
    r = report(store(0, ["access", "verifier"]))
    assert r["wedged"] and r["leftover_tokens"]
    assert any("purge this integration's tokens" in p for p in r["problems"])


def test_expired_verifier_is_flagged_with_the_period() -> None:
    r = report(store(0, ["verifier"], stamped_ago=400))
    assert r["expired"] is True
    assert any("beyond expiration_period 300 s" in p and "(C6.5)" in p for p in r["problems"])
    assert report(store(0, ["verifier"], stamped_ago=400), period=3600)["expired"] is False


def test_integration_without_consumer_reports_facts_only() -> None:
    r = report(store(0, [], consumer=None))
    assert r["consumer_id"] is None and r["token_types"] == [] and r["problems"] == []
    assert r["status_name"] == "inactive"


def test_report_never_carries_token_values_or_secrets() -> None:
    r = report(store(0, ["access", "verifier"]))
    text = repr(r)
    assert "k" * 32 not in text and "0" * 32 not in text and "0:3:x" not in text


# -- the preflight's Admin check: only for an Admin activation, and it proves the grid -----------------


class EnvOnlySite:
    """A site whose env.php names the Admin frontName and whose DB is not reachable here."""

    env_reader = "parser"
    env_reader_note = None

    def __init__(self, modules: dict[str, bool]) -> None:
        self.modules = modules

    def env(self) -> EnvConfig:
        return EnvConfig("127.0.0.1", 1, "magento", "magento", "pw", backend_frontname="admin")

    def config_modules(self) -> dict[str, bool]:
        return dict(self.modules)

    def prefetch(self, modules: list[str]) -> None:
        """Nothing to bundle: env() and config_modules() above answer without a runner."""


def _collect(
    monkeypatch, replay: ReplayAdmin, activation: str, modules: dict[str, bool], admin_login: str = "prove"
) -> dict:
    monkeypatch.setattr(doctor, "site_from_params", lambda params: EnvOnlySite(modules))
    params = SiteParams(
        runner="local", base_url=replay.base_url, admin_username="admin", admin_password="pw", http_timeout=5
    )
    return doctor.collect(params, fail_on="never", activation=activation, admin_login=admin_login)


GRID = ("login_page", "login_ok_1_post", "login_ok_2_get", "integrations_grid")


@pytest.mark.parametrize(
    ("activation", "modules", "planned"),
    [
        ("cli", {}, "cli"),
        ("auto", {"Reintegrate_CliActivation": True}, "cli"),
        ("auto", {"Magento_TwoFactorAuth": True}, "cli"),
    ],
)
def test_no_admin_login_unless_the_activation_is_admin(monkeypatch, activation, modules, planned) -> None:
    replay = ReplayAdmin(*GRID)
    try:
        out = _collect(monkeypatch, replay, activation, modules)
    finally:
        replay.close()
    assert out["activation"] == planned
    assert out["checks"]["admin_login"]["ok"] is None
    assert [path for path in replay.paths() if path.startswith("/admin")] == []  # never logged in


def test_a_deferred_admin_login_logs_in_to_nothing_and_says_so(monkeypatch) -> None:
    """The role's preflight: a converged run activates nothing, so it leaves no Admin login behind."""
    replay = ReplayAdmin(*GRID)
    try:
        out = _collect(monkeypatch, replay, "admin", {}, admin_login="if_renewing")
    finally:
        replay.close()
    assert out["activation"] == "admin"
    assert out["checks"]["admin_login"]["ok"] is None
    assert out["checks"]["admin_login"]["detail"].startswith("deferred")
    assert out["checks"]["admin_login"]["deferred"] is True
    assert [path for path in replay.paths() if path.startswith("/admin")] == []


@pytest.mark.parametrize("activation", ["admin", "auto"])
def test_admin_activation_is_proven_through_the_real_grid(monkeypatch, activation) -> None:
    replay = ReplayAdmin(*GRID)
    try:
        out = _collect(monkeypatch, replay, activation, {})
    finally:
        replay.close()
    assert out["activation"] == "admin"
    assert out["checks"]["admin_login"] == {
        "ok": True,
        "two_factor_auth": False,
        "grid": True,
        "detail": None,
    }
    assert replay.paths()[-1].startswith("/admin/admin/integration/index/key/")


def test_a_grid_not_understood_fails_the_preflight_not_the_activation(monkeypatch) -> None:
    replay = ReplayAdmin(
        *GRID, edit={"admin/integrations_grid.json": ("tokensExchange\\u002Fid", "tokensSwap\\u002Fid")}
    )
    try:
        out = _collect(monkeypatch, replay, "admin", {})
    finally:
        replay.close()
    assert out["checks"]["admin_login"]["ok"] is False
    assert "not understood" in out["checks"]["admin_login"]["detail"] and out["ok"] is False


# -- the handshake check: answered in the same run, never when the run is bound to stop -----------------


class _Db:
    host, port = "127.0.0.1", 1

    def __enter__(self) -> _Db:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize(
    ("activation", "modules", "checked"),
    [
        ("cli", {"Magento_TwoFactorAuth": True}, True),
        ("admin", {}, True),
        # The role stops on 2FA before any change: the check's signed probe would write an oauth_nonce row.
        ("admin", {"Magento_TwoFactorAuth": True}, False),
    ],
)
def test_the_handshake_check_runs_unless_admin_activation_meets_two_factor_auth(
    monkeypatch, activation, modules, checked
) -> None:
    calls: list[str | None] = []
    monkeypatch.setattr(doctor, "site_from_params", lambda params: EnvOnlySite(modules))
    monkeypatch.setattr(doctor, "database_for", lambda env, params: _Db())
    monkeypatch.setattr(doctor.mi, "expiration_period", lambda db: 300)
    monkeypatch.setattr(doctor.mi, "bearer_enabled", lambda db: False)
    monkeypatch.setattr(doctor.mi, "list_integrations", lambda db: ["Acme Sync"])
    monkeypatch.setattr(doctor, "integration_report", lambda db, i, period: {"name": i, "problems": []})
    monkeypatch.setattr(
        doctor, "_handshake_check", lambda params, name, options: calls.append(name) or {"reason": None}
    )
    params = SiteParams(runner="local", admin_username="admin", admin_password="pw", http_timeout=5)
    out = doctor.collect(
        params, "Acme Sync", "never", check_mode=True, activation=activation, check_handshake={}
    )
    assert calls == (["Acme Sync"] if checked else [])
    assert ("handshake_check" in out) is checked
    assert "handshake_check" in out["timings"] or not checked


@pytest.mark.parametrize(
    ("check", "logs_in"),
    [
        ({"reason": None, "would_change": False}, False),  # converged: nothing activates
        ({"reason": "forced", "would_change": True}, True),  # renewed: the activation follows
        ({"reason": None, "mode_fixed": True}, True),
        ({"failed": True, "msg": "no consumer"}, False),  # left to the role's proof before setup:upgrade
    ],
)
def test_if_renewing_logs_in_only_after_a_check_that_renews_the_credentials(
    monkeypatch, check, logs_in
) -> None:
    replay = ReplayAdmin(*GRID)
    monkeypatch.setattr(doctor, "site_from_params", lambda params: EnvOnlySite({}))
    monkeypatch.setattr(doctor, "database_for", lambda env, params: _Db())
    monkeypatch.setattr(doctor.mi, "expiration_period", lambda db: 300)
    monkeypatch.setattr(doctor.mi, "bearer_enabled", lambda db: False)
    monkeypatch.setattr(doctor.mi, "list_integrations", lambda db: ["Acme Sync"])
    monkeypatch.setattr(doctor, "integration_report", lambda db, i, period: {"name": i, "problems": []})
    monkeypatch.setattr(doctor, "_handshake_check", lambda params, name, options: dict(check))
    params = SiteParams(
        runner="local", base_url=replay.base_url, admin_username="admin", admin_password="pw", http_timeout=5
    )
    try:
        out = doctor.collect(
            params, "Acme Sync", "never", activation="admin", admin_login="if_renewing", check_handshake={}
        )
    finally:
        replay.close()
    logged_in = [path for path in replay.paths() if path.startswith("/admin")] != []
    assert logged_in is logs_in
    assert (out["checks"]["admin_login"]["ok"] is True) is logs_in
    assert (out["checks"]["admin_login"].get("detail") or "").startswith("deferred") is not logs_in
    assert out["checks"]["admin_login"].get("deferred", False) is not logs_in


def test_the_failures_of_a_store_that_is_down_come_in_the_order_of_the_checks(monkeypatch) -> None:
    """The storefront's GET runs while env.php is read, but its failure is taken at the HTTP check: with
    the DB down too, the DB's failure is the one raised, and without fail_on both are named in order."""
    monkeypatch.setattr(doctor, "site_from_params", lambda params: EnvOnlySite({}))
    params = SiteParams(runner="local", base_url="http://127.0.0.1:1/", http_timeout=5)
    with pytest.raises(ModuleFailure) as err:
        doctor.collect(params, fail_on="connection")
    assert err.value.message.startswith("cannot connect to the database at 127.0.0.1:1")
    assert err.value.details["checks"]["env_php"]["ok"] is True and "http" not in err.value.details["checks"]
    out = doctor.collect(params, fail_on="never")
    assert out["checks"]["db"]["ok"] is False and out["checks"]["http"]["ok"] is False
    assert out["problems"][0].startswith("cannot connect to the database")
    assert (
        out["problems"][1].startswith("HTTP GET http://127.0.0.1:1/ failed")
        and "start the store" in out["problems"][1]
    )
