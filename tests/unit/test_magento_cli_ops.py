"""bin/magento through the runner: failure texts (C8.2), observed changes (C3.2, C8.1), rc only when it ran.

run_cli runs against a real LocalRunner and a small shell script standing in for bin/magento.
"""

from __future__ import annotations

import os
import stat

import pytest
from ansible.module_utils import magento_cli_ops as ops
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_runners import CommandResult
from recordings import cli_recording
from sqlite_db import SqliteDatabase


def result(rc: int, stdout: str = "", stderr: str = "") -> CommandResult:
    return CommandResult(rc=rc, stdout=stdout, stderr=stderr, seconds=0.1)


# -- explain_failure -----------------------------------------------------------------------------------


def test_failing_patch_names_class_module_exception_and_fix() -> None:
    res = result(
        1,
        stdout=(
            "Updating modules:\n"
            "Unable to apply data patch Acme\\Sync\\Setup\\Patch\\Data\\CreateIntegration for module "
            "Acme_Sync. Original exception message: Email is not valid\n"
        ),
    )
    msg = ops.explain_failure("setup:upgrade", res)
    assert msg.startswith("bin/magento setup:upgrade failed (rc 1): ")
    assert "data patch Acme\\Sync\\Setup\\Patch\\Data\\CreateIntegration of module Acme_Sync" in msg
    assert "threw: Email is not valid." in msg
    assert "Fix the patch, then run setup:upgrade again (C8.2)" in msg


def test_missing_authorization_role_names_restore_or_recreate() -> None:
    res = result(1, stderr="In ...: The role wasn't found for the user. Verify the role and try again.")
    msg = ops.explain_failure("setup:upgrade", res)
    assert "authorization_role row is missing" in msg
    assert "Restore the role from a backup" in msg and "(C8.2)" in msg


@pytest.mark.parametrize("rc", [126, 127])
def test_cli_that_cannot_start_points_at_magento_root_and_cli_command(rc: int) -> None:
    msg = ops.explain_failure("cache:flush", result(rc, stderr="sh: bin/magento: not found\n"))
    assert f"could not be started (rc {rc}): sh: bin/magento: not found" in msg
    assert "Check magento_root and cli_command" in msg


def test_error_markup_is_what_gets_reported() -> None:
    res = result(1, stdout="noise\n<error>Module 'Acme_Nope' was not found</error>\nmore noise\n")
    msg = ops.explain_failure("module:enable", res)
    assert msg == (
        "bin/magento module:enable failed (rc 1): Module 'Acme_Nope' was not found. "
        "Fix the cause Magento names, then re-run"
    )


def test_unmarked_output_is_reported_by_its_last_lines() -> None:
    lines = [f"line {i}" for i in range(30)]
    msg = ops.explain_failure("cache:flush", result(1, stdout="\n".join(lines)))
    assert "line 29" in msg and "line 10" in msg and "line 9\n" not in msg


# -- snapshot / snapshot_changes -----------------------------------------------------------------------


def integ(iid: int, consumer: int, email: str = "a@example.com", status: int = 1) -> dict:
    return {"integration_id": iid, "consumer_id": consumer, "email": email, "status": status}


def snap(config=None, rows=None, patches=None, integrations=None) -> dict:
    return {
        "config_php": config or {},
        "setup_module": rows or {},
        "patch_list": patches or [],
        "integrations": integrations or {},
    }


def test_no_difference_is_no_change() -> None:
    state = snap({"Acme_Sync": True}, {"Acme_Sync": ("1.0.0", "1.0.0")}, ["P"], {"A": integ(1, 5)})
    assert ops.snapshot_changes(state, dict(state)) == {}


def test_every_kind_of_change_is_named() -> None:
    before = snap(
        {"Acme_Sync": False, "Acme_Old": True},
        {"Acme_Old": ("1.0.0", "1.0.0")},
        ["Acme\\Old\\P1"],
        {"Kept": integ(1, 5), "Recreated": integ(2, 6), "Edited": integ(3, 7), "Gone": integ(4, 8)},
    )
    after = snap(
        {"Acme_Sync": True, "Acme_Old": True, "Acme_New": True},
        {"Acme_Old": ("1.0.0", "1.0.0"), "Acme_Sync": ("1.0.0", "1.0.0")},
        ["Acme\\Old\\P1", "Acme\\Sync\\P2"],
        {
            "Kept": integ(1, 5),
            "Recreated": integ(9, 10, status=2),
            "Edited": integ(3, 7, email="b@example.com"),
            "New": integ(11, 12),
        },
    )
    assert ops.snapshot_changes(before, after) == {
        "modules_enabled": ["Acme_New", "Acme_Sync"],
        "setup_module_written": ["Acme_Sync"],
        "patches_applied": ["Acme\\Sync\\P2"],
        "integrations_created": ["New"],
        "integrations_recreated": ["Recreated"],
        "integrations_updated": ["Edited"],
        "integrations_removed": ["Gone"],
    }


class ConfigSite:
    def __init__(self, modules: dict[str, bool]) -> None:
        self.modules = modules

    def config_modules(self) -> dict[str, bool]:
        return dict(self.modules)


def test_snapshot_reads_real_rows_and_sees_a_recreated_integration() -> None:
    db = SqliteDatabase(prefix="mg_")
    db.insert("integration", integration_id=1, name="Acme Sync", status=1, consumer_id=5, setup_type=1)
    db.insert("setup_module", module="Acme_Sync", schema_version="1.0.0", data_version="1.0.0")
    site = ConfigSite({"Acme_Sync": True})
    before = ops.snapshot(db, site)
    # What setup:upgrade does when the config differs (C3.2): new id and consumer, status 2.
    db.conn.execute("DELETE FROM mg_integration")
    db.insert("integration", integration_id=2, name="Acme Sync", status=2, consumer_id=6, setup_type=1)
    db.insert("patch_list", patch_name="Acme\\Sync\\Setup\\Patch\\Data\\CreateIntegration")
    assert ops.snapshot_changes(before, ops.snapshot(db, site)) == {
        "patches_applied": ["Acme\\Sync\\Setup\\Patch\\Data\\CreateIntegration"],
        "integrations_recreated": ["Acme Sync"],
    }


# -- run_cli: rc only when a command ran ---------------------------------------------------------------

FAKE_MAGENTO = """#!/bin/sh
echo "$*" >> calls.log
case "$1" in
  cache:flush) echo "Flushed cache types"; exit 0 ;;
  setup:db:status) echo "The module code base doesn't match the DB schema and data."; exit 2 ;;
  module:status) echo "List of enabled modules:"; exit 0 ;;
  setup:upgrade) echo "Unable to apply data patch Acme\\\\Sync\\\\P for module Acme_Sync. \
Original exception message: boom"; exit 1 ;;
  *) exit 1 ;;
esac
"""


@pytest.fixture
def root(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "app" / "etc").mkdir(parents=True)
    script = tmp_path / "bin" / "magento"
    script.write_text(FAKE_MAGENTO)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "app/etc/config.php").write_text("<?php return ['modules' => ['Acme_On' => 1]];")
    return tmp_path


def run(root, command: str, args=(), check_mode: bool = False, enable=()) -> dict:
    params = SiteParams(magento_root=str(root), runner="local")
    return ops.run_cli(params, command, list(args), True, list(enable), 30, check_mode)


def calls(root) -> list[str]:
    log = root / "calls.log"
    return log.read_text().splitlines() if os.path.exists(log) else []


def test_result_without_a_command_has_no_rc_key() -> None:
    out = ops._result(["cache:flush"], None, True)
    assert "rc" not in out and out["duration"] is None and out["stdout"] == ""
    assert ops._result(["cache:flush"], result(0, "ok"), True)["rc"] == 0


@pytest.mark.parametrize(
    ("command", "args", "check_mode", "changed"),
    [
        ("cache:flush", [], True, True),
        ("setup:upgrade", [], True, True),
        ("module:enable", ["Acme_New"], True, True),
        ("module:enable", ["Acme_On"], False, False),
    ],
)
def test_nothing_ran_so_no_rc(root, command, args, check_mode, changed) -> None:
    out = run(root, command, args, check_mode=check_mode)
    assert out["changed"] is changed
    assert "rc" not in out
    assert calls(root) == []


def test_a_command_that_ran_reports_rc(root) -> None:
    out = run(root, "cache:flush")
    assert out["changed"] is True and out["rc"] == 0 and out["stdout"] == "Flushed cache types\n"
    assert calls(root) == ["cache:flush"]


def test_setup_db_status_exit_2_is_not_reported_as_a_failing_rc(root) -> None:
    # C1.4: exit 2 means "upgrade needed" (and is unreliable); Ansible fails any result with rc != 0.
    out = run(root, "setup:db:status")
    assert out["changed"] is False and out["upgrade_needed_claimed"] is True
    assert out.get("rc", 0) == 0


def test_failing_command_raises_the_explained_failure_with_rc(root) -> None:
    with pytest.raises(ModuleFailure) as err:
        run(root, "setup:upgrade")
    assert "data patch Acme\\Sync\\P of module Acme_Sync threw: boom" in err.value.message
    assert err.value.details["rc"] == 1 and err.value.details["cmd"] == ["setup:upgrade", "--keep-generated"]


@pytest.mark.parametrize(
    ("command", "args", "enable", "fix"),
    [
        ("setup:upgrade; rm -rf /", [], [], "give it like setup:upgrade"),
        ("setup:upgrade", [], ["acme-sync"], "not Vendor_Module names"),
        ("module:enable", ["Acme_On", "../x"], [], "not Vendor_Module names"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(root, command, args, enable, fix) -> None:
    with pytest.raises(ModuleFailure) as err:
        run(root, command, args, enable=enable)
    assert fix in err.value.message
    assert calls(root) == []


# -- run_cli setup:upgrade: no connection open while bin/magento runs (C8.6) ---------------------------


class TrackedDatabase:
    """A connection to the shared SQLite store that counts itself open until close()."""

    open_now = 0

    def __init__(self, store: SqliteDatabase) -> None:
        self.store = store
        TrackedDatabase.open_now += 1

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def close(self) -> None:
        TrackedDatabase.open_now -= 1

    def __enter__(self) -> TrackedDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class UpgradingSite(ConfigSite):
    """bin/magento setup:upgrade as a real 2.4.7 runs it: it recreates the integration (C3.2). It
    records how many of the module's connections were open while it ran."""

    def __init__(self, store: SqliteDatabase) -> None:
        super().__init__({"Acme_Sync": True})
        self.store = store
        self.open_during: list[int] = []

    def env(self) -> object:
        return object()

    def cli(self, argv: list[str], timeout: int = 600) -> CommandResult:
        self.open_during.append(TrackedDatabase.open_now)
        self.store.conn.execute("DELETE FROM integration")
        self.store.insert("integration", integration_id=2, name="Acme Sync", status=2, consumer_id=6)
        return result(0, "Nothing to import.\n")


def test_setup_upgrade_runs_with_no_connection_open_and_reads_after_it(monkeypatch) -> None:
    store = SqliteDatabase()
    store.insert("integration", integration_id=1, name="Acme Sync", status=1, consumer_id=5, setup_type=1)
    site = UpgradingSite(store)
    monkeypatch.setattr(ops, "site_from_params", lambda params: site)
    monkeypatch.setattr(ops, "database_for", lambda env, params: TrackedDatabase(store))
    params = SiteParams(magento_root="/srv", runner="local")
    out = ops.run_cli(params, "setup:upgrade", [], True, [], 30, False)
    assert site.open_during == [0]  # a transaction held here would block its ALTER TABLE for a day
    assert TrackedDatabase.open_now == 0
    assert out["observed"] is True and out["changed"] is True
    assert out["changes"] == {"integrations_recreated": ["Acme Sync"]}  # read after the command


def test_recorded_config_show_failure_reads_as_one_sentence() -> None:
    rec = cli_recording("cli/config_show_unknown_path.json")
    msg = ops.explain_failure("config:show", result(rec["rc"], rec["stdout"], rec["stderr"]))
    assert 'The "no/such/path" path doesn\'t exist. Verify and try again. Fix the cause' in msg
    assert ".." not in msg


def test_recorded_missing_role_failure_on_stdout_is_explained() -> None:
    # Real 2.4.7: rc 1, stderr empty, the message glued to "Running schema recurring..." on stdout.
    rec = cli_recording("cli/setup_upgrade_fails_missing_role.json")
    assert rec["stderr"] == "" and rec["rc"] == 1
    msg = ops.explain_failure("setup:upgrade", result(rec["rc"], rec["stdout"], rec["stderr"]))
    assert "authorization_role row is missing" in msg and "(C8.2)" in msg
