"""One run per integration (magento_run_lock) on the stack's real MariaDB.

The lock outlives the process that took it (the holder keeps its connection), a second run waits its
bounded time and then fails naming the holder, release frees it at once, and a holder whose state file
is gone ends by itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
MODULE_UTILS = Path(__file__).resolve().parents[2] / "module_utils"


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


def test_the_holder_keeps_none_of_the_callers_pipes(stack: dict[str, Any], tmp_path: Path) -> None:
    """The holder is forked from the task's process: it must not keep that process's stdout open (a CI job
    or a bench reading ansible-playbook's output would wait for the lock's lease), and it must stay in no
    process table as a zombie of the task. The task's process ends; its output ends with it; the lock
    stays held by the holder until it is released."""
    env = _env(stack)
    name = lock_name(env.db_name, "", f"lock-test-{uuid.uuid4().hex[:8]}")
    state = tmp_path / "lock.json"
    program = (
        "import json, sys\n"
        "import ansible.module_utils\n"
        "ansible.module_utils.__path__.append(sys.argv[4])\n"
        "from ansible.module_utils.magento_db import Database, connection_kwargs\n"
        "from ansible.module_utils.magento_env_php import EnvConfig\n"
        "from ansible.module_utils.magento_run_lock import acquire\n"
        "env = EnvConfig(**json.loads(sys.argv[1]))\n"
        "with Database(env) as db:\n"
        "    taken = acquire(db, connection_kwargs(env), sys.argv[2], sys.argv[3], 'run-1', 2, 120)\n"
        "print(json.dumps(taken))\n"
    )
    fields = {k: getattr(env, k) for k in ("db_host", "db_port", "db_name", "db_username", "db_password")}
    started = time.monotonic()
    proc = subprocess.run(  # the pipe's EOF ends this call: it comes when no process holds the pipe
        [sys.executable, "-c", program, json.dumps(fields), name, str(state), str(MODULE_UTILS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert time.monotonic() - started < 15, "the caller's output stayed open after it ended"
    taken = json.loads(proc.stdout.strip().splitlines()[-1])
    holder_pid = json.loads(state.read_text())["pid"]
    assert Path(f"/proc/{holder_pid}").exists(), "the holder ended with the process that started it"
    parent = Path(f"/proc/{holder_pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    assert parent != str(os.getpid()), "the holder is a child of the test (a zombie once it ends)"
    with Database(env) as db:
        holder = holder_of(db, name)
        assert holder is not None and holder["connection_id"] == taken["connection_id"]
        assert release(db, str(state), "run-1")["changed"] is True
        assert is_free(db, name)
