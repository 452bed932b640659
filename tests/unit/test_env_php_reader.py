"""env.php read exactly: the Python parser for the plain literal Magento writes, PHP where the file is more
(getenv(), constants) and a PHP CLI runs beside the store;
the DB reached through a socket path or over TLS; every HTTP request verifying with the site's CA.

The PHP tests run the real PHP CLI of this machine (make php installs it) through LocalRunner, as the
modules do with runner: local; they are skipped where there is none (CI has it: make test installs it).
"""

from __future__ import annotations

import pathlib
import re
import shutil
import socket

import pytest
from ansible.module_utils.magento_common import ModuleFailure, SiteParams, site_argument_spec, site_params
from ansible.module_utils.magento_db import Database, connection_kwargs
from ansible.module_utils.magento_env_php import EnvConfig, env_config_from_php_json, parse_env_php
from ansible.module_utils.magento_runners import CommandResult, DockerRunner, LocalRunner
from ansible.module_utils.magento_site import Site
from recordings import text

needs_php = pytest.mark.skipif(shutil.which("php") is None, reason="no PHP CLI here (make php installs it)")

GETENV_ENV_PHP = """<?php
return [
    'backend' => ['frontName' => 'admin_x1'],
    'crypt' => ['key' => 'k3y'],
    'db' => [
        'table_prefix' => '',
        'connection' => [
            'default' => [
                'host' => getenv('REINTEGRATE_TEST_DB_HOST') . ':3307',
                'dbname' => 'magento',
                'username' => 'magento',
                'password' => getenv('REINTEGRATE_TEST_DB_PASSWORD'),
            ],
        ],
    ],
    'MAGE_MODE' => PHP_OS_FAMILY === 'Linux' ? 'production' : 'developer',
];
"""


def site_with(tmp_path, env_php: str, cli_command=("bin/magento",), runner=None) -> Site:
    (tmp_path / "app" / "etc").mkdir(parents=True)
    (tmp_path / "app" / "etc" / "env.php").write_text(env_php)
    return Site(runner or LocalRunner(), str(tmp_path), cli_command)


class NoPhpRunner(LocalRunner):
    """A store host without PHP: php answers as docker exec does for a missing program (127)."""

    def run(self, argv, cwd=None, timeout=60, user=None) -> CommandResult:
        if argv[0].startswith("php"):
            return CommandResult(
                rc=127, stdout="", stderr=f"timeout: failed to run command '{argv[0]}'", seconds=0
            )
        return super().run(argv, cwd, timeout, user)


@needs_php
def test_php_reads_getenv_and_constants_the_parser_cannot_follow(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REINTEGRATE_TEST_DB_HOST", "db.internal")
    monkeypatch.setenv("REINTEGRATE_TEST_DB_PASSWORD", "from-the-environment")
    site = site_with(tmp_path, GETENV_ENV_PHP)
    env = site.env()
    assert site.env_reader == "php"
    assert site.env_reader_note.startswith("not a plain literal for the parser (a call of getenv() at line 9")
    assert (env.db_host, env.db_port, env.db_password) == ("db.internal", 3307, "from-the-environment")
    assert (env.backend_frontname, env.crypt_key, env.mage_mode) == ("admin_x1", "k3y", "production")


def test_without_php_the_parser_names_what_it_cannot_follow(tmp_path) -> None:
    site = site_with(tmp_path, GETENV_ENV_PHP, runner=NoPhpRunner())
    with pytest.raises(ModuleFailure) as caught:
        site.env()
    message = caught.value.message
    assert "a call of getenv() at line 9, not a literal value" in message
    assert "no PHP CLI runs where the module runs (php not found there)" in message
    assert "install the PHP CLI where the module runs" in message
    assert "write the value itself" in message
    assert "parse" not in message.lower().replace("parser", "")


def test_without_php_a_literal_env_php_is_read_by_the_parser(tmp_path) -> None:
    literal = GETENV_ENV_PHP.replace("getenv('REINTEGRATE_TEST_DB_HOST') . ':3307'", "'db:3307'")
    literal = literal.replace("getenv('REINTEGRATE_TEST_DB_PASSWORD')", "'pw'")
    literal = literal.replace("PHP_OS_FAMILY === 'Linux' ? 'production' : 'developer'", "'production'")
    site = site_with(tmp_path, literal, runner=NoPhpRunner())
    env = site.env()
    assert (site.env_reader, env.db_host, env.db_port, env.db_password) == ("parser", "db", 3307, "pw")
    assert site.env_reader_note is None


class CountingRunner(LocalRunner):
    """Counts the commands run on the store host."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def run(self, argv, cwd=None, timeout=60, user=None) -> CommandResult:
        self.commands.append(list(argv))
        return super().run(argv, cwd, timeout, user)


def test_a_literal_env_php_starts_no_process(tmp_path) -> None:
    """Every module reads env.php first; a literal one (what Magento writes) costs no PHP start."""
    runner = CountingRunner()
    site = site_with(tmp_path, text("site/env.php"), runner=runner)
    env = site.env()
    assert (site.env_reader, runner.commands) == ("parser", [])
    assert env == env_config_from_php_json(text("site/env.php.json"))


@needs_php
def test_a_broken_env_php_is_named_with_what_php_said(tmp_path) -> None:
    site = site_with(tmp_path, "<?php\nreturn [\n    'db' => [\n")
    with pytest.raises(ModuleFailure) as caught:
        site.env()
    message = caught.value.message
    assert "unexpected end of input" in message and "fix the file's PHP syntax" in message
    assert "PHP could not read it either: Parse error: Unclosed '[' on line 3" in message


def test_cli_commands_php_is_the_php_that_reads_env_php(tmp_path) -> None:
    site = site_with(
        tmp_path, "<?php return [];", cli_command=("/opt/php8.2/bin/php8.2", "-d", "x", "bin/magento")
    )
    assert site.php_binary() == "/opt/php8.2/bin/php8.2"
    assert Site(LocalRunner(), str(tmp_path)).php_binary() == "php"


@needs_php
def test_the_recorded_store_env_php_gives_the_same_facts_through_php_and_the_parser(tmp_path) -> None:
    """../shared/magento-2.4.7-p3/site/env.php: PHP on this machine, the parser, and site/env.php.json (what
    PHP made of it on the recorded store) give one and the same EnvConfig, secrets included."""
    recorded = text("site/env.php")
    by_php, why = site_with(tmp_path, recorded).env_via_php()
    assert why is None and by_php is not None
    by_parser = parse_env_php(recorded)
    by_recorded_json = env_config_from_php_json(text("site/env.php.json"))
    assert by_php == by_parser == by_recorded_json
    assert by_php.db_password == by_parser.db_password and by_php.crypt_key == by_parser.crypt_key
    assert by_php.facts() == by_parser.facts() == by_recorded_json.facts()


def fake_env(host: str = "127.0.0.1", socket_path: str | None = None) -> EnvConfig:
    return EnvConfig(
        db_host=host, db_port=3306, db_name="m", db_username="u", db_password="p", db_socket=socket_path
    )


class Recorder:
    def __init__(self) -> None:
        self.kwargs: dict = {}

    def __call__(self, **kwargs):
        self.kwargs = kwargs
        return object()


def test_a_db_host_with_a_slash_is_a_socket_path_as_magento_reads_it(tmp_path) -> None:
    path = str(tmp_path / "mysqld.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        for env, host in ((fake_env(host=path), None), (fake_env(), path)):
            connect = Recorder()
            db = Database(env, host=host, connect=connect)
            assert connect.kwargs["unix_socket"] == path and "host" not in connect.kwargs
            assert (db.socket, db.host) == (path, path)


def test_a_socket_path_that_is_not_there_fails_naming_it(tmp_path) -> None:
    with pytest.raises(ModuleFailure) as caught:
        Database(fake_env(), host="/run/mysqld/mysqld.sock", connect=Recorder())
    assert "DB socket /run/mysqld/mysqld.sock" in caught.value.message
    assert "does not exist on the host the module runs on" in caught.value.message
    assert "set db_host to a TCP host" in caught.value.message
    (tmp_path / "file").write_text("")
    with pytest.raises(ModuleFailure, match="it is no socket"):
        Database(fake_env(), host=str(tmp_path / "file"), connect=Recorder())


def test_db_tls_options_reach_pymysql_as_community_mysql_passes_them() -> None:
    spec = site_argument_spec()
    assert spec["db_ca_cert"]["aliases"] == ["ca_cert"] and spec["db_check_hostname"]["aliases"] == [
        "check_hostname"
    ]
    params = site_params(
        {
            "db_ca_cert": "/etc/ca.pem",
            "db_client_cert": "/etc/c.pem",
            "db_client_key": "/etc/k.pem",
            "db_check_hostname": False,
        }
    )
    assert params.db_ssl() == {
        "ca": "/etc/ca.pem",
        "cert": "/etc/c.pem",
        "key": "/etc/k.pem",
        "check_hostname": False,
    }
    connect = Recorder()
    kwargs = connection_kwargs(fake_env(), ssl=params.db_ssl())
    assert kwargs["ssl"] == params.db_ssl()
    assert SiteParams().db_ssl() is None and "ssl" not in connection_kwargs(fake_env())
    Database(fake_env(), connect=connect, ssl={"ca": "/etc/ca.pem"})
    assert connect.kwargs["ssl"] == {"ca": "/etc/ca.pem"}


def test_every_http_request_verifies_with_ca_path_when_given() -> None:
    assert SiteParams().tls_verify is True
    assert SiteParams(ca_path="/etc/store-ca.pem").tls_verify == "/etc/store-ca.pem"
    assert SiteParams(ca_path="/etc/store-ca.pem", validate_certs=False).tls_verify is False
    assert site_params({"ca_path": "/etc/ca"}).tls_verify == "/etc/ca"


def test_no_http_call_verifies_with_validate_certs_alone() -> None:
    """Every verify= in module_utils is the site's tls_verify (validate_certs, or ca_path when given)."""
    root = pathlib.Path(__file__).resolve().parents[2] / "module_utils"
    for path in root.glob("magento_*.py"):
        source = path.read_text()
        if "SiteParams" not in source:
            continue
        assert not re.search(r"verify=\w+(\.\w+)*\.validate_certs", source), path.name


class OneTripDocker(DockerRunner):
    """A DockerRunner without a Docker engine: read_files answers from a dict and counts its round trips."""

    def __init__(self, files: dict[str, bytes]) -> None:  # no engine: the SDK is not touched
        self.files = files
        self.trips: list[list[str]] = []

    def read_files(self, root: str, rels: list[str]) -> dict[str, bytes]:
        self.trips.append(list(rels))
        return {rel: self.files[f"{root}/{rel}"] for rel in rels if f"{root}/{rel}" in self.files}

    def read_file(self, path: str) -> bytes | None:
        self.trips.append([path])
        return self.files.get(path)


def test_the_handshake_reads_env_php_and_config_php_in_one_round_trip() -> None:
    """Its first reads of both files come from one trip; a later read asks the site again (it may have
    changed since: a command ran, a module was enabled)."""
    config = b"<?php return ['modules' => ['Magento_Store' => 1, 'Reintegrate_CliActivation' => 0]];"
    runner = OneTripDocker(
        {
            "/var/www/html/app/etc/env.php": text("site/env.php").encode(),
            "/var/www/html/app/etc/config.php": config,
        }
    )
    site = Site(runner, "/var/www/html")
    site.preread_etc()
    env = site.env()
    modules = site.config_modules()
    assert runner.trips == [["app/etc/env.php", "app/etc/config.php"]]
    assert env == env_config_from_php_json(text("site/env.php.json")) and site.env_reader == "parser"
    assert modules == {"Magento_Store": True, "Reintegrate_CliActivation": False}
    runner.files["/var/www/html/app/etc/config.php"] = config.replace(b"=> 0", b"=> 1")
    assert site.config_modules()["Reintegrate_CliActivation"] is True
    assert runner.trips[1:] == [["/var/www/html/app/etc/config.php"]]


class _LostOutputApi:
    """The Docker API as seen on a loaded engine: the exec's output is lost (an empty answer)."""

    def exec_create(self, *args, **kwargs):
        return "exec-1"

    def exec_start(self, exec_id):
        return b""


def test_a_lost_exec_answer_falls_back_to_reading_each_file() -> None:
    """A fleet of ten stores once gave the handshake an empty answer for its one-trip read: the run failed
    after its purge. Now the bundled read gives nothing and each file is read alone, correctly."""
    runner = DockerRunner.__new__(DockerRunner)  # no engine: the API object is the fake above
    runner.client = type("Client", (), {"api": _LostOutputApi()})()
    runner.container = type("Container", (), {"id": "c1"})()
    runner.name = "app"
    env_php = text("site/env.php").encode()
    runner.read_file = lambda path: env_php if path.endswith("env.php") else None  # type: ignore[method-assign]
    assert runner.read_files("/var/www/html", ["app/etc/env.php", "app/etc/config.php"]) == {}
    site = Site(runner, "/var/www/html")
    site.preread_etc()
    assert site.env() == env_config_from_php_json(text("site/env.php.json"))
    assert site.config_modules() == {}
