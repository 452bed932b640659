"""JSON backups of rows a destructive step is about to delete, and their restore.

A backup file (folder 0700, file 0600, written atomically) holds:
    {"format": "reintegrate-backup/1", "created_at": ISO-8601 UTC, "what": "...",
     "where": {...site and DB facts, never a password...},
     "tables": [{"table": "<unprefixed name>", "rows": [{column: value}, ...]}, ...]}
Values keep their type through ``encode_value``/``decode_value`` (datetime, date, Decimal and bytes
are tagged). The rows may include token secrets: the file is 0600 and is never printed.

Restore: ``restore_backup(db, path)`` inserts the rows that are missing, in one transaction (a row whose
identity, its primary key or patch_name, already exists is left alone, so a restore can be repeated).
From a playbook: ``magento_setup_module: state=present restore_from=<file>`` or
``magento_oauth_tokens: state=present restore_from=<file>``.

Public API (stable):
    BACKUP_FORMAT
    write_backup(backup_dir, what, where: dict, tables: list[tuple[str, list[dict]]], slug=None,
                 keep=0) -> str
    prune_backups(backup_dir, slug, keep) -> list[str]     keep the newest ``keep`` of one slug
    read_backup(path) -> dict             (values decoded)
    restore_backup(db, path, allowed_tables=None, check_mode=False) -> {inserted: {t: n}, present: {t: n}}
    encode_value(v) / decode_value(v)
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import tempfile
from decimal import Decimal
from typing import Any

from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_contract import RESTORE_DROP_COLUMNS, RESTORE_IDENTITY

BACKUP_FORMAT = "reintegrate-backup/1"
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat(sep=" ")}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "__datetime__":
            return dt.datetime.fromisoformat(raw)
        if tag == "__date__":
            return dt.date.fromisoformat(raw)
        if tag == "__decimal__":
            return Decimal(raw)
        if tag == "__bytes__":
            return base64.b64decode(raw)
    return value


def _ensure_private_dir(path: str) -> None:
    """Create the missing folders 0700; a folder that exists keeps the mode its owner gave it."""
    missing = []
    current = path
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask


def prune_backups(backup_dir: str, slug: str, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` backups of one slug (names start with a sortable UTC stamp)."""
    if keep <= 0:
        return []
    suffix = f"-{slug}.json"
    stamp = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-")
    mine = sorted(n for n in os.listdir(backup_dir) if n.endswith(suffix) and stamp.match(n))
    pruned = mine[:-keep]
    for name in pruned:
        os.unlink(os.path.join(backup_dir, name))
    return pruned


def write_backup(
    backup_dir: str,
    what: str,
    where: dict[str, Any],
    tables: list[tuple[str, list[dict[str, Any]]]],
    slug: str | None = None,
    keep: int = 0,
) -> str:
    """Write the rows atomically to ``<backup_dir>/<UTC stamp>-<slug>.json``; returns the path. With
    ``keep`` > 0 only the newest ``keep`` backups of that slug stay."""
    now = dt.datetime.now(dt.timezone.utc)
    doc = {
        "format": BACKUP_FORMAT,
        "created_at": now.isoformat(timespec="seconds"),
        "what": what,
        "where": where,
        "tables": [
            {"table": name, "rows": [{k: encode_value(v) for k, v in row.items()} for row in rows]}
            for name, rows in tables
        ],
    }
    backup_dir = os.path.abspath(os.path.expanduser(backup_dir))
    try:
        _ensure_private_dir(backup_dir)
        clean_slug = _SLUG.sub("_", slug or what)[:80]
        name = f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{clean_slug}.json"
        target = os.path.join(backup_dir, name)
        fd, tmp = tempfile.mkstemp(dir=backup_dir, prefix=".tmp-", suffix=".json")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise ModuleFailure(
            f"cannot write the backup in {backup_dir} ({exc.strerror}): set backup_dir to a writable folder; "
            "nothing was deleted"
        ) from None
    try:
        prune_backups(backup_dir, clean_slug, keep)
    except OSError:
        pass  # an old backup that cannot go is no reason to stop a run whose own backup is written
    return target


def read_backup(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise ModuleFailure(f"backup file {path} not found: give the path a previous run returned") from None
    except (OSError, ValueError) as exc:
        raise ModuleFailure(
            f"cannot read backup {path} ({exc}): give a file written by reintegrate"
        ) from None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != BACKUP_FORMAT
        or not isinstance(doc.get("tables"), list)
    ):
        raise ModuleFailure(
            f"{path} is not a reintegrate backup ({BACKUP_FORMAT}): give a file written by reintegrate"
        )
    for table in doc["tables"]:
        table["rows"] = [{k: decode_value(v) for k, v in row.items()} for row in table.get("rows", [])]
    return doc


_COLUMN = re.compile(r"^[A-Za-z0-9_]+$")


def restore_backup(
    db: Any, path: str, allowed_tables: set[str] | None = None, check_mode: bool = False
) -> dict[str, dict[str, int]]:
    """Insert the backup's rows that are not in the DB, all or nothing; ``db`` is a magento_db.Database.

    A row counts as present when its identity (``RESTORE_IDENTITY``: primary key, or patch_name for
    patch_list) exists, so restoring twice changes nothing. Returns ``{"inserted": {table: n},
    "present": {table: n}}``; with ``check_mode`` nothing is written.
    """
    doc = read_backup(path)
    for table in doc["tables"]:
        name = table["table"]
        if allowed_tables is not None and name not in allowed_tables:
            raise ModuleFailure(
                f"backup {path} holds rows of table {name!r}, which this module does not restore: "
                "use the module that wrote the backup"
            )
        for row in table["rows"]:
            for col in row:
                if not _COLUMN.match(col):
                    raise ModuleFailure(f"backup {path} has a bad column name {col!r}: the file was edited")
    inserted: dict[str, int] = {}
    present: dict[str, int] = {}
    with db.transaction():
        for table in doc["tables"]:
            name = table["table"]
            inserted.setdefault(name, 0)
            present.setdefault(name, 0)
            if not table["rows"]:
                continue
            identity = RESTORE_IDENTITY.get(name) or tuple(table["rows"][0])
            drop = RESTORE_DROP_COLUMNS.get(name, ())
            for row in table["rows"]:
                where = " AND ".join(f"`{c}` = %s" for c in identity)
                if db.query(f"SELECT 1 AS x FROM {db.t(name)} WHERE {where}", [row[c] for c in identity]):
                    present[name] += 1
                    continue
                inserted[name] += 1
                if check_mode:
                    continue
                cols = [c for c in row if c not in drop]
                sql = (
                    f"INSERT INTO {db.t(name)} ({', '.join(f'`{c}`' for c in cols)}) "
                    f"VALUES ({', '.join(['%s'] * len(cols))})"
                )
                db.execute(sql, [row[c] for c in cols])
    return {"inserted": inserted, "present": present}
