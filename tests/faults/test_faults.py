"""Faults the current code handles: each forced run on the private stack meets one fault, and
    1. fails with a clear error naming the cause and the fix;
    2. loses nothing: the bystander integration's tokens are untouched, every deleted row is in a
       backup, and the old credentials still sign a 200 on the probe (or the message names the restore);
    3. converges when run again without the fault.

Faults: the DB down at the start, a wrong admin password (activation admin), two-factor auth on with
activation admin, the listener's port taken, the credentials folder read-only, the Docker engine gone.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from faults_support import (
    BYSTANDER,
    FORCED,
    MAIN,
    PrivateStack,
    Run,
    has_words,
    run_playbook,
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
        if stack.signed_get(self.credentials) != 200:
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
