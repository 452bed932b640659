"""The DB connection: C1.2 table prefix, transactions, and connection errors that never show the password."""

from __future__ import annotations

import socket
import traceback

import pymysql
import pytest
from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_db import Database
from ansible.module_utils.magento_env_php import EnvConfig

PASSWORD = "pa55-Wörd-never-shown"


def env(prefix: str = "", socket_path: str | None = None, port: int = 3306) -> EnvConfig:
    return EnvConfig(
        db_host="db.internal",
        db_port=port,
        db_name="magento",
        db_username="magento",
        db_password=PASSWORD,
        table_prefix=prefix,
        db_socket=socket_path,
    )


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute(self, sql: str, params: tuple) -> int:
        self.conn.calls.append(("execute", sql, params))
        return 2

    def fetchall(self) -> list[dict]:
        return [{"n": 1}]


class FakeConnection:
    """Records what the Database asks of a pymysql connection."""

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.calls: list[tuple] = []

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def begin(self) -> None:
        self.calls.append(("begin",))

    def commit(self) -> None:
        self.calls.append(("commit",))

    def rollback(self) -> None:
        self.calls.append(("rollback",))

    def close(self) -> None:
        self.calls.append(("close",))


def fake_db(**kw) -> Database:
    return Database(kw.pop("env", env()), connect=FakeConnection, **kw)


def test_table_names_carry_the_env_php_prefix() -> None:
    assert fake_db(env=env("mg_")).t("oauth_token") == "`mg_oauth_token`"
    assert fake_db().t("oauth_token") == "`oauth_token`"


def test_table_prefix_and_names_must_be_plain_identifiers() -> None:
    with pytest.raises(ModuleFailure) as err:
        fake_db(env=env("mg`; DROP"))
    assert "table prefix" in err.value.message and "fix db.table_prefix" in err.value.message
    with pytest.raises(ValueError):
        fake_db().t("oauth_token`; --")


def test_values_go_as_parameters() -> None:
    db = fake_db()
    assert db.query("SELECT 1 AS n FROM x WHERE a = %s", ["v"]) == [{"n": 1}]
    assert db.execute("DELETE FROM x WHERE a = %s", ("v",)) == 2
    assert db.conn.calls == [
        ("execute", "SELECT 1 AS n FROM x WHERE a = %s", ("v",)),
        ("execute", "DELETE FROM x WHERE a = %s", ("v",)),
    ]


def test_transaction_commits_on_success() -> None:
    db = fake_db()
    with db.transaction() as tx:
        tx.execute("DELETE FROM x", ())
    assert [c[0] for c in db.conn.calls] == ["begin", "execute", "commit"]


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_transaction_rolls_back_on_any_error_and_reraises_it(error: BaseException) -> None:
    db = fake_db()
    with pytest.raises(type(error)):
        with db.transaction():
            db.execute("DELETE FROM x", ())
            raise error
    assert [c[0] for c in db.conn.calls] == ["begin", "execute", "rollback"]


def test_host_port_override_wins_over_the_env_php_socket(tmp_path) -> None:
    path = str(tmp_path / "mysqld.sock")  # a real socket: a missing one fails before connecting
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        on_socket = fake_db(env=env(socket_path=path))
    assert on_socket.conn.kwargs["unix_socket"] == path
    assert "host" not in on_socket.conn.kwargs
    overridden = fake_db(env=env(socket_path="/run/mysqld/mysqld.sock"), host="127.0.0.1", port=3307)
    assert (overridden.conn.kwargs["host"], overridden.conn.kwargs["port"]) == ("127.0.0.1", 3307)
    assert "unix_socket" not in overridden.conn.kwargs
    assert overridden.conn.kwargs["autocommit"] is True  # reads hold no lock (C8.6)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_refused_connection_names_host_port_and_fix_but_never_the_password() -> None:
    port = closed_port()
    with pytest.raises(ModuleFailure) as err:
        Database(env(), host="127.0.0.1", port=port, connect_timeout=2)
    message = err.value.message
    assert f"at 127.0.0.1:{port}" in message
    assert "start the DB" in message and "set db_host/db_port" in message
    assert err.value.details == {"db_host": "127.0.0.1", "db_port": port}
    everything = message + repr(err.value.details) + "".join(traceback.format_exception(err.value))
    assert PASSWORD not in everything
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_access_denied_is_named_without_the_password() -> None:
    def deny(**kwargs):
        raise pymysql.err.OperationalError(
            1045, f"Access denied for user 'magento'@'127.0.0.1' (using password: {kwargs['password']})"
        )

    with pytest.raises(ModuleFailure) as err:
        Database(env(), connect=deny)
    assert "db.internal:3306 (access denied for the env.php user)" in err.value.message
    assert PASSWORD not in err.value.message + "".join(traceback.format_exception(err.value))


def test_in_transaction_is_true_only_inside_the_block() -> None:
    db = fake_db()
    db.query("SELECT 1", ())
    assert not db.in_transaction  # autocommit: a read leaves nothing open (C8.6)
    with db.transaction():
        assert db.in_transaction
    assert not db.in_transaction


def test_preferred_tls_context_checks_what_pymysqls_checks_without_loading_the_ca_bundle() -> None:
    """No TLS option: pymysql's PREFERRED mode (TLS when the server offers it, no certificate check),
    with one context per process that holds no CA (pymysql loaded the bundle for every connection)."""
    import ssl

    from ansible.module_utils.magento_db import Connection, preferred_tls_context

    ours = Connection(user="u", defer_connect=True).ctx
    theirs = pymysql.connections.Connection(user="u", defer_connect=True).ctx
    assert ours is preferred_tls_context() is Connection(user="v", defer_connect=True).ctx
    assert (ours.verify_mode, ours.check_hostname) == (theirs.verify_mode, theirs.check_hostname)
    assert ours.verify_mode == ssl.CERT_NONE
    assert ours.minimum_version == theirs.minimum_version
    assert ours.options & (ssl.OP_NO_SSLv2 | ssl.OP_NO_SSLv3) == ssl.OP_NO_SSLv2 | ssl.OP_NO_SSLv3
    assert ours.cert_store_stats()["x509_ca"] == 0


def test_tls_options_keep_pymysqls_own_context() -> None:
    from ansible.module_utils.magento_db import Connection, preferred_tls_context

    conn = Connection(user="u", defer_connect=True, ssl={"verify_mode": "required", "check_hostname": False})
    assert conn.ctx is not preferred_tls_context()
    assert conn.ctx.verify_mode == __import__("ssl").CERT_REQUIRED
