"""One run per integration (magento_run_lock) on the stack's real MariaDB.

The lock outlives the process that took it (the holder keeps its connection), a second run waits its
bounded time and then fails naming the holder, release frees it at once, and a holder whose state file
is gone ends by itself.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_db import Database, connection_kwargs
from ansible.module_utils.magento_env_php import EnvConfig
from ansible.module_utils.magento_run_lock import acquire, holder_of, is_free, lock_name, release

pytestmark = pytest.mark.docker


def _env(stack: dict[str, Any]) -> EnvConfig:
    return EnvConfig(
        db_host=stack["db_host"],
        db_port=stack["db_port"],
        db_name=os.environ.get("REINTEGRATE_DB_NAME", "magento"),
        db_username=os.environ.get("REINTEGRATE_DB_USER", "magento"),
        db_password=os.environ.get("REINTEGRATE_DB_PASSWORD", "magento"),
    )


def test_a_second_run_waits_then_fails_naming_the_holder(stack: dict[str, Any], tmp_path: Path) -> None:
    env = _env(stack)
    name = lock_name(env.db_name, "", f"lock-test-{uuid.uuid4().hex[:8]}")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    with Database(env) as db:
        taken = acquire(db, connection_kwargs(env), name, str(first), "run-1", wait=5, lease=120)
        assert taken["changed"] and taken["held"]
        assert oct(first.stat().st_mode & 0o777) == "0o600"
    # The module's own connection is closed: the holder process keeps the lock.
    with Database(env) as db:
        holder = holder_of(db, name)
        assert holder is not None and holder["connection_id"] == taken["connection_id"]
        assert acquire(db, connection_kwargs(env), name, str(first), "run-1", 5, 120)["changed"] is False
        started = time.monotonic()
        with pytest.raises(ModuleFailure) as err:
            acquire(db, connection_kwargs(env), name, str(second), "run-2", wait=2, lease=120)
        waited = time.monotonic() - started
        assert 1.5 <= waited < 20
        text = err.value.message
        assert "another run holds the lock" in text and "reintegrate run run-1" in text
        assert f"connection {taken['connection_id']}" in text and text.endswith("Nothing was changed.")
        assert not second.exists()
        assert release(db, str(first), "run-1")["changed"] is True
        assert not first.exists()
        assert is_free(db, name)
        # Free now: the second run gets it at once.
        assert acquire(db, connection_kwargs(env), name, str(second), "run-2", wait=2, lease=120)["held"]
        second_state = second.read_text()
        assert release(db, str(second), "run-2")["changed"] is True, second_state


def test_a_holder_without_its_state_file_lets_go(stack: dict[str, Any], tmp_path: Path) -> None:
    env = _env(stack)
    name = lock_name(env.db_name, "", f"lock-test-{uuid.uuid4().hex[:8]}")
    state = tmp_path / "lock.json"
    with Database(env) as db:
        acquire(db, connection_kwargs(env), name, str(state), "run-1", wait=2, lease=120)
        state.unlink()  # what a run that lost its state does: the holder ends within one sleep chunk
        deadline = time.monotonic() + 10
        while not is_free(db, name):
            assert time.monotonic() < deadline, "the holder kept the lock without its state file"
            time.sleep(0.3)


def test_long_names_fit_mariadb(stack: dict[str, Any]) -> None:
    name = lock_name("magento", "pfx_", "x" * 200)
    assert len(name) <= 64 and name.startswith("reintegrate:")
    with Database(_env(stack)) as db:
        assert db.query("SELECT GET_LOCK(%s, 0) AS got", (name,))[0]["got"] == 1
