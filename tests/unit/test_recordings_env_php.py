"""env.php / config.php parsing on the files of a real Magento 2.4.7-p3 store (../shared/.../site/).

site/env.php.json is what PHP itself made of that env.php (``php -r 'echo json_encode(require
"app/etc/env.php");'``): the Python parser must read every value PHP reads, with the same type, in the
same order. json_encode turns int keys into strings and keeps a list only for keys 0..n-1, so the Python
value is put through the same rules before the comparison, and nothing else is relaxed.
"""

from __future__ import annotations

import re
from typing import Any

from ansible.module_utils.magento_env_php import (
    parse_config_php_modules,
    parse_env_php,
    parse_php_return,
)
from recordings import data, text


def as_php_json(value: Any) -> Any:
    """What PHP's json_encode + json.loads would make of a parsed PHP value."""
    if isinstance(value, dict):
        return {str(k): as_php_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_php_json(v) for v in value]
    return value


def differences(ours: Any, php: Any, path: str = "") -> list[str]:
    """Every place the two differ in value, type (True is not 1, '1' is not 1) or key order."""
    if type(ours) is not type(php):
        return [f"{path or '/'}: {type(ours).__name__} {ours!r} vs PHP's {type(php).__name__} {php!r}"]
    if isinstance(ours, dict):
        out = [] if list(ours) == list(php) else [f"{path or '/'}: keys {list(ours)} vs PHP's {list(php)}"]
        for key in ours.keys() & php.keys():
            out += differences(ours[key], php[key], f"{path}/{key}")
        return out
    if isinstance(ours, list):
        if len(ours) != len(php):
            return [f"{path}: {len(ours)} items vs PHP's {len(php)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(ours, php, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if ours == php else [f"{path}: {ours!r} vs PHP's {php!r}"]


def test_the_parser_reads_env_php_as_php_does_field_by_field() -> None:
    ours = as_php_json(parse_php_return(text("site/env.php")))
    php = data("site/env.php.json")
    assert differences(ours, php) == []


def test_the_comparison_sees_a_type_difference() -> None:
    """The oracle above must not pass a value PHP reads differently (int 1 for the string '1')."""
    php = data("site/env.php.json")
    changed = text("site/env.php").replace("'active' => '1'", "'active' => 1")
    assert changed != text("site/env.php")
    assert differences(as_php_json(parse_php_return(changed)), php) == [
        "/db/connection/default/active: int 1 vs PHP's str '1'"
    ]


def test_env_config_holds_the_store_connection() -> None:
    php = data("site/env.php.json")
    env = parse_env_php(text("site/env.php"))
    connection = php["db"]["connection"]["default"]
    assert connection["host"] == "127.0.0.1:3307"  # the port rides inside host (C1.2)
    assert (env.db_host, env.db_port, env.db_socket) == ("127.0.0.1", 3307, None)
    assert (env.db_name, env.db_username, env.db_password) == (
        connection["dbname"],
        connection["username"],
        connection["password"],
    )
    assert env.table_prefix == php["db"]["table_prefix"] == ""
    assert env.backend_frontname == php["backend"]["frontName"] == "admin"
    assert env.crypt_key == php["crypt"]["key"] and env.crypt_key.startswith("base64")
    assert env.mage_mode == php["MAGE_MODE"] == "developer"


def test_facts_of_the_real_env_php_hold_no_secret() -> None:
    env = parse_env_php(text("site/env.php"))
    facts = env.facts()
    assert facts["db_host"] == "127.0.0.1" and facts["db_port"] == 3307
    assert facts["table_prefix"] == "" and facts["crypt_key_present"] is True
    shown = repr(facts) + repr(env)
    assert env.crypt_key not in shown
    # The recorded password equals the DB name and user ("magento"), so look for the field, not the value.
    assert "password" not in shown and "crypt_key=" not in shown


def test_driver_options_keep_their_int_key() -> None:
    """PHP holds [1014 => false] with an int key (PDO::MYSQL_ATTR_FOUND_ROWS); JSON can only say "1014"."""
    parsed = parse_php_return(text("site/env.php"))
    assert parsed["db"]["connection"]["default"]["driver_options"] == {1014: False}
    assert data("site/env.php.json")["db"]["connection"]["default"]["driver_options"] == {"1014": False}


# The modules that are not Magento_*: appended after Magento's own when they were installed.
NOT_MAGENTO = [
    "Acme_LegacySync",
    "Acme_Sync",
    "PayPal_Braintree",
    "PayPal_BraintreeCustomerBalance",
    "PayPal_BraintreeGiftCardAccount",
    "PayPal_BraintreeGiftWrapping",
    "PayPal_BraintreeGraphQl",
    "ProbeP061144_Conf",
    "ProbeP061144_Legacy",
    "Probe_Sync",
    "Reintegrate_CliActivation",
]
DISABLED = {
    "Magento_TwoFactorAuth",
    "Magento_AdminAdobeImsTwoFactorAuth",
    "Magento_OpenSearch",
    "Magento_Elasticsearch",
    "Magento_Elasticsearch7",
    "Magento_InventoryElasticsearch",
}


def test_config_php_modules_in_load_order_with_their_flags() -> None:
    source = text("site/config.php")
    modules = parse_config_php_modules(source)
    # An independent reading of the file's lines, for the order and the count.
    lines = re.findall(r"^\s*'([A-Za-z0-9]+_[A-Za-z0-9]+)' => ([01]),?$", source, re.MULTILINE)
    assert list(modules) == [name for name, _ in lines]
    assert len(modules) == len(lines) > 300
    assert list(modules)[-len(NOT_MAGENTO) :] == NOT_MAGENTO
    assert all(modules[name] is True for name in NOT_MAGENTO)
    assert {name for name, enabled in modules.items() if not enabled} == DISABLED
