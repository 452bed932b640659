"""One pymysql connection to a Magento database, from env.php (C1.2) with host/port overrides.

Public API (stable):
    class Database(env: EnvConfig, host: str | None = None, port: int | None = None,
                   connect_timeout: int = 10, connect=Connection, ssl: dict | None = None)
        t(name) -> str                    table name with the C1.2 prefix, backquoted
        query(sql, params=()) -> list[dict]   parameterised SELECT (use %s placeholders)
        execute(sql, params=()) -> int     parameterised write; returns affected rows
        transaction() -> context manager   commit on success, rollback on any error
        in_transaction -> bool             a transaction() block is open
        close()
        host, port                         what it connected to (safe to print); socket: the socket path
                                           when it connected through one, else None
    database_for(env: EnvConfig, params: SiteParams) -> Database   (with the site's DB TLS options)
    connection_kwargs(env, host, port, connect_timeout, ssl) -> dict   pymysql.connect's arguments
A DB host that contains "/" is a socket path, as Magento reads it (its PDO adapter passes such a host as
unix_socket): the connection goes through that socket on the host the module runs on. env.php's
"localhost:/path/to.sock" form is the same socket. A socket that is not there fails naming the path.
SQL names tables with db.t("oauth_token"); only table names are interpolated (validated prefix),
values always go as parameters.
The connection is in autocommit: a read holds no transaction (and so no metadata lock) after it
returns, and sees what Magento committed meanwhile. Writes go in transaction() blocks. setup:upgrade
ALTERs Magento's tables and waits (lock_wait_timeout: a day) for any transaction that read them (C8.6).
Connection errors become ModuleFailure naming host, port and the fix, never the password. So does a
connection lost (or a lock wait given up) during a statement: DatabaseError; inside transaction() its
message says the transaction was rolled back, at COMMIT that the outcome is unknown.
"""

from __future__ import annotations

import functools
import os
import re
import ssl as ssl_lib
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_env_php import EnvConfig

try:
    import pymysql
    import pymysql.cursors

    HAS_PYMYSQL = True
except ImportError:  # reported when a connection is attempted
    pymysql = None  # type: ignore[assignment]
    HAS_PYMYSQL = False

_IDENT = re.compile(r"^[A-Za-z0-9_]*$")


@functools.lru_cache(maxsize=1)
def preferred_tls_context() -> ssl_lib.SSLContext:
    """The context of pymysql's PREFERRED mode (no TLS option given: TLS when the server offers it, no
    certificate check), built once per process and without the system's CA bundle, which a context that
    checks no certificate never reads (pymysql loads it for every connection: 30-40 ms of CPU each)."""
    ctx = ssl_lib.SSLContext(ssl_lib.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl_lib.CERT_NONE
    ctx.verify_flags &= ~ssl_lib.VERIFY_X509_STRICT
    return ctx


if HAS_PYMYSQL:

    class Connection(pymysql.connections.Connection):
        """pymysql's connection; its PREFERRED-mode context is preferred_tls_context(). The TLS options
        (db_ca_cert, db_client_cert, ...) still build theirs in pymysql, verified as asked."""

        def _create_ssl_ctx(self, sslp: Any) -> Any:
            if isinstance(sslp, dict) and not sslp:
                return preferred_tls_context()
            return super()._create_ssl_ctx(sslp)


# Errors of the connection or the server during a statement (a lost or killed connection, a lock wait
# given up); SQL errors (ProgrammingError, IntegrityError) are bugs and keep their traceback.
_SERVER_ERRORS: tuple[type[BaseException], ...] = (
    (pymysql.err.OperationalError, pymysql.err.InterfaceError) if HAS_PYMYSQL else ()
)
_LOCK_ERRORS = (1205, 1213)  # lock wait timeout exceeded; deadlock


class DatabaseError(ModuleFailure):
    """A statement failed because of the connection or the server (not the SQL)."""


class Database:
    def __init__(
        self,
        env: EnvConfig,
        host: str | None = None,
        port: int | None = None,
        connect_timeout: int = 10,
        connect: Callable[..., Any] | None = None,
        ssl: dict[str, Any] | None = None,
    ) -> None:
        if not _IDENT.match(env.table_prefix):
            raise ModuleFailure(
                f"table prefix {env.table_prefix!r} in env.php is not a plain identifier (only A-Z, a-z, 0-9 "
                "and _): fix db.table_prefix"
            )
        self.prefix = env.table_prefix
        self.host = host or env.db_host
        self.port = int(port or env.db_port)
        self.name = env.db_name
        kwargs = connection_kwargs(env, host, port, connect_timeout, ssl)
        self.socket: str | None = kwargs.get("unix_socket")
        if self.socket:
            check_socket(self.socket)
            self.host = self.socket
        elif not 1 <= self.port <= 65535:
            raise ModuleFailure(
                f"DB port {self.port} is out of range (1-65535): fix db_port (or the port in env.php's "
                "db host)"
            )
        self._in_transaction = False
        if connect is None:
            if not HAS_PYMYSQL:
                raise ModuleFailure(
                    "the Python 'pymysql' package is missing on the control node: pip install pymysql"
                )
            connect = Connection
        kwargs["autocommit"] = True  # no transaction stays open unless transaction() opens one
        if HAS_PYMYSQL:
            kwargs["cursorclass"] = pymysql.cursors.DictCursor
        try:
            self.conn = connect(**kwargs)
        except Exception as exc:
            code = exc.args[0] if getattr(exc, "args", None) else None
            reason = {
                1045: "access denied for the env.php user",
                1049: f"unknown database {self.name!r}",
            }.get(code if isinstance(code, int) else -1, type(exc).__name__)
            fix = (
                "start the DB, or set db_host/db_port when the control node reaches the DB through a "
                "published port"
            )
            if ssl and code in (2003, 2026) and "SSL" in str(exc).upper():
                reason = f"TLS failed: {exc.args[1] if len(exc.args) > 1 else type(exc).__name__}"
                fix = (
                    "turn TLS on in the DB server, or fix db_ca_cert, db_client_cert, db_client_key and "
                    "db_check_hostname (or leave them unset for a DB without TLS)"
                )
            where = f"through the socket {self.socket}" if self.socket else f"at {self.host}:{self.port}"
            raise ModuleFailure(
                f"cannot connect to the database {where} ({reason}): {fix}",
                db_host=self.host,
                db_port=self.port,
            ) from None

    def t(self, name: str) -> str:
        if not _IDENT.match(name):
            raise ValueError(f"bad table name {name!r}")
        return f"`{self.prefix}{name}`"

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, tuple(params))
                return [dict(r) for r in cur.fetchall()]
        except _SERVER_ERRORS as exc:
            raise self._failed(exc) from None

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> int:
        try:
            with self.conn.cursor() as cur:
                return int(cur.execute(sql, tuple(params)))
        except _SERVER_ERRORS as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: BaseException, when: str = "a statement") -> DatabaseError:
        """A lost connection or a lock wait given up, named with the fix (never the password)."""
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        text = str(exc.args[1]) if len(exc.args) > 1 and exc.args[1] else type(exc).__name__
        where = f"through the socket {self.socket}" if self.socket else f"at {self.host}:{self.port}"
        if code in _LOCK_ERRORS:
            cause = f"MariaDB gave up waiting for a row lock ({code}: {text})"
            fix = (
                "another connection holds a lock on these rows (a long transaction, a stuck setup:upgrade): "
                "find it in SHOW PROCESSLIST, let it finish or end it, then run again"
            )
        else:
            cause = f"the connection was lost ({code or type(exc).__name__}: {text})"
            fix = (
                "the DB restarted or the connection was ended (KILL, wait_timeout, a proxy or a network "
                "drop): check the DB, then run again"
            )
        return DatabaseError(
            f"the database {where} failed {when}: {cause}: {fix}", db_error=code, db_host=self.host
        )

    def _rollback(self) -> None:
        try:
            self.conn.rollback()
        except _SERVER_ERRORS:  # a dead connection: MariaDB rolled the transaction back as it ended
            pass

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        try:
            self.conn.begin()
        except _SERVER_ERRORS as exc:
            raise self._failed(exc, "to start a transaction") from None
        self._in_transaction = True
        try:
            yield self
        except DatabaseError as exc:
            self._rollback()
            raise DatabaseError(
                f"{exc.message}. The transaction was rolled back (MariaDB also undoes an uncommitted "
                "transaction whose connection ends): none of its changes took effect",
                **exc.details,
            ) from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self._in_transaction = False
        try:
            self.conn.commit()
        except _SERVER_ERRORS as exc:
            failure = self._failed(exc, "at COMMIT")
            raise DatabaseError(
                f"{failure.message}. Whether MariaDB committed the transaction is unknown: look at the rows "
                "(and the backup written before the change) before running again",
                **failure.details,
            ) from None

    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: S110 - closing a dead connection is not an error
            pass

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connection_kwargs(
    env: EnvConfig,
    host: str | None = None,
    port: int | None = None,
    connect_timeout: int = 10,
    ssl: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """pymysql.connect's arguments for env.php's DB (JSON-able; holds the password: never log it)."""
    kwargs: dict[str, Any] = {
        "user": env.db_username,
        "password": env.db_password,
        "database": env.db_name,
        "charset": "utf8mb4",
        "connect_timeout": connect_timeout,
    }
    target = host or env.db_host
    # A socket in env.php only helps when nothing overrides the host (same machine as the store).
    if env.db_socket and not host and not port:
        kwargs["unix_socket"] = env.db_socket
    elif "/" in target:  # Magento's PDO adapter reads such a host as the socket path
        kwargs["unix_socket"] = target
    else:
        kwargs["host"] = target
        kwargs["port"] = int(port or env.db_port)
    if ssl:
        kwargs["ssl"] = dict(ssl)
    return kwargs


def check_socket(path: str) -> None:
    """The socket must be there on the host the module runs on (not only in the store's container)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ModuleFailure(
            f"DB socket {path} (a DB host containing '/' is a socket path, as Magento reads it) does not "
            "exist on the host the module runs on: with runner docker the modules connect from the control "
            "node, where the container's socket is not; set db_host to a TCP host such as 127.0.0.1 and "
            "db_port to MariaDB's port, or point db_host at a socket that exists there"
        ) from None
    except OSError as exc:
        raise ModuleFailure(
            f"DB socket {path} cannot be read ({exc.strerror}): run as a user who can"
        ) from None
    if not stat.S_ISSOCK(mode):
        raise ModuleFailure(
            f"DB host {path} contains '/', so it is read as a socket path, but it is no socket: set db_host "
            "to MariaDB's socket (e.g. /run/mysqld/mysqld.sock) or to a TCP host"
        )


def database_for(env: EnvConfig, params: SiteParams) -> Database:
    return Database(env, host=params.db_host, port=params.db_port, ssl=params.db_ssl())
