"""env.php / config.php parsing on real-format samples (C1.2, C1.3)."""

from __future__ import annotations

import pathlib

import pytest
from ansible.module_utils.magento_env_php import (
    PhpParseError,
    parse_config_php_modules,
    parse_env_php,
    parse_php_return,
    parse_php_value,
    split_host_port,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_env_with_prefix_and_host_port() -> None:
    env = parse_env_php(read("env_prefix_port.php"))
    assert (env.db_host, env.db_port) == ("db.internal", 3307)
    assert env.db_name == "magento_prod"
    assert env.db_username == "mage"
    assert env.db_password == "p@ss'w\\ord"
    assert env.table_prefix == "mg_"
    assert env.backend_frontname == "admin_k3x9"
    assert env.crypt_key.startswith("base64")


def test_facts_never_hold_password_or_key() -> None:
    env = parse_env_php(read("env_prefix_port.php"))
    facts = env.facts()
    text = repr(facts) + repr(env)
    assert "p@ss" not in text
    assert env.crypt_key not in text
    assert facts["table_prefix"] == "mg_"
    assert facts["crypt_key_present"] is True


def test_legacy_array_syntax_comments_and_double_quotes() -> None:
    env = parse_env_php(read("env_legacy_array.php"))
    assert env.backend_frontname == "backoffice"
    assert (env.db_host, env.db_port) == ("localhost", 3306)
    assert env.table_prefix == ""
    assert env.db_password == 'tab\there "quoted" AA\u263a'


def test_scalar_kinds_in_lists() -> None:
    data = parse_php_return(read("env_legacy_array.php"))
    assert data["weights"] == [0.5, -2, 31, 5, 15, 1000, 1500.0, True, None]
    assert data["cache_types"] == {"config": 1, "full_page": 0}


def test_nested_values_and_integer_keys() -> None:
    data = parse_php_return(read("env_prefix_port.php"))
    assert data["db"]["connection"]["default"]["driver_options"] == {1014: False}
    assert data["cache"]["frontend"]["default"]["backend"] == "Magento\\Framework\\Cache\\Backend\\Redis"
    assert data["downloadable_domains"] == ["shop.example.com"]


def test_config_php_modules() -> None:
    modules = parse_config_php_modules(read("config_modules.php"))
    assert modules["Acme_Sync"] is True
    assert modules["Magento_TwoFactorAuth"] is False
    assert len(modules) == 5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("db:3307", ("db", 3307, None)),
        ("127.0.0.1", ("127.0.0.1", 3306, None)),
        ("localhost:/run/mysqld/mysqld.sock", ("localhost", 3306, "/run/mysqld/mysqld.sock")),
        ("[::1]:3310", ("::1", 3310, None)),
    ],
)
def test_split_host_port(raw: str, expected: tuple) -> None:
    assert split_host_port(raw) == expected


def test_separate_port_key_wins() -> None:
    text = "<?php return ['db' => ['connection' => ['default' => ['host' => 'db', 'port' => '3399', "
    text += "'dbname' => 'm', 'username' => 'u', 'password' => 'p']]]];"
    assert parse_env_php(text).db_port == 3399


def test_later_duplicate_key_wins_and_trailing_commas() -> None:
    assert parse_php_value("['a' => 1, 'a' => 2,]") == {"a": 2}
    assert parse_php_value("[]") == []


def test_single_quoted_keeps_unknown_escapes() -> None:
    assert parse_php_value(r"'a\nb'") == "a\\nb"


@pytest.mark.parametrize(
    "text",
    [
        "<?php return [ 'a' => 1 ",  # unterminated
        "<?php return [ 'a' => getenv('X') ];",  # function call: not a literal
        "<?php return [ 'a' => \"$secret\" ];",  # interpolation
        "<?php $x = 1;",  # no return
        "<?php return [ 'a' 1 ];",  # missing separator
    ],
)
def test_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(PhpParseError):
        parse_php_return(text)


def test_env_without_connection_is_an_error() -> None:
    with pytest.raises(PhpParseError, match="connection"):
        parse_env_php("<?php return ['backend' => ['frontName' => 'admin']];")
