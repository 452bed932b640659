"""The destructive steps, scoped and backed up: setup rows of ONE module (C3.3, C8.1) and OAuth rows of
ONE integration's consumer (C6.6). Used by library/magento_setup_module.py and magento_oauth_tokens.py.

Public API:
    site_where(params, env) -> dict                 where a backup came from (no secret)
    remove_setup_rows(params, module, patches, backup_dir, check_mode) -> dict   (module result)
    restore_rows(params, restore_from, allowed_tables, check_mode) -> dict          (module result)
    restore_oauth_rows(params, restore_from, check_mode) -> dict    token rows, and the status they had
    remove_oauth_rows(params, integration, scope, confirm_all, backup_dir, check_mode) -> dict
Each opens the site (env.php) and the DB first (the preflight), then reads, then backs up, then deletes
in one transaction. Errors are ModuleFailure.
"""

from __future__ import annotations

from typing import Any

from ansible.module_utils import magento_integrations as mi
from ansible.module_utils.magento_backup import read_backup, restore_backup, write_backup
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_contract import (
    MODULE_NAME_PATTERN,
    STATUS_ACTIVE,
    TABLE_INTEGRATION,
    TABLE_OAUTH_NONCE,
    TABLE_OAUTH_TOKEN,
    TABLE_PATCH_LIST,
    TABLE_SETUP_MODULE,
    TOKEN_TYPE_ACCESS,
)
from ansible.module_utils.magento_db import Database, database_for
from ansible.module_utils.magento_env_php import EnvConfig
from ansible.module_utils.magento_site import site_from_params


def site_where(params: SiteParams, env: EnvConfig, db: Database) -> dict[str, Any]:
    return {
        "base_url": params.base_url,
        "runner": params.runner,
        "container": params.container,
        "magento_root": params.magento_root,
        "db_host": db.host,
        "db_port": db.port,
        "db_name": env.db_name,
        "table_prefix": env.table_prefix,
    }


def _open(params: SiteParams) -> tuple[EnvConfig, Database]:
    env = site_from_params(params).env()
    return env, database_for(env, params)


def validate_module_name(module: str) -> None:
    if not MODULE_NAME_PATTERN.match(module or ""):
        raise ModuleFailure(
            f"module name {module!r} is not Vendor_Module (^[A-Z][A-Za-z0-9]*_[A-Za-z0-9]+$): give the name "
            "from the module's etc/module.xml, e.g. Acme_LegacySync"
        )


def validate_patches(patches: list[str]) -> list[str]:
    names = [mi.normalise_patch_name(p) for p in patches]
    bad = [p for p in names if not mi.PATCH_NAME_PATTERN.match(p)]
    if bad:
        raise ModuleFailure(
            f"patch names {bad} are not PHP class names: give them as stored in patch_list, "
            "e.g. Acme\\Sync\\Setup\\Patch\\Data\\CreateIntegration (C2.2)"
        )
    return names


def _setup_row_text(row: dict[str, Any] | None, patches: list[dict[str, Any]]) -> str:
    lines = []
    if row:
        lines.append(
            f"setup_module: {row['module']} schema_version={row.get('schema_version')} "
            f"data_version={row.get('data_version')}"
        )
    lines += [f"patch_list: {p['patch_name']}" for p in patches]
    return "\n".join(lines) + ("\n" if lines else "")


def remove_setup_rows(
    params: SiteParams,
    module: str,
    patches: list[str] | None,
    backup_dir: str | None,
    check_mode: bool,
    backup_keep: int = 0,
) -> dict[str, Any]:
    validate_module_name(module)
    named = validate_patches(patches) if patches else None
    if not check_mode and not backup_dir:
        raise ModuleFailure("backup_dir is required to delete rows: set it (e.g. .backups/<host>)")
    env, db = _open(params)
    with db:
        row = mi.setup_module_row(db, module)
        patch_rows = mi.patch_rows(db, module, named)
        result: dict[str, Any] = {
            "module": module,
            "removed": {TABLE_SETUP_MODULE: [row] if row else [], TABLE_PATCH_LIST: patch_rows},
            "backup": None,
            "diff": {"before": _setup_row_text(row, patch_rows), "after": ""},
        }
        if named:
            missing = sorted(set(named) - {p["patch_name"] for p in patch_rows})
            result["patches_not_found"] = missing
        result["changed"] = bool(row or patch_rows)
        if not result["changed"] or check_mode:
            return result
        with db.transaction():
            # Re-read under lock: exactly what is backed up is deleted.
            row = mi.setup_module_row(db, module, lock=True)
            patch_rows = mi.patch_rows(db, module, named, lock=True)
            result["backup"] = write_backup(
                backup_dir,  # type: ignore[arg-type]
                f"setup_module and patch_list rows of {module}",
                site_where(params, env, db),
                [(TABLE_SETUP_MODULE, [row] if row else []), (TABLE_PATCH_LIST, patch_rows)],
                slug=f"setup_module-{module}",
                keep=backup_keep,
            )
            counts = mi.delete_setup_rows(db, module, [p["patch_id"] for p in patch_rows])
        result["removed"] = {TABLE_SETUP_MODULE: [row] if row else [], TABLE_PATCH_LIST: patch_rows}
        result["counts"] = counts
        return result


def restore_rows(
    params: SiteParams, restore_from: str, allowed_tables: set[str], check_mode: bool
) -> dict[str, Any]:
    _env, db = _open(params)
    with db:
        outcome = restore_backup(db, restore_from, allowed_tables=allowed_tables, check_mode=check_mode)
    inserted = outcome["inserted"]
    return {
        "changed": any(inserted.values()),
        "restored": inserted,
        "already_present": outcome["present"],
        "backup": restore_from,
        "diff": {
            "before": "".join(f"{t}: {n} rows missing\n" for t, n in inserted.items() if n),
            "after": "",
        },
    }


def restore_oauth_rows(params: SiteParams, restore_from: str, check_mode: bool) -> dict[str, Any]:
    """The backup's token and nonce rows, then the integration's status as the purge found it: an
    activation that ran after the purge (reauthorize) left it inactive, and an inactive integration's
    restored access token is refused (C7.1). Only when the backup says it was active, the integration
    still has the backup's consumer, and the backup's access token is in the table again."""
    result = restore_rows(params, restore_from, {TABLE_OAUTH_TOKEN, TABLE_OAUTH_NONCE}, check_mode)
    doc = read_backup(restore_from)
    where = doc.get("where") or {}
    access = [
        r
        for t in doc["tables"]
        if t["table"] == TABLE_OAUTH_TOKEN
        for r in t["rows"]
        if r.get("type") == TOKEN_TYPE_ACCESS
    ]
    result["status_restored"] = False
    if where.get("integration_status") != STATUS_ACTIVE or where.get("integration_id") is None or not access:
        return result
    _env, db = _open(params)
    with db:
        rows = db.query(
            f"SELECT status, consumer_id FROM {db.t(TABLE_INTEGRATION)} WHERE integration_id = %s",
            (where["integration_id"],),
        )
        if (
            not rows
            or rows[0]["status"] == STATUS_ACTIVE
            or rows[0]["consumer_id"] != access[0]["consumer_id"]
        ):
            return result
        # In check mode the rows are not back yet: what restore_rows would insert counts as there.
        if not check_mode and not db.query(
            f"SELECT 1 AS x FROM {db.t(TABLE_OAUTH_TOKEN)} WHERE token = %s", (access[0]["token"],)
        ):
            return result
        if not check_mode:
            db.execute(
                f"UPDATE {db.t(TABLE_INTEGRATION)} SET status = %s WHERE integration_id = %s",
                (STATUS_ACTIVE, where["integration_id"]),
            )
    result["status_restored"] = True
    result["changed"] = True
    return result


def _count_text(tokens: int, types: list[str], nonces: int) -> str:
    kinds = f" ({', '.join(types)})" if types else ""
    return f"oauth_token rows: {tokens}{kinds}\noauth_nonce rows: {nonces}\n"


def remove_oauth_rows(
    params: SiteParams,
    integration: str | None,
    scope: str,
    confirm_all: bool,
    backup_dir: str | None,
    check_mode: bool,
    backup_keep: int = 0,
) -> dict[str, Any]:
    if scope == "all" and not confirm_all:
        raise ModuleFailure(
            "scope: all deletes the OAuth tokens of EVERY integration and customer app on the store: "
            "set i_know_this_deletes_every_token: true to confirm, or use scope: integration"
        )
    if scope == "integration" and not integration:
        raise ModuleFailure(
            "scope: integration needs integration: the integration's name (as in the Admin grid)"
        )
    if not check_mode and not backup_dir:
        raise ModuleFailure("backup_dir is required to delete rows: set it (e.g. .backups/<host>)")
    env, db = _open(params)
    with db:
        warnings: list[str] = []
        consumer_id: int | None = None
        found = None
        if scope == "integration":
            found = mi.find_integration(db, integration)  # type: ignore[arg-type]
            if found is None:
                raise ModuleFailure(
                    f"integration {integration!r} does not exist on this store: check the name; "
                    "a config-based integration is created by setup:upgrade (C3.1)"
                )
            consumer_id = found.consumer_id
            if consumer_id is None:
                return {
                    "changed": False,
                    "integration": integration,
                    "consumer_id": None,
                    "scope": scope,
                    "removed": {TABLE_OAUTH_TOKEN: 0, TABLE_OAUTH_NONCE: 0},
                    "backup": None,
                    "diff": {"before": _count_text(0, [], 0), "after": _count_text(0, [], 0)},
                }
        tokens = mi.token_rows_for_backup(db, consumer_id)
        nonces = mi.nonce_rows_for_backup(db, consumer_id)
        types = [str(t["type"]) for t in tokens]
        result: dict[str, Any] = {
            "integration": integration,
            "consumer_id": consumer_id,
            "scope": scope,
            "removed": {TABLE_OAUTH_TOKEN: len(tokens), TABLE_OAUTH_NONCE: len(nonces)},
            "token_types": types,
            "backup": None,
            "changed": bool(tokens or nonces),
            "diff": {"before": _count_text(len(tokens), types, len(nonces)), "after": _count_text(0, [], 0)},
        }
        if found is not None and found.status == STATUS_ACTIVE and "access" in types:
            warnings.append(
                f"integration {integration!r} is active: its current access token stops working until it is "
                "activated again (C6.6)"
            )
        result["warnings"] = warnings
        if not result["changed"] or check_mode:
            return result
        what = f"oauth_token and oauth_nonce rows of integration {integration!r} (consumer {consumer_id})"
        if scope == "all":
            what = "oauth_token and oauth_nonce rows of every consumer"
        with db.transaction():
            # Re-read under lock: exactly what is backed up is deleted.
            tokens = mi.token_rows_for_backup(db, consumer_id, lock=True)
            nonces = mi.nonce_rows_for_backup(db, consumer_id, lock=True)
            where = site_where(params, env, db)
            if found is not None:  # the status a restore puts back with the tokens (restore_oauth_rows)
                where.update(integration_id=found.integration_id, integration_status=found.status)
            result["backup"] = write_backup(
                backup_dir,  # type: ignore[arg-type]
                what,
                where,
                [(TABLE_OAUTH_TOKEN, tokens), (TABLE_OAUTH_NONCE, nonces)],
                slug=f"oauth_tokens-{integration if scope == 'integration' else 'ALL'}",
                keep=backup_keep,
            )
            counts = mi.delete_consumer_oauth_rows(db, consumer_id)
        result["removed"] = counts
        result["token_types"] = [str(t["type"]) for t in tokens]
        return result
