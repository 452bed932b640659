"""Faults the current code handles: each forced run on the private stack meets one fault, and
    1. fails with a clear error naming the cause and the fix;
    2. loses nothing: the bystander integration's tokens are untouched, every deleted row is in a
       backup, and the old credentials still sign a 200 on the probe (or the message names the restore);
    3. converges when run again without the fault.

Faults: the DB down at the start, a wrong admin password (activation admin), two-factor auth on with
activation admin, the listener's port taken, the credentials folder read-only, the Docker engine gone, the
DB connection killed during the purge, Magento answering 500 on /oauth/token/request, the endpoint POST
timing out, the store's clock 700 s behind, the consumer expiring after 1 s, setup:upgrade killed midway,
two runs at once, a wedged consumer (forced, and healed by a plain run) and a probe path the integration's
ACL does not grant. Some are injected through the twin's test-only knobs (core_config_data twin/fault/*).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from faults_support import (
    BYSTANDER,
    FORCED,
    MAIN,
    PrivateStack,
    Run,
    first_line,
    has_words,
    run_playbook,
    run_restore,
    snapshot_diff,
)

pytestmark = pytest.mark.docker

TWO_FACTOR_MODULES = ("Magento_TwoFactorAuth", "Magento_AdminAdobeImsTwoFactorAuth")


class Watch:
    """What a fault must not lose, read before the faulty run and compared after it."""

    def __init__(self, stack: PrivateStack) -> None:
        self.stack = stack
        self.bystander_tokens = stack.token_rows(BYSTANDER)
        self.deletable = stack.rows_that_a_run_may_delete()
        self.credentials = stack.delivered(MAIN)
        assert stack.signed_get(self.credentials) == 200, "the fault test must start from working credentials"
        assert self.bystander_tokens, "the bystander has no token rows to watch"
        self.snapshot = stack.snapshot()

    def rebase(self) -> None:
        """Take the before-snapshot again, once the fault is injected (a knob's core_config_data row)."""
        self.snapshot = self.stack.snapshot()

    def after(self) -> dict[str, Any]:
        self.diff = snapshot_diff(self.snapshot, self.stack.snapshot())
        return {"tables_unchanged": not self.diff["tables"], "files_unchanged": not self.diff["files"]}

    def assert_nothing_lost(self, run: Run) -> None:
        stack = self.stack
        assert stack.token_rows(BYSTANDER) == self.bystander_tokens, "the bystander's tokens changed"
        now = stack.rows_that_a_run_may_delete()
        saved = stack.backed_up()
        for table, before in self.deletable.items():
            lost = before - now[table] - saved[table]
            assert not lost, f"{len(lost)} deleted {table} row(s) are in no backup"
        if run.rc == 0:  # a run that succeeded replaced the credentials: the new ones must work
            assert stack.signed_get(stack.delivered(MAIN)) == 200, "the delivered credentials fail"
        elif stack.signed_get(self.credentials) != 200:
            assert has_words(run.message, "restore"), (
                f"old credentials refused, no restore named: {run.message}"
            )


def converge_again(stack: PrivateStack, extra: dict[str, Any] | None = None) -> bool:
    """A rerun without the fault succeeds and leaves credentials that sign a 200."""
    run = run_playbook(stack, extra)
    assert run.rc == 0, f"the rerun without the fault failed: {run.message}\n{run.out[-3000:]}"
    assert stack.signed_get(stack.delivered(MAIN)) == 200
    return True


def assert_clear(run: Run, *words: str) -> None:
    assert run.rc != 0, f"the run did not fail:\n{run.out[-3000:]}"
    assert has_words(run.message, *words), f"message lacks {words}: {run.message}"


def test_db_unreachable_at_start(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    watch = Watch(stack)
    stack.db_container.stop(timeout=5)
    try:
        run = run_playbook(stack, FORCED)
    finally:
        stack.db_container.start()
        stack.wait_db(60)
        stack.wait_http(60)
    outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, "cannot connect to the database at 127.0.0.1:13392", "start the DB")
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack)
    record("fault", "db-unreachable-at-start", "DB container stopped; forced run", outcome)


def test_wrong_admin_password(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    watch = Watch(stack)
    admin = {**FORCED, "magento_integration_activation": "admin"}
    run = run_playbook(stack, {**admin, "magento_integration_admin_password": "not-the-password"})
    outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, "Admin login as 'admin' was refused", "check admin_username and admin_password")
    assert "not-the-password" not in run.out
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack, admin)
    record("fault", "wrong-admin-password", "activation admin, wrong admin password; forced run", outcome)


@contextlib.contextmanager
def two_factor_on(stack: PrivateStack) -> Iterator[None]:
    """The store's two-factor modules on through bin/magento (as test_playbook.py does), off afterwards."""
    present = [m for m in TWO_FACTOR_MODULES if "does not exist" not in stack.magento("module:status", m)]
    assert "Magento_TwoFactorAuth" in present
    stack.magento("module:enable", *present)
    stack.magento("setup:upgrade", "--keep-generated")
    try:
        yield
    finally:
        stack.magento("module:disable", *present)
        stack.magento("setup:upgrade", "--keep-generated")


def test_two_factor_on_with_activation_admin(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    admin = {**FORCED, "magento_integration_activation": "admin"}
    with two_factor_on(stack):
        watch = Watch(stack)
        run = run_playbook(stack, admin)
        outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, "Magento_TwoFactorAuth is enabled", "magento_integration_activation: cli")
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack, admin)
    record(
        "fault", "two-factor-on-activation-admin", "2FA modules enabled; activation admin, forced", outcome
    )


def test_listener_port_busy(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    watch = Watch(stack)
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", stack.endpoint_port))
        busy.listen(1)
        run = run_playbook(stack, FORCED)
    outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, f"cannot listen on 127.0.0.1:{stack.endpoint_port}", "free the port")
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault", "listener-port-busy", f"127.0.0.1:{stack.endpoint_port} bound by the test; forced", outcome
    )


@contextlib.contextmanager
def read_only(folder: Any) -> Iterator[str]:
    """``folder`` read-only even for root: a read-only bind mount over itself, else the immutable flag."""
    tries = [
        (
            "read-only bind mount",
            [["mount", "--bind", str(folder), str(folder)], ["mount", "-o", "remount,bind,ro", str(folder)]],
            [["umount", str(folder)]],
        ),
        ("immutable flag (chattr +i)", [["chattr", "+i", str(folder)]], [["chattr", "-i", str(folder)]]),
    ]
    for how, on, off in tries:
        done = []
        for cmd in on:
            if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
                break
            done.append(cmd)
        else:
            probe = folder / ".faults-write-probe"
            try:
                probe.write_text("x")
            except OSError:
                try:
                    yield how
                finally:
                    for cmd in off:
                        subprocess.run(cmd, capture_output=True, check=True)
                return
            probe.unlink()
        for cmd in off[: len(done)]:
            subprocess.run(cmd, capture_output=True, check=False)
    pytest.fail(f"cannot make {folder} read-only here (mount --bind -o ro, chattr +i): run as root on ext4")


def test_credentials_folder_not_writable(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    watch = Watch(stack)
    with read_only(stack.credentials) as how:
        run = run_playbook(stack, FORCED)
        outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, "is not writable", "choose another credentials_path")
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault", "credentials-folder-not-writable", f"credentials folder read-only ({how}); forced", outcome
    )


def test_docker_engine_down(private_stack: PrivateStack, record: Any, tmp_path: Any) -> None:
    stack = private_stack
    watch = Watch(stack)
    gone = f"unix://{tmp_path}/no-docker.sock"
    run = run_playbook(stack, FORCED, env={"DOCKER_HOST": gone})
    outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, "cannot reach the Docker engine", "start Docker")
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault", "docker-engine-down", "DOCKER_HOST pointing at a socket that does not exist; forced", outcome
    )


# ---------------------------------------------------------------- faults of the destructive steps
FORCED_TOKENS = {"reintegrate_force": True}  # a forced run that resets the tokens only (no setup rows)
PURGE_SELECT = "SELECT * FROM `oauth_token` WHERE consumer_id = %s ORDER BY entity_id FOR UPDATE"


def assert_restore_named(run: Run, kind: str) -> None:
    """The rescue names the backup of ``kind`` and the command that puts it back."""
    assert has_words(run.message, "After this failure", "restore_backup.yml", "-e backup="), run.message
    assert f"-{kind}-" in run.message, f"no {kind} backup named: {run.message}"


def assert_lock_free(stack: PrivateStack) -> None:
    assert stack.run_lock_holder() is None, "the failed run left its run lock held (a rerun would wait)"


def test_db_connection_killed_during_purge(private_stack: PrivateStack, record: Any) -> None:
    """The purge's locked re-read waits on a row lock of the test; that waiting connection is KILLed."""
    stack = private_stack
    watch = Watch(stack)
    consumer = stack.integration(MAIN)["consumer_id"]
    before = stack.token_rows(MAIN)
    locker = stack.db()
    locker.autocommit(False)
    killed: list[dict[str, Any]] = []
    done = threading.Event()

    def kill_the_waiting_purge() -> None:
        deadline = time.monotonic() + 240
        while not done.is_set() and time.monotonic() < deadline:
            rows = stack.query(
                "SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE INFO = %s AND ID <> %s",
                (PURGE_SELECT % consumer, locker.thread_id()),
            )
            if rows:
                stack.query(f"KILL {int(rows[0]['ID'])}")
                killed.append(rows[0])
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_the_waiting_purge, daemon=True)
    try:
        with locker.cursor() as cur:
            cur.execute("SELECT entity_id FROM oauth_token WHERE consumer_id = %s FOR UPDATE", (consumer,))
        killer.start()
        run = run_playbook(stack, FORCED_TOKENS)
    finally:
        done.set()
        killer.join(10)
        locker.rollback()
        locker.close()
    outcome = {**run.outcome(), **watch.after()}
    assert killed, f"the purge never waited on the row lock:\n{run.out[-3000:]}"
    assert_clear(run, "connection was lost", "The transaction was rolled back", "run again")
    assert "Purge" in run.task, f"failed in {run.task!r}, not in the purge"
    # Rolled back: not one of the consumer's token rows is gone (none half-deleted).
    assert stack.token_rows(MAIN) == before, "the killed purge deleted token rows"
    assert stack.signed_get(watch.credentials) == 200
    watch.assert_nothing_lost(run)
    assert_lock_free(stack)
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault",
        "db-connection-killed-during-purge",
        "the purge's SELECT ... FOR UPDATE held by a test row lock, that connection KILLed; forced "
        "(tokens only)",
        outcome,
    )


def test_magento_500_on_token_request(private_stack: PrivateStack, record: Any) -> None:
    """Signed /oauth/token/request answers 500 (the unsigned preflight call is answered normally), after
    the purge and the activation. The restore command the message names makes the old credentials work."""
    stack = private_stack
    watch = Watch(stack)
    with stack.config_set("twin/fault/oauth_signed_status", 500):
        run = run_playbook(stack, FORCED_TOKENS)
    outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, "/oauth/token/request answered 500", "server error", "var/log/exception.log")
    assert_restore_named(run, "oauth_tokens")
    watch.assert_nothing_lost(run)
    assert_lock_free(stack)
    restore, backup = run_restore(run.message, "oauth_tokens")
    assert restore.returncode == 0, f"{backup}: {restore.stdout[-2000:]}{restore.stderr[-2000:]}"
    assert stack.signed_get(watch.credentials) == 200, "the restored tokens do not sign a 200"
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault",
        "oauth-token-request-500",
        "twin/fault/oauth_signed_status=500; forced (tokens only); then the named restore (old credentials "
        "sign 200 again)",
        outcome,
    )


def test_endpoint_post_timing_out(private_stack: PrivateStack, record: Any) -> None:
    """Magento's POST to the endpoint never arrives; after oauth/consumer/post_timeout (5 s) it reports
    'The attempt to post data to consumer failed'."""
    stack = private_stack
    watch = Watch(stack)
    with stack.config_set("twin/fault/endpoint_post_timeout", 1):
        run = run_playbook(stack, FORCED_TOKENS)
    outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, "could not deliver the activation POST", "endpoint_url must reach the listener")
    assert_restore_named(run, "oauth_tokens")
    watch.assert_nothing_lost(run)
    assert_lock_free(stack)
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault",
        "endpoint-post-timeout",
        "twin/fault/endpoint_post_timeout=1 (the POST blackholed for post_timeout 5 s); forced (tokens only)",
        outcome,
    )


def test_setup_upgrade_killed_midway(private_stack: PrivateStack, record: Any) -> None:
    """Staging reset: once the setup rows are gone, a gap lock of the test holds setup:upgrade at its
    INSERT into setup_module; then it is sent SIGTERM (pkill -f setup:upgrade, in the app container)."""
    stack = private_stack
    watch = Watch(stack)
    existing = {p.name for p in stack.backups.glob("*.json")}
    seen: dict[str, Any] = {}
    done = threading.Event()

    def hold_and_kill() -> None:
        deadline = time.monotonic() + 240
        while not done.is_set() and time.monotonic() < deadline:
            new = [p for p in stack.backups.glob("*setup_module*.json") if p.name not in existing]
            if new:
                break
            time.sleep(0.05)
        else:
            return
        conn = stack.db()
        conn.autocommit(False)
        try:
            with conn.cursor() as cur:  # no row left: a gap lock, which holds any INSERT into the table
                cur.execute("SELECT module FROM setup_module WHERE module = %s FOR UPDATE", (MAIN["module"],))
            while not done.is_set() and time.monotonic() < deadline:
                waiting = stack.query(
                    "SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE ID <> %s AND INFO LIKE %s",
                    (conn.thread_id(), "INSERT INTO `setup_module`%"),
                )
                if waiting:
                    seen["waiting"] = waiting[0]["INFO"]
                    seen["killed"] = stack.kill_in_app("bin/magento", "setup:upgrade")
                    return
                time.sleep(0.1)
        finally:
            conn.rollback()
            conn.close()

    killer = threading.Thread(target=hold_and_kill, daemon=True)
    killer.start()
    try:
        run = run_playbook(stack, FORCED)
    finally:
        done.set()
        killer.join(30)
    outcome = {**run.outcome(), **watch.after()}
    assert seen.get("killed"), f"setup:upgrade was not caught midway ({seen}):\n{run.out[-3000:]}"
    assert_clear(run, "setup:upgrade was killed by SIGTERM", "stopped midway", "run it again")
    assert_restore_named(run, "setup_module")
    assert has_words(run.message, f"the setup rows of {MAIN['module']} were removed")
    backups = [p for p in stack.backups.glob("*setup_module*.json") if p.name not in existing]
    assert len(backups) == 1 and str(backups[0]) in run.message
    saved = json.loads(backups[0].read_text())["tables"]
    assert any(
        r["module"] == MAIN["module"] for t in saved if t["table"] == "setup_module" for r in t["rows"]
    )
    watch.assert_nothing_lost(run)
    assert stack.signed_get(watch.credentials) == 200, "the tokens were touched before setup:upgrade ended"
    assert_lock_free(stack)
    # A plain rerun sees the setup_module row missing or behind module.xml and runs setup:upgrade again.
    outcome["rerun_converged"] = converge_again(stack)
    row = stack.query("SELECT * FROM setup_module WHERE module = %s", (MAIN["module"],))
    version = MAIN["setup_version"]
    assert row and row[0]["schema_version"] == version == row[0]["data_version"], row
    record(
        "fault",
        "setup-upgrade-killed-midway",
        "setup:upgrade held at its setup_module INSERT (gap lock), then SIGTERM (pkill -f setup:upgrade)",
        outcome,
    )


def test_two_runs_at_once(private_stack: PrivateStack, record: Any) -> None:
    """Two staging resets of one integration started together, magento_integration_lock_wait 0: one takes
    the run lock and finishes; the other gives up at its first destructive step naming the holder, and
    changes nothing. The winner holds one lock connection from its first destructive step to its end.
    (A wait of 3 s no longer worked: the winner's whole reset now holds the lock for less than that, so the
    second run took it after the first and both succeeded, as a wait long enough should.)"""
    stack = private_stack
    watch = Watch(stack)
    extra = {**FORCED, "magento_integration_lock_wait": 0}
    runs: dict[str, Run] = {}
    holders: list[int | None] = []

    def go(key: str) -> None:
        runs[key] = run_playbook(stack, extra)

    threads = [threading.Thread(target=go, args=(k,), daemon=True) for k in ("a", "b")]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        holders.append(stack.run_lock_holder())
        time.sleep(0.2)
    for t in threads:
        t.join()
    ok = [r for r in runs.values() if r.rc == 0]
    failed = [r for r in runs.values() if r.rc != 0]
    assert len(ok) == 1 and len(failed) == 1, [(r.rc, first_line(r.message)) for r in runs.values()]
    winner, loser = ok[0], failed[0]
    outcome = {**loser.outcome(), **watch.after()}
    run_id = next(
        r["run_id"] for r in winner.results("Read the site and the module's declaration") if "run_id" in r
    )
    assert_clear(
        loser, "another run holds the lock", f"reintegrate run {run_id}", "Let it finish and run again"
    )
    assert has_words(loser.message, "Nothing was changed") and "After this failure" not in loser.message
    assert loser.changed == 0, f"the run that gave up changed {loser.changed} task(s)"
    held = [h for h in holders if h is not None]
    assert held and len(set(held)) == 1, f"the winner's lock changed hands: {holders}"
    first, last = holders.index(held[0]), len(holders) - 1 - holders[::-1].index(held[0])
    assert None not in holders[first : last + 1], f"the lock was free while the winner ran: {holders}"
    watch.assert_nothing_lost(winner)
    assert_lock_free(stack)
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault",
        "two-runs-at-once",
        "two staging resets of Faults Sync started together, magento_integration_lock_wait 0 (row: the "
        "one that gave up; the other succeeded)",
        outcome,
    )


# ---------------------------------------------------------------- a wedged consumer
def wedge(stack: PrivateStack) -> None:
    """A second integration row (a 'request') beside the consumer's access token (C6.6)."""
    stack.query(
        "INSERT INTO oauth_token (consumer_id, type, token, secret, callback_url, user_type) "
        "VALUES (%s, 'request', %s, %s, 'oob', 1)",
        (stack.integration(MAIN)["consumer_id"], secrets.token_hex(16), secrets.token_hex(16)),
    )


def check_result(run: Run) -> dict[str, Any]:
    """The check-mode handshake's answer: the role's check task when it ran, else the one magento_site_info
    gave in the preflight (check_handshake), which a run that changes nothing before it uses."""
    results = [
        r for r in run.results("Check whether the delivered credentials still work") if not r.get("skipped")
    ]
    results += [
        r["handshake_check"]
        for r in run.results("Read the site and the module's declaration")
        if "handshake_check" in r
    ]
    assert results, f"no check-mode handshake in the run:\n{run.out[-3000:]}"
    return results[0]


def assert_healed(stack: PrivateStack, run: Run) -> None:
    assert run.rc == 0, f"the run on a wedged consumer failed: {run.message}\n{run.out[-3000:]}"
    assert [r["type"] for r in stack.token_rows(MAIN)] == ["access"], stack.token_rows(MAIN)
    assert stack.signed_get(stack.delivered(MAIN)) == 200


def test_wedged_consumer_forced(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    wedge(stack)
    watch = Watch(stack)  # after the wedge: the injected row must be in a backup too
    run = run_playbook(stack, FORCED_TOKENS)
    outcome = {**run.outcome(), **watch.after()}
    check = check_result(run)
    assert check.get("purge_needed") is True, check
    assert_healed(stack, run)
    watch.assert_nothing_lost(run)
    outcome["message"] = "none (rc 0): the check said purge_needed; the purge cleared it"
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault",
        "wedged-consumer-forced",
        "a second 'request' row for Faults Sync's consumer beside its access row; forced (tokens only)",
        outcome,
    )


def test_wedged_consumer_healed_by_a_plain_run(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    wedge(stack)
    watch = Watch(stack)  # its credentials still sign a 200: only the next activation would fail
    run = run_playbook(stack)
    outcome = {**run.outcome(), **watch.after()}
    reason = str(check_result(run).get("reason") or "")
    assert has_words(reason, "the consumer is wedged", "2 integration token rows"), reason
    assert_healed(stack, run)
    watch.assert_nothing_lost(run)
    outcome["message"] = f"none (rc 0): the check's reason: {reason}"
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault",
        "wedged-consumer-not-forced",
        "a second 'request' row beside the working access row; not forced",
        outcome,
    )


# ---------------------------------------------------------------- faults the preflight must stop
def assert_stopped_in_preflight(run: Run, outcome: dict[str, Any], watch: Watch) -> None:
    assert "prove every connection" in run.task, f"failed in {run.task!r}, not in the preflight"
    assert has_words(run.message, "Nothing was changed"), run.message
    assert not watch.diff["tables"], f"tables changed: {watch.diff['tables']}"
    assert not watch.diff["files"], f"files changed: {watch.diff['files']}"
    assert outcome["changed"] == 0


def test_clock_skew_over_600s(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    watch = Watch(stack)  # before the knob: with it, this host's signed calls are refused too
    with stack.config_set("twin/fault/clock_offset", -700):
        watch.rebase()  # the run itself must change no table
        run = run_playbook(stack, FORCED)
        outcome = {**run.outcome(), **watch.after()}
    assert_clear(run, "s ahead of the store's", "more than 600 s ahead", "fix the clock (NTP)")
    assert_stopped_in_preflight(run, outcome, watch)
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack)
    record("fault", "clock-skew-700s", "twin/fault/clock_offset=-700 (the store 700 s behind)", outcome)


def test_consumer_expired(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    watch = Watch(stack)
    with stack.config_set("oauth/consumer/expiration_period", 1):
        watch.rebase()  # the run itself must change no table
        run = run_playbook(stack, FORCED)
        outcome = {**run.outcome(), **watch.after()}
    assert_clear(
        run, "oauth/consumer/expiration_period is 1 s", "config:set oauth/consumer/expiration_period 300"
    )
    assert_stopped_in_preflight(run, outcome, watch)
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault", "consumer-expiration-1s", "oauth/consumer/expiration_period=1 (core_config_data)", outcome
    )


def test_probe_path_denied_by_acl(private_stack: PrivateStack, record: Any) -> None:
    stack = private_stack
    watch = Watch(stack)
    probe = "/V1/customers/search?searchCriteria[pageSize]=1"
    run = run_playbook(stack, {**FORCED, "magento_integration_probe_path": probe})
    outcome = {**run.outcome(), **watch.after()}
    assert_clear(
        run,
        "needs Magento_Customer::customer",
        "will not be granted",
        "Add the id to the integration's resources",
    )
    assert_stopped_in_preflight(run, outcome, watch)
    watch.assert_nothing_lost(run)
    outcome["rerun_converged"] = converge_again(stack)
    record(
        "fault",
        "probe-path-denied-by-acl",
        f"magento_integration_probe_path: {probe} (Faults Sync is not granted Magento_Customer::customer)",
        outcome,
    )
