"""Queries about integrations, their OAuth rows, setup rows and config (C2, C3, C6).

Never reads a secret for use: consumer secrets and access-token secrets are encrypted (C2.4, C2.5).
``*_rows_for_backup`` return whole rows (incl. token values) only so they can go to a 0600 backup file.

Public API (stable):
    @dataclass Integration(integration_id, name, email, endpoint, status, consumer_id, setup_type,
                           identity_link_url)   .status_name  .facts()
    @dataclass TokenRow(entity_id, type, user_type, revoked, authorized, created_at)  (no token/secret)
    @dataclass TokenDiagnosis(types, wedged, leftover, reason)
    find_integration(db, name) -> Integration | None
    list_integrations(db) -> list[Integration]
    consumer_key(db, consumer_id) -> str | None                 (stored plain, C2.4)
    consumer_age_seconds(db, consumer_id) -> int | None         (DB clock: now - updated_at|created_at)
    token_rows(db, consumer_id) -> list[TokenRow]               ordered by entity_id
    access_token_present(db, consumer_id, token) -> bool        compared in SQL, never read out
    nonce_count(db, consumer_id) -> int
    diagnose_tokens(rows) -> TokenDiagnosis                     C6.6
    is_expired(age_seconds, period) -> bool                     C6.5
    config_value(db, path, scope="default", scope_id=0) -> str | None
    expiration_period(db) -> int;  bearer_enabled(db) -> bool   C6.5, C7.3
    setup_module_row(db, module, lock=False) -> dict | None     C2.1 (lock: FOR UPDATE in a transaction)
    patch_rows(db, module, patches=None, lock=False) -> list[dict]   C2.2 (patch_id, patch_name)
    normalise_patch_name(name) -> str
    delete_setup_rows(db, module, patch_ids) -> dict[str, int]  (call inside db.transaction())
    token_rows_for_backup(db, consumer_id | None, lock=False) / nonce_rows_for_backup(...)
    delete_consumer_oauth_rows(db, consumer_id | None) -> dict[str, int]   None = every consumer
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ansible.module_utils.magento_contract import (
    CONFIG_BEARER,
    CONFIG_EXPIRATION_PERIOD,
    CONFIG_SCOPE_DEFAULT,
    DEFAULT_EXPIRATION_PERIOD,
    STATUS_NAMES,
    TABLE_CORE_CONFIG_DATA,
    TABLE_INTEGRATION,
    TABLE_OAUTH_CONSUMER,
    TABLE_OAUTH_NONCE,
    TABLE_OAUTH_TOKEN,
    TABLE_PATCH_LIST,
    TABLE_SETUP_MODULE,
    TOKEN_TYPE_ACCESS,
    TOKEN_TYPE_REQUEST,
    TOKEN_TYPE_VERIFIER,
    USER_TYPE_INTEGRATION,
    module_namespace,
)

_INTEGRATION_COLUMNS = (
    "integration_id, name, email, endpoint, status, consumer_id, setup_type, identity_link_url"
)
PATCH_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\\[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Integration:
    integration_id: int
    name: str
    email: str | None
    endpoint: str | None
    status: int
    consumer_id: int | None
    setup_type: int
    identity_link_url: str | None

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, f"unknown ({self.status})")

    def facts(self) -> dict[str, Any]:
        return {
            "integration_id": self.integration_id,
            "name": self.name,
            "email": self.email,
            "endpoint": self.endpoint,
            "identity_link_url": self.identity_link_url,
            "status": self.status,
            "status_name": self.status_name,
            "consumer_id": self.consumer_id,
            "setup_type": self.setup_type,
        }


@dataclass(frozen=True)
class TokenRow:
    entity_id: int
    type: str
    user_type: int | None
    revoked: int
    authorized: int
    created_at: Any = None


@dataclass(frozen=True)
class TokenDiagnosis:
    types: list[str]
    wedged: bool
    leftover: bool
    reason: str | None


def _integration(row: dict[str, Any]) -> Integration:
    return Integration(
        integration_id=int(row["integration_id"]),
        name=str(row["name"]),
        email=row.get("email"),
        endpoint=row.get("endpoint"),
        status=int(row["status"]),
        consumer_id=None if row.get("consumer_id") is None else int(row["consumer_id"]),
        setup_type=int(row.get("setup_type") or 0),
        identity_link_url=row.get("identity_link_url"),
    )


def find_integration(db: Any, name: str) -> Integration | None:
    rows = db.query(f"SELECT {_INTEGRATION_COLUMNS} FROM {db.t(TABLE_INTEGRATION)} WHERE name = %s", (name,))
    return _integration(rows[0]) if rows else None


def list_integrations(db: Any) -> list[Integration]:
    rows = db.query(f"SELECT {_INTEGRATION_COLUMNS} FROM {db.t(TABLE_INTEGRATION)} ORDER BY integration_id")
    return [_integration(r) for r in rows]


def consumer_key(db: Any, consumer_id: int) -> str | None:
    rows = db.query(f"SELECT `key` FROM {db.t(TABLE_OAUTH_CONSUMER)} WHERE entity_id = %s", (consumer_id,))
    return str(rows[0]["key"]) if rows else None


def consumer_age_seconds(db: Any, consumer_id: int) -> int | None:
    """Seconds since the consumer was stamped (C5.3 sets updated_at), measured by the DB's clock."""
    rows = db.query(
        "SELECT UNIX_TIMESTAMP() - UNIX_TIMESTAMP(COALESCE(updated_at, created_at)) AS age "
        f"FROM {db.t(TABLE_OAUTH_CONSUMER)} WHERE entity_id = %s",
        (consumer_id,),
    )
    if not rows or rows[0]["age"] is None:
        return None
    return int(rows[0]["age"])


def is_expired(age_seconds: int | None, period: int) -> bool:
    """C6.5: /request accepts the consumer only while now - updated_at < expiration_period."""
    return age_seconds is not None and age_seconds >= period


def token_rows(db: Any, consumer_id: int) -> list[TokenRow]:
    rows = db.query(
        "SELECT entity_id, type, user_type, revoked, authorized, created_at "
        f"FROM {db.t(TABLE_OAUTH_TOKEN)} WHERE consumer_id = %s ORDER BY entity_id",
        (consumer_id,),
    )
    return [
        TokenRow(
            entity_id=int(r["entity_id"]),
            type=str(r["type"]),
            user_type=None if r.get("user_type") is None else int(r["user_type"]),
            revoked=int(r.get("revoked") or 0),
            authorized=int(r.get("authorized") or 0),
            created_at=r.get("created_at"),
        )
        for r in rows
    ]


def access_token_present(db: Any, consumer_id: int, token: str) -> bool:
    """True when the consumer has a live integration access row with this token.

    The token is compared inside SQL, so no token value is ever read out of the DB.
    """
    rows = db.query(
        f"SELECT COUNT(*) AS n FROM {db.t(TABLE_OAUTH_TOKEN)} WHERE consumer_id = %s AND type = %s "
        "AND token = %s AND revoked = 0 AND (user_type = %s OR user_type IS NULL)",
        (consumer_id, TOKEN_TYPE_ACCESS, token, USER_TYPE_INTEGRATION),
    )
    return int(rows[0]["n"]) > 0


def nonce_count(db: Any, consumer_id: int) -> int:
    rows = db.query(
        f"SELECT COUNT(*) AS n FROM {db.t(TABLE_OAUTH_NONCE)} WHERE consumer_id = %s", (consumer_id,)
    )
    return int(rows[0]["n"])


def diagnose_tokens(rows: list[TokenRow]) -> TokenDiagnosis:
    """C6.6: Magento reads "the first integration row of the consumer" with no ordering.

    ``leftover``: a request/access row exists, so the next activation adds a verifier beside it and
    wedges the consumer unless its rows are deleted BEFORE activating.
    ``wedged``: that already happened: a verifier plus a request/access row, or the first row (lowest
    entity_id, what Magento's unordered lookup typically returns) is not the verifier.
    """
    integration_rows = [r for r in rows if r.user_type in (None, USER_TYPE_INTEGRATION)]
    types = [r.type for r in integration_rows]
    stale = [t for t in types if t in (TOKEN_TYPE_REQUEST, TOKEN_TYPE_ACCESS)]
    has_verifier = TOKEN_TYPE_VERIFIER in types
    wedged = has_verifier and bool(stale)
    reason = None
    if wedged:
        reason = (
            f"consumer has a leftover {stale[0]} row next to a verifier (first row is {types[0]}): /request "
            "fails with 'not a verifier token'; purge this integration's tokens, then activate again (C6.6)"
        )
    elif len(integration_rows) > 1:
        wedged = True
        reason = (
            f"consumer has {len(integration_rows)} integration token rows ({', '.join(types)}); "
            "Magento reads an arbitrary one: purge this integration's tokens, then activate again (C6.6)"
        )
    elif stale:
        reason = (
            f"consumer has a {stale[0]} row: purge this integration's tokens BEFORE the next activation, or "
            "the new verifier will be shadowed (C6.6)"
        )
    return TokenDiagnosis(types=types, wedged=wedged, leftover=bool(stale), reason=reason)


def config_value(db: Any, path: str, scope: str = CONFIG_SCOPE_DEFAULT, scope_id: int = 0) -> str | None:
    rows = db.query(
        f"SELECT value FROM {db.t(TABLE_CORE_CONFIG_DATA)} WHERE scope = %s AND scope_id = %s AND path = %s",
        (scope, scope_id, path),
    )
    return None if not rows or rows[0]["value"] is None else str(rows[0]["value"])


def expiration_period(db: Any) -> int:
    value = config_value(db, CONFIG_EXPIRATION_PERIOD)
    try:
        return int(value) if value not in (None, "") else DEFAULT_EXPIRATION_PERIOD
    except ValueError:
        return DEFAULT_EXPIRATION_PERIOD


def bearer_enabled(db: Any) -> bool:
    return config_value(db, CONFIG_BEARER) == "1"


def setup_module_row(db: Any, module: str, lock: bool = False) -> dict[str, Any] | None:
    suffix = " FOR UPDATE" if lock else ""
    rows = db.query(f"SELECT * FROM {db.t(TABLE_SETUP_MODULE)} WHERE module = %s{suffix}", (module,))
    return rows[0] if rows else None


def normalise_patch_name(name: str) -> str:
    """C2.2 stores class names without a leading backslash."""
    return name.strip().lstrip("\\")


def patch_rows(
    db: Any, module: str, patches: list[str] | None = None, lock: bool = False
) -> list[dict[str, Any]]:
    """patch_list rows of classes under the module's namespace (``V\\M\\``), or exactly those named."""
    table = db.t(TABLE_PATCH_LIST)
    suffix = " FOR UPDATE" if lock else ""
    if patches:
        names = [normalise_patch_name(p) for p in patches]
        placeholders = ", ".join(["%s"] * len(names))
        sql = (
            f"SELECT patch_id, patch_name FROM {table} WHERE patch_name IN ({placeholders}) ORDER BY patch_id"
        )
        return db.query(sql + suffix, names)
    prefix = module_namespace(module)
    # SUBSTRING instead of LIKE: backslashes in class names are LIKE escapes in MySQL.
    return db.query(
        f"SELECT patch_id, patch_name FROM {table} "
        f"WHERE SUBSTRING(patch_name, 1, %s) = %s ORDER BY patch_id{suffix}",
        (len(prefix), prefix),
    )


def delete_setup_rows(db: Any, module: str, patch_ids: list[int]) -> dict[str, int]:
    counts = {
        TABLE_SETUP_MODULE: db.execute(
            f"DELETE FROM {db.t(TABLE_SETUP_MODULE)} WHERE module = %s", (module,)
        ),
        TABLE_PATCH_LIST: 0,
    }
    if patch_ids:
        placeholders = ", ".join(["%s"] * len(patch_ids))
        counts[TABLE_PATCH_LIST] = db.execute(
            f"DELETE FROM {db.t(TABLE_PATCH_LIST)} WHERE patch_id IN ({placeholders})", list(patch_ids)
        )
    return counts


def _scope(consumer_id: int | None) -> tuple[str, tuple[Any, ...]]:
    return ("WHERE consumer_id = %s", (consumer_id,)) if consumer_id is not None else ("", ())


def token_rows_for_backup(db: Any, consumer_id: int | None, lock: bool = False) -> list[dict[str, Any]]:
    """Whole rows (for a 0600 backup only). ``lock``: FOR UPDATE, inside db.transaction(), so no row
    appears between the backup and the delete."""
    where, params = _scope(consumer_id)
    suffix = " FOR UPDATE" if lock else ""
    return db.query(f"SELECT * FROM {db.t(TABLE_OAUTH_TOKEN)} {where} ORDER BY entity_id{suffix}", params)


def nonce_rows_for_backup(db: Any, consumer_id: int | None, lock: bool = False) -> list[dict[str, Any]]:
    where, params = _scope(consumer_id)
    suffix = " FOR UPDATE" if lock else ""
    return db.query(
        f"SELECT * FROM {db.t(TABLE_OAUTH_NONCE)} {where} ORDER BY consumer_id, nonce{suffix}", params
    )


def delete_consumer_oauth_rows(db: Any, consumer_id: int | None) -> dict[str, int]:
    """Delete oauth_token + oauth_nonce rows of one consumer (None: of every consumer, scope all)."""
    where, params = _scope(consumer_id)
    return {
        TABLE_OAUTH_TOKEN: db.execute(f"DELETE FROM {db.t(TABLE_OAUTH_TOKEN)} {where}", params),
        TABLE_OAUTH_NONCE: db.execute(f"DELETE FROM {db.t(TABLE_OAUTH_NONCE)} {where}", params),
    }
