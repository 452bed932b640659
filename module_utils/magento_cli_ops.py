"""Run bin/magento commands through the site's runner (C1.4, C8), for library/magento_cli.py.

Public API:
    COMMAND_PATTERN
    build_argv(command, args, keep_generated) -> list[str]        setup:upgrade gets --keep-generated
    explain_failure(command, result) -> str                       C8.2 texts → cause and fix
    snapshot(db, site) -> dict                                    what setup:upgrade may change
    observe(site, params) -> dict | None                          snapshot on a connection of its own,
                                                                  closed before it returns (None: no DB)
    snapshot_changes(before, after) -> dict                       readable differences
    run_cli(params, command, args, keep_generated, enable_modules, timeout, check_mode) -> dict
    GENERATED_ATTEMPTS, GENERATED_RETRY_SECONDS                   how often a command that clears
                                                                  generated/ runs when a web request
                                                                  regenerated a class there meanwhile
No DB connection is open while bin/magento runs: setup:upgrade ALTERs Magento's tables and would wait
for the metadata lock of any transaction this module held (C8.6); and the "after" state is read on a
new connection, so it sees what Magento committed.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ansible.module_utils import magento_integrations as mi
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_contract import (
    CLI_CLEARS_GENERATED,
    CLI_CONFIG_SET,
    CLI_CONFIG_SHOW,
    CLI_ERROR_MARKUP,
    CLI_GENERATED_NOT_DELETED,
    CLI_KEEP_GENERATED,
    CLI_MODULE_ENABLE,
    CLI_PATCH_FAILURE,
    CLI_READ_ONLY,
    CLI_ROLE_NOT_FOUND,
    CLI_SETUP_DB_STATUS,
    CLI_SETUP_UPGRADE,
    MODULE_NAME_PATTERN,
    TABLE_PATCH_LIST,
    TABLE_SETUP_MODULE,
)
from ansible.module_utils.magento_db import Database, database_for
from ansible.module_utils.magento_runners import CommandResult
from ansible.module_utils.magento_site import Site, site_from_params

COMMAND_PATTERN = re.compile(r"^[a-z][a-z0-9-]*(:[a-z0-9-]+)+$")
_TAIL_LINES = 20
GENERATED_ATTEMPTS = 4
GENERATED_RETRY_SECONDS = 2.0
# A process killed by a signal exits 128 + its number (docker exec and the shell report it so).
_SIGNALS = {1: "SIGHUP", 2: "SIGINT", 9: "SIGKILL", 15: "SIGTERM"}


def build_argv(command: str, args: list[str], keep_generated: bool) -> list[str]:
    argv = [command, *args]
    if command == CLI_SETUP_UPGRADE and keep_generated and CLI_KEEP_GENERATED not in args:
        argv.append(CLI_KEEP_GENERATED)
    return argv


def explain_failure(command: str, result: CommandResult) -> str:
    text = f"{result.stdout}\n{result.stderr}"
    patch = CLI_PATCH_FAILURE.search(text)
    if patch:
        return (
            f"bin/magento {command} failed (rc {result.rc}): data patch {patch['patch']} of module "
            f"{patch['module']} threw: {patch['msg'].strip()}. Fix the patch, then run setup:upgrade "
            "again (C8.2)"
        )
    busy = CLI_GENERATED_NOT_DELETED.search(text)
    if busy and command in CLI_CLEARS_GENERATED:
        return (
            f"bin/magento {command} failed (rc {result.rc}): it could not delete {busy['dir']} while web "
            f"requests were generating classes into it (bin/magento {command} empties generated/ as it "
            "starts). Run it again when the store is quieter, or with the store in maintenance mode"
        )
    if CLI_ROLE_NOT_FOUND in text:
        return (
            f"bin/magento {command} failed (rc {result.rc}): an integration's authorization_role row is "
            f"missing ({CLI_ROLE_NOT_FOUND}). Restore the role from a backup, or delete that integration "
            "in the Admin and let setup:upgrade recreate it (C8.2)"
        )
    killed_by = _SIGNALS.get(result.rc - 128) if result.rc > 128 else None
    if killed_by:
        last = next((ln.strip() for ln in reversed(text.strip().splitlines()) if ln.strip()), "")
        return (
            f"bin/magento {command} was killed by {killed_by} (rc {result.rc}) before it finished"
            + (f" (its last line: {last[:200]!r})" if last else "")
            + ": something outside it stopped it (an operator, a deploy, the OOM killer, a container "
            "stop), so it stopped midway. Find what stopped it, then run it again"
        )
    if result.rc in (126, 127):
        return (
            f"bin/magento could not be started (rc {result.rc}): "
            f"{(result.stderr.strip() or result.stdout.strip() or 'no output')[-300:]}. "
            "Check magento_root and cli_command (and cli_user)"
        )
    marked = [m.strip() for m in CLI_ERROR_MARKUP.findall(text) if m.strip()]
    detail = " ".join(marked) if marked else "\n".join(text.strip().splitlines()[-_TAIL_LINES:])
    return (
        f"bin/magento {command} failed (rc {result.rc}): {detail.rstrip('.')}. Fix the cause Magento names, "
        "then re-run"
    )


def snapshot(db: Database, site: Site) -> dict[str, Any]:
    """Observable state setup:upgrade can change: module rows, patches, integrations (C3.2), config.php."""
    return {
        "config_php": site.config_modules(),
        TABLE_SETUP_MODULE: {
            r["module"]: (r.get("schema_version"), r.get("data_version"))
            for r in db.query(f"SELECT module, schema_version, data_version FROM {db.t(TABLE_SETUP_MODULE)}")
        },
        TABLE_PATCH_LIST: sorted(
            r["patch_name"] for r in db.query(f"SELECT patch_name FROM {db.t(TABLE_PATCH_LIST)}")
        ),
        "integrations": {i.name: i.facts() for i in mi.list_integrations(db)},
    }


def snapshot_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    enabled = sorted(m for m, on in after["config_php"].items() if on and not before["config_php"].get(m))
    if enabled:
        changes["modules_enabled"] = enabled
    rows = sorted(
        m
        for m in after[TABLE_SETUP_MODULE]
        if before[TABLE_SETUP_MODULE].get(m) != after[TABLE_SETUP_MODULE][m]
    )
    if rows:
        changes["setup_module_written"] = rows
    patches = sorted(set(after[TABLE_PATCH_LIST]) - set(before[TABLE_PATCH_LIST]))
    if patches:
        changes["patches_applied"] = patches
    created, recreated, updated = [], [], []
    for name, now in after["integrations"].items():
        was = before["integrations"].get(name)
        if was is None:
            created.append(name)
        elif was["integration_id"] != now["integration_id"] or was["consumer_id"] != now["consumer_id"]:
            recreated.append(name)  # C3.2: new id, new consumer, old tokens dead
        elif was != now:
            updated.append(name)
    for key, names in (
        ("integrations_created", created),
        ("integrations_recreated", recreated),
        ("integrations_updated", updated),
    ):
        if names:
            changes[key] = sorted(names)
    removed = sorted(set(before["integrations"]) - set(after["integrations"]))
    if removed:
        changes["integrations_removed"] = removed
    return changes


def _result(argv: list[str], res: CommandResult | None, changed: bool, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "changed": changed,
        "cmd": argv,
        "stdout": "" if res is None else res.stdout,
        "stderr": "" if res is None else res.stderr,
        "duration": None if res is None else res.seconds,
    }
    # Ansible fails any result whose rc is not 0, so rc is returned only when a command ran and exited 0;
    # the one non-zero exit that is no failure (setup:db:status 2, C1.4) has its own key.
    if res is not None and res.rc == 0:
        out["rc"] = res.rc
    out.update(extra)
    return out


def _enabled(site: Site, modules: list[str]) -> list[str]:
    config = site.config_modules()
    return [m for m in modules if not config.get(m)]


def observe(site: Site, params: SiteParams) -> dict[str, Any] | None:
    """The snapshot, read on a connection that is closed again before this returns."""
    try:
        db = database_for(site.env(), params)
    except ModuleFailure:
        return None
    with db:
        return snapshot(db, site)


def run_cli(
    params: SiteParams,
    command: str,
    args: list[str],
    keep_generated: bool,
    enable_modules: list[str],
    timeout: int,
    check_mode: bool,
) -> dict[str, Any]:
    retried: list[dict[str, Any]] = []
    out = _run_cli(params, command, args, keep_generated, enable_modules, timeout, check_mode, retried)
    if retried:
        out["retried"] = retried  # [{"cmd", "attempts"}]: runs repeated after a generated/ collision
    return out


def _run_cli(
    params: SiteParams,
    command: str,
    args: list[str],
    keep_generated: bool,
    enable_modules: list[str],
    timeout: int,
    check_mode: bool,
    retried: list[dict[str, Any]],
) -> dict[str, Any]:
    if not COMMAND_PATTERN.match(command or ""):
        raise ModuleFailure(
            f"command {command!r} is not a bin/magento command name: give it like setup:upgrade, "
            "with its arguments in args"
        )
    if timeout is None or int(timeout) <= 0:  # timeout(1) reads 0 as "no limit" and -5 as an option
        raise ModuleFailure(
            f"timeout {timeout} is not a positive number of seconds: set it (the role's "
            "magento_integration_upgrade_timeout) to e.g. 900. Nothing was run"
        )
    bad = [m for m in enable_modules if not MODULE_NAME_PATTERN.match(m)]
    if bad:
        raise ModuleFailure(f"enable_modules {bad} are not Vendor_Module names: fix them")
    if command == CLI_MODULE_ENABLE:
        bad = [a for a in args if not a.startswith("-") and not MODULE_NAME_PATTERN.match(a)]
        if bad:
            raise ModuleFailure(f"module:enable arguments {bad} are not Vendor_Module names: fix them")
    argv = build_argv(command, args, keep_generated)
    site = site_from_params(params)

    def run(av: list[str]) -> CommandResult:
        res = site.cli(av, timeout=timeout)
        attempts = 1
        # A web request regenerating a class while the command empties generated/ (CLI_CLEARS_GENERATED):
        # nothing or config.php alone was written, and the command is idempotent, so it runs again.
        while (
            res.rc != 0
            and av[0] in CLI_CLEARS_GENERATED
            and attempts < GENERATED_ATTEMPTS
            and CLI_GENERATED_NOT_DELETED.search(f"{res.stdout}\n{res.stderr}")
        ):
            time.sleep(GENERATED_RETRY_SECONDS)
            res = site.cli(av, timeout=timeout)
            attempts += 1
        if attempts > 1:
            retried.append({"cmd": av[0], "attempts": attempts})
        if res.rc != 0 and not (av[0] == CLI_SETUP_DB_STATUS and res.rc == 2):
            tries = f" (run {attempts} times)" if attempts > 1 else ""
            raise ModuleFailure(
                explain_failure(av[0], res) + tries, rc=res.rc, stdout=res.stdout, stderr=res.stderr, cmd=av
            )
        return res

    if command in CLI_READ_ONLY:
        res = run(argv)
        extra: dict[str, Any] = {}
        if command == CLI_SETUP_DB_STATUS:
            # C1.4: exit 2 = "upgrade needed"; on 2.4.7 with MariaDB 10.11 it answers 2 even right after
            # setup:upgrade (its schema compare knows only 10.6), so it is reported, never trusted.
            extra["upgrade_needed_claimed"] = res.rc == 2
        return _result(argv, res, False, **extra)

    if command == CLI_MODULE_ENABLE:
        wanted = [a for a in args if not a.startswith("-")]
        todo = _enabled(site, wanted)
        if not todo or check_mode:
            return _result(argv, None, bool(todo), modules_enabled=todo)
        return _result(argv, run(argv), True, modules_enabled=todo)

    if command == CLI_CONFIG_SET and len([a for a in args if not a.startswith("-")]) >= 2:
        path, value = [a for a in args if not a.startswith("-")][:2]
        shown = site.cli([CLI_CONFIG_SHOW, path], timeout=timeout)
        current = shown.stdout.strip() if shown.rc == 0 else None
        if current == value:
            return _result(argv, None, False, previous=current)
        if check_mode:
            return _result(argv, None, True, previous=current)
        return _result(argv, run(argv), True, previous=current)

    if command == CLI_SETUP_UPGRADE:
        to_enable = _enabled(site, enable_modules)
        if check_mode:
            # setup:upgrade's effect is only known by running it; --dry-run=1 is not trusted to write nothing.
            return _result(argv, None, True, modules_enabled=to_enable, would_run=True)
        before = observe(site, params)
        enable_res = run([CLI_MODULE_ENABLE, *to_enable]) if to_enable else None
        res = run(argv)
        after = observe(site, params) if before is not None else None
        changes: dict[str, Any] = snapshot_changes(before, after) if before and after else {}
        if to_enable:
            changes["modules_enabled"] = sorted(set(changes.get("modules_enabled", [])) | set(to_enable))
        observed = after is not None
        changed = bool(changes) if observed else True
        return _result(
            argv,
            res,
            changed,
            changes=changes,
            observed=observed,
            module_enable_stdout=enable_res.stdout if enable_res else None,
        )

    # cache:flush, cache:clean and any other command: an action whose effect cannot be observed.
    if check_mode:
        return _result(argv, None, True, would_run=True)
    return _result(argv, run(argv), True)
