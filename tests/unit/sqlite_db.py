"""A magento_db.Database stand-in on SQLite, so integration queries run real SQL in unit tests.

Only for unit tests: the MySQL-only UNIX_TIMESTAMP() is registered.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE {p}setup_module (module TEXT PRIMARY KEY, schema_version TEXT, data_version TEXT);
CREATE TABLE {p}patch_list (patch_id INTEGER PRIMARY KEY AUTOINCREMENT, patch_name TEXT);
CREATE TABLE {p}oauth_consumer (entity_id INTEGER PRIMARY KEY, created_at TEXT, updated_at TEXT,
  name TEXT, `key` TEXT UNIQUE, secret TEXT UNIQUE, callback_url TEXT, rejected_callback_url TEXT);
CREATE TABLE {p}integration (integration_id INTEGER PRIMARY KEY, name TEXT UNIQUE, email TEXT,
  endpoint TEXT, status INTEGER, consumer_id INTEGER UNIQUE, created_at TEXT, updated_at TEXT,
  setup_type INTEGER, identity_link_url TEXT);
CREATE TABLE {p}oauth_token (entity_id INTEGER PRIMARY KEY, consumer_id INTEGER, admin_id INTEGER,
  customer_id INTEGER, type TEXT, token TEXT UNIQUE, secret TEXT, verifier TEXT, callback_url TEXT,
  revoked INTEGER DEFAULT 0, authorized INTEGER DEFAULT 0, user_type INTEGER, created_at TEXT);
CREATE TABLE {p}oauth_nonce (nonce TEXT, timestamp INTEGER, consumer_id INTEGER,
  PRIMARY KEY (nonce, consumer_id));
CREATE TABLE {p}core_config_data (config_id INTEGER PRIMARY KEY, scope TEXT, scope_id INTEGER,
  path TEXT, value TEXT, UNIQUE (scope, scope_id, path));
"""


def _unix_timestamp(value: str | None = None) -> int | None:
    if value is None:
        return int(dt.datetime.now(dt.UTC).timestamp())
    return int(dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).timestamp())


class SqliteDatabase:
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.create_function("UNIX_TIMESTAMP", 0, _unix_timestamp)
        self.conn.create_function("UNIX_TIMESTAMP", 1, _unix_timestamp)
        self.conn.executescript(SCHEMA.format(p=prefix))
        self.statements: list[str] = []

    def t(self, name: str) -> str:
        return f"`{self.prefix}{name}`"

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        self.statements.append(sql)
        sql = sql.removesuffix(" FOR UPDATE")  # SQLite locks the whole DB in a write transaction
        return [dict(r) for r in self.conn.execute(sql.replace("%s", "?"), tuple(params)).fetchall()]

    def execute(self, sql: str, params: Any = ()) -> int:
        self.statements.append(sql)
        return self.conn.execute(sql.replace("%s", "?"), tuple(params)).rowcount

    @contextmanager
    def transaction(self) -> Iterator[SqliteDatabase]:
        self.conn.execute("BEGIN")
        try:
            yield self
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def insert(self, table: str, **row: Any) -> None:
        cols = ", ".join(f"`{c}`" for c in row)
        marks = ", ".join("?" for _ in row)
        self.conn.execute(f"INSERT INTO {self.t(table)} ({cols}) VALUES ({marks})", tuple(row.values()))

    def count(self, table: str, where: str = "1=1", params: Any = ()) -> int:
        return self.conn.execute(f"SELECT COUNT(*) FROM {self.t(table)} WHERE {where}", params).fetchone()[0]
