"""The modules' DB connection holds no metadata lock after a read, on the stack's real MariaDB (C8.6).

setup:upgrade ALTERs Magento's tables (on 2.4.7 with MariaDB 10.11 every table, on every run). DDL waits
for every other connection that has an open transaction which read the table, and MariaDB's
lock_wait_timeout is a day: a module that kept its read transaction open while bin/magento ran hung the
upgrade until its timeout. Here a second connection ALTERs a scratch table the module's connection has
read, with a short lock_wait_timeout, the way setup:upgrade would.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pymysql
import pytest
from ansible.module_utils.magento_db import Database
from ansible.module_utils.magento_env_php import EnvConfig

pytestmark = pytest.mark.docker


def _env(stack: dict[str, Any]) -> EnvConfig:
    return EnvConfig(
        db_host=stack["db_host"],
        db_port=stack["db_port"],
        db_name=os.environ.get("REINTEGRATE_DB_NAME", "magento"),
        db_username=os.environ.get("REINTEGRATE_DB_USER", "magento"),
        db_password=os.environ.get("REINTEGRATE_DB_PASSWORD", "magento"),
    )


def test_a_read_leaves_no_lock_that_blocks_an_alter_table(stack: dict[str, Any], db: Any) -> None:
    table = f"reintegrate_mdl_{uuid.uuid4().hex[:8]}"
    with db.cursor() as cur:
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY) ENGINE=InnoDB")
        cur.execute(f"INSERT INTO `{table}` VALUES (1)")
    module_db = Database(_env(stack))
    try:
        assert module_db.query(f"SELECT id FROM `{table}`") == [{"id": 1}]
        assert not module_db.in_transaction
        with db.cursor() as cur:
            cur.execute("SET SESSION lock_wait_timeout = 3")
            try:
                cur.execute(f"ALTER TABLE `{table}` COMMENT = 'as setup:upgrade does'")
            except pymysql.err.OperationalError as exc:
                pytest.fail(f"ALTER TABLE waited for the module's metadata lock: {exc}")
        # And the next read sees what the other session committed meanwhile (no stale snapshot).
        with db.cursor() as cur:
            cur.execute(f"INSERT INTO `{table}` VALUES (2)")
        assert module_db.query(f"SELECT COUNT(*) AS n FROM `{table}`") == [{"n": 2}]
    finally:
        module_db.close()
        with db.cursor() as cur:
            cur.execute(f"DROP TABLE `{table}`")
