"""One run per integration at a time: a MariaDB advisory lock (GET_LOCK) held across the run's tasks.

A lock belongs to a DB connection, and every Ansible task is a process of its own, so a small holder
process keeps the connection: ``acquire`` forks it (detached; it reads no file of the module's, which
Ansible removes when the task ends), it takes GET_LOCK with a bounded
wait and then sleeps in the DB in short ``DO SLEEP`` calls whose SQL comment names the run, so another
run sees who holds the lock in the processlist. ``release`` ends that connection (KILL of its own
connection id, which frees the lock at once); a holder whose state file is gone, or whose lease ran out,
ends itself.

Public API (stable):
    lock_name(db_name, prefix, integration) -> str          <= 64 characters (MariaDB's limit)
    holder_of(db, name) -> dict | None                       {connection_id, user, host, seconds, run}
    acquire(db, connect_kwargs, name, state_file, run_id, wait, lease) -> dict
    release(db, state_file, run_id) -> dict
    is_free(db, name) -> bool
    new_run_id() -> str                                      UTC time and a random number: one run's name
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import json
import os
import random
import re
import signal
import socket
import time
import warnings
from typing import Any

from ansible.module_utils.magento_common import ModuleFailure

MAX_NAME = 64
SLEEP_CHUNK = 2


def new_run_id() -> str:
    """A name for one run (the lock's owner in the processlist): when it started, and a random number."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{random.SystemRandom().randrange(10**9)}"


def _hold(cfg: dict[str, Any], answer_fd: int) -> None:
    """The holder's life, in the forked process: take the lock, answer on answer_fd (one JSON line), then
    keep the connection while the state file exists and the lease runs."""
    from ansible.module_utils import magento_db  # imported already: the parent connected to the DB

    def answer(doc: dict[str, Any]) -> None:
        with os.fdopen(answer_fd, "w") as out:
            out.write(json.dumps(doc) + "\n")

    try:
        conn = magento_db.Connection(autocommit=True, **cfg["connect"])
        cur = conn.cursor()
        cur.execute("SELECT GET_LOCK(%s, %s), CONNECTION_ID()", (cfg["name"], cfg["wait"]))
        got, conn_id = cur.fetchone()
    except Exception as exc:  # the parent reports it, naming the fix
        answer({"error": type(exc).__name__ + ": " + str(exc)[:200]})
        return
    answer({"locked": got == 1, "connection_id": conn_id, "pid": os.getpid()})
    if got != 1:
        return
    deadline = time.time() + cfg["lease"]
    comment = cfg["comment"].replace("*/", "")
    try:
        while time.time() < deadline and os.path.exists(cfg["state_file"]):
            cur.execute(f"DO SLEEP({int(cfg['chunk'])}) /* {comment} */")
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _start_holder(cfg: dict[str, Any]) -> dict[str, Any]:
    """Forks the holder, detached (its own session, a grandchild: no zombie, no terminal, none of the
    task's pipes held open), and returns its answer. A fork, not a new interpreter: the code and pymysql
    are in memory already (a fresh Python importing pymysql costs ~90 ms of CPU per run), and nothing is
    read from the module's files, which Ansible removes when the task ends."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns of fork in a threaded process; the child
        warnings.simplefilter("ignore", DeprecationWarning)  # runs no other thread's code
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's side, seen through its answer
        code = 0
        try:
            os.close(read_fd)
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            gc.disable()  # nothing of the parent's is finalised here (its fds are closed below)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            answer_fd = fcntl.fcntl(write_fd, fcntl.F_DUPFD, 3)  # above stdin/out/err, whatever they were
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.closerange(3, answer_fd)
            os.closerange(answer_fd + 1, os.sysconf("SC_OPEN_MAX"))
            _hold(cfg, answer_fd)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    os.waitpid(pid, 0)  # the first child ends at once, leaving the holder to init
    with os.fdopen(read_fd) as answers:
        line = answers.readline()
    try:
        return json.loads(line) if line else {"error": "the lock holder ended without an answer"}
    except ValueError:
        return {"error": "the lock holder's answer was not understood"}


def lock_name(db_name: str, prefix: str, integration: str) -> str:
    name = f"reintegrate:{db_name}:{prefix}:{integration}"
    if len(name) <= MAX_NAME:
        return name
    return "reintegrate:" + hashlib.sha256(name.encode()).hexdigest()[:40]


def is_free(db: Any, name: str) -> bool:
    rows = db.query("SELECT IS_FREE_LOCK(%s) AS free", (name,))
    return bool(rows and rows[0]["free"] == 1)


def holder_of(db: Any, name: str) -> dict[str, Any] | None:
    rows = db.query("SELECT IS_USED_LOCK(%s) AS id", (name,))
    conn_id = rows[0]["id"] if rows else None
    if conn_id is None:
        return None
    info = db.query(
        "SELECT USER AS user, HOST AS host, TIME AS seconds, INFO AS info "
        "FROM information_schema.PROCESSLIST WHERE ID = %s",
        (conn_id,),
    )
    row = info[0] if info else {}
    run = re.search(r"/\* (.*?) \*/", row.get("info") or "")
    return {
        "connection_id": int(conn_id),
        "user": row.get("user"),
        "host": row.get("host"),
        "seconds": row.get("seconds"),
        "run": run.group(1) if run else None,
    }


def _describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "a run that has just finished"
    who = holder.get("run") or f"connection {holder['connection_id']}"
    return (
        f"{who} (MariaDB connection {holder['connection_id']}, {holder.get('user')}@{holder.get('host')}, "
        f"{holder.get('seconds')} s)"
    )


def _read_state(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _write_state(path: str, state: dict[str, Any]) -> None:
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=0o700)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh)
    os.replace(tmp, path)


def acquire(
    db: Any,
    connect_kwargs: dict[str, Any],
    name: str,
    state_file: str,
    run_id: str,
    wait: int,
    lease: int,
) -> dict[str, Any]:
    """Take the lock for this run (a no-op when this run already holds it). Fails after ``wait`` seconds
    naming the holder."""
    state = _read_state(state_file)
    holder = holder_of(db, name)
    if (
        state
        and state.get("run_id") == run_id
        and holder
        and holder["connection_id"] == state.get("connection_id")
    ):
        return {"changed": False, "lock": name, "connection_id": holder["connection_id"], "held": True}
    user = os.environ.get("USER") or str(os.getuid())
    comment = f"reintegrate run {run_id} by {user}@{socket.gethostname()} pid {os.getpid()}"
    # The state file exists before the holder starts: the holder keeps the lock only while it does.
    _write_state(state_file, {"run_id": run_id, "lock": name, "connection_id": None, "started": time.time()})
    cfg = {
        "connect": connect_kwargs,
        "name": name,
        "wait": int(wait),
        "lease": int(lease),
        "chunk": SLEEP_CHUNK,
        "state_file": state_file,
        "comment": comment,
    }
    answer = _start_holder(cfg)
    if answer.get("error") or not answer.get("locked"):
        os.unlink(state_file)
        if answer.get("error"):
            raise ModuleFailure(
                f"cannot take the run lock {name}: {answer['error']}: check the DB connection. Nothing was "
                "changed."
            )
        raise ModuleFailure(
            f"another run holds the lock {name}: {_describe(holder_of(db, name) or holder)}; "
            f"waited {wait} s. "
            "Let it finish and run again; if that run died, its lock ends with its lease or with KILL "
            f"<connection id> in MariaDB. Nothing was changed.",
            holder=holder_of(db, name),
        )
    _write_state(
        state_file,
        {
            "run_id": run_id,
            "lock": name,
            "connection_id": answer["connection_id"],
            "pid": answer.get("pid"),
            "started": time.time(),
        },
    )
    return {"changed": True, "lock": name, "connection_id": answer["connection_id"], "held": True}


def release(db: Any, state_file: str, run_id: str | None = None) -> dict[str, Any]:
    state = _read_state(state_file)
    if not state:
        return {"changed": False, "held": False}
    if run_id and state.get("run_id") != run_id:
        return {"changed": False, "held": False, "lock": state.get("lock")}
    name, conn_id = state.get("lock"), state.get("connection_id")
    holder = holder_of(db, name) if name else None
    try:
        os.unlink(state_file)  # the holder also ends by itself after its current sleep
    except FileNotFoundError:
        pass
    if holder and conn_id and holder["connection_id"] == conn_id:
        try:
            db.execute(f"KILL {int(conn_id)}")
        except Exception:  # noqa: S110 - it ended by itself in the meantime
            pass
        # KILL is asynchronous: the lock is free once the killed session has ended.
        deadline = time.monotonic() + 15
        while (holder_of(db, name) or {}).get("connection_id") == conn_id and time.monotonic() < deadline:
            time.sleep(0.1)
        return {"changed": True, "held": False, "lock": name}
    return {"changed": False, "held": False, "lock": name}


# The same lock taken by the first destructive module itself (magento_setup_module, magento_oauth_tokens:
# option run_lock) and released by the handshake (option release_run_lock): two module runs fewer than
# separate lock tasks.
RUN_LOCK_OPTION: dict[str, Any] = {
    "type": "dict",
    "options": {
        "integration": {"type": "str", "required": True},
        "run_id": {"type": "str", "required": True},
        "state_file": {"type": "path", "required": True},
        "wait": {"type": "int", "default": 120},
        "lease": {"type": "int", "default": 3600},
    },
}


def _site_db(params: Any) -> tuple[Any, Any]:
    from ansible.module_utils.magento_db import database_for
    from ansible.module_utils.magento_site import site_from_params

    env = site_from_params(params).env()
    return env, database_for(env, params)


def hold(params: Any, opts: dict[str, Any]) -> dict[str, Any]:
    """Take (or keep) the lock described by a run_lock option, on a connection of its own."""
    from ansible.module_utils.magento_db import connection_kwargs

    env, db = _site_db(params)
    with db:
        name = lock_name(env.db_name, env.table_prefix, opts["integration"])
        kwargs = connection_kwargs(env, params.db_host, params.db_port, ssl=params.db_ssl())
        return acquire(db, kwargs, name, opts["state_file"], opts["run_id"], opts["wait"], opts["lease"])


def let_go(params: Any, opts: dict[str, Any], db: Any = None) -> dict[str, Any]:
    """Release the lock of a run_lock / release_run_lock option (nothing when this run holds none), on db
    when the caller has a connection to the site's database open (else on one of its own)."""
    if not os.path.exists(opts["state_file"]):
        return {"changed": False, "held": False}
    if db is not None:
        try:
            return release(db, opts["state_file"], opts.get("run_id"))
        except Exception:  # the caller's connection broke: release on one of its own
            if not os.path.exists(opts["state_file"]):
                return {"changed": False, "held": False}
    _env, own = _site_db(params)
    with own:
        return release(own, opts["state_file"], opts.get("run_id"))
