"""Bad inputs: each fails with a message naming its cause and its fix, and changes nothing.

Every case runs reinstall_integration.yml on the private stack (conftest.py) with one bad input, forced
(FORCED: reintegrate_force and reintegrate_force_setup, the staging reset) unless it says otherwise: such a
run would clear the setup rows, rerun setup:upgrade, purge the tokens and mint new credentials, so any
validation that comes too late shows up as a change. Before and
after, every table's CHECKSUM TABLE and the hashes of the store's app/ tree, app/etc/config.php, the
credentials and the backup folders are taken and compared. The MODULE_CASES run one module where the
playbook cannot express the input.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from faults_support import (
    FORCED,
    MAIN,
    RESOURCES,
    PrivateStack,
    Run,
    has_words,
    run_module,
    run_playbook,
    snapshot_diff,
)

pytestmark = pytest.mark.docker

ENDPOINT = "http://127.0.0.1:18093/reintegrate/endpoint"
IDENTITY = "http://127.0.0.1:18093/reintegrate/identity"


def spec(**integration: Any) -> dict[str, Any]:
    base = {
        "name": MAIN["name"],
        "email": "sync@faults.example",
        "endpoint_url": ENDPOINT,
        "identity_link_url": IDENTITY,
        "resources": list(RESOURCES),
    }
    return {"integrations": [{**base, **integration}]}


@dataclass(frozen=True)
class Case:
    id: str
    injected: str
    extra: dict[str, Any]
    words: tuple[str, ...]  # key words of the message: the cause and the fix
    force: bool = True
    setup: str | None = None  # name of a context manager in SETUPS
    marks: tuple[Any, ...] = field(default_factory=tuple)


CASES = [
    Case(
        "undeclared-integration-name",
        'magento_integration_name: "Faults Nope" (the module declares "Faults Sync")',
        {"magento_integration_name": "Faults Nope"},
        (
            "declares no integration",
            "Faults Nope",
            "it declares: Faults Sync",
            "fix",
        ),
    ),
    Case(
        "invalid-module-name",
        "magento_integration_module: faults-sync",
        {"magento_integration_module": "faults-sync"},
        ("'faults-sync' is not Vendor_Module", "Acme_Sync"),
    ),
    Case(
        "unknown-acl-id",
        "spec resource Magento_Sales::actions_veiw",
        {"magento_integration_spec": spec(resources=["Magento_Sales::actions_veiw"])},
        (
            "unknown ACL resource",
            "Magento_Sales::actions_veiw",
            "did you mean",
            "Magento_Sales::actions_view",
        ),
    ),
    Case(
        "missing-src",
        "magento_integration_src: /nonexistent/Faults/Sync",
        {"magento_integration_src": "/nonexistent/Faults/Sync"},
        ("/nonexistent/Faults/Sync is not a folder", "registration.php"),
    ),
    Case(
        "empty-src",
        "magento_integration_src: an empty folder",
        {"magento_integration_src": "{empty}"},
        ("has no etc/module.xml", "module's folder"),
    ),
    Case(
        "invalid-spec-key",
        "spec integration with key 'resource' (not 'resources')",
        {"magento_integration_spec": {"integrations": [{"name": MAIN["name"], "resource": list(RESOURCES)}]}},
        ("unknown keys ['resource']", "use name, email, endpoint_url, identity_link_url, resources"),
    ),
    Case(
        "invalid-spec-shape",
        "spec.integrations a string",
        {"magento_integration_spec": {"integrations": MAIN["name"]}},
        ("spec.integrations must be a non-empty list", "give at least one integration"),
    ),
    Case(
        "endpoint-url-https",
        "spec endpoint_url https://... with endpoint: self",
        {"magento_integration_spec": spec(endpoint_url="https://127.0.0.1:18093/reintegrate/endpoint")},
        ("is https", "plain http", "endpoint: external"),
    ),
    Case(
        "base-url-without-scheme",
        "magento_integration_base_url: 127.0.0.1:18092/",
        {"magento_integration_base_url": "127.0.0.1:18092/"},
        ("'127.0.0.1:18092/' is not an http(s) URL", "scheme included"),
    ),
    Case(
        "base-url-port-out-of-range",
        "magento_integration_base_url: http://127.0.0.1:99999/",
        {"magento_integration_base_url": "http://127.0.0.1:99999/"},
        ("99999", "valid port (1-65535)", "write it as Magento sees it"),
    ),
    Case(
        "db-port-out-of-range",
        "magento_integration_db_port: 70000",
        {"magento_integration_db_port": 70000},
        ("DB port 70000 is out of range", "fix db_port"),
    ),
    Case(
        "db-host-socket-path",
        "magento_integration_db_host: /run/mysqld/mysqld.sock (no such socket on the control node)",
        {"magento_integration_db_host": "/run/mysqld/mysqld.sock"},
        ("/run/mysqld/mysqld.sock", "socket path", "set db_host to a TCP host"),
    ),
    Case(
        "listen-port-out-of-range",
        "magento_integration_listen_port: 70000 (listen_port_forwarded)",
        {"magento_integration_listen_port": 70000, "magento_integration_listen_port_forwarded": True},
        ("127.0.0.1:70000", "out of range", "set listen_port"),
    ),
    Case(
        "listen-port-not-endpoint-port",
        "magento_integration_listen_port: 18094 (endpoint_url on 18093)",
        {"magento_integration_listen_port": 18094},
        ("uses port 18093", "127.0.0.1:18094", "leave listen_port unset", "listen_port_forwarded"),
    ),
    Case(
        "listen-timeout-zero",
        "magento_integration_listen_timeout: 0 (not forced)",
        {"magento_integration_listen_timeout": 0},
        ("listen_timeout", "positive number of seconds"),
        force=False,
    ),
    Case(
        "listen-timeout-zero-forced",
        "magento_integration_listen_timeout: -5, forced",
        {"magento_integration_listen_timeout": -5},
        ("listen_timeout", "positive number of seconds"),
    ),
    Case(
        "probe-path-without-slash",
        "magento_integration_probe_path: V1/orders?searchCriteria[pageSize]=1",
        {"magento_integration_probe_path": "V1/orders?searchCriteria[pageSize]=1"},
        ("probe_path 'V1/orders", "must start with /", "/V1/orders?searchCriteria[pageSize]=1"),
    ),
    Case(
        "unknown-credentials-format",
        "magento_integration_credentials_format: yaml",
        {"magento_integration_credentials_format": "yaml"},
        ("magento_integration_credentials_format must be one of: json, env", "yaml"),
    ),
    Case(
        "credentials-parent-is-a-file",
        "magento_integration_credentials_path: <a regular file>/faults-sync.json (not forced)",
        {"magento_integration_credentials_path": "{file}/faults-sync.json"},
        ("is not a folder", "choose a credentials_path"),
        force=False,
    ),
    Case(
        "credentials-parent-is-a-file-forced",
        "magento_integration_credentials_path: <a regular file>/faults-sync.json, forced",
        {"magento_integration_credentials_path": "{file}/faults-sync.json"},
        ("is not a folder", "choose a credentials_path"),
    ),
    Case(
        "activation-not-a-choice",
        "magento_integration_activation: bogus",
        {"magento_integration_activation": "bogus"},
        ("magento_integration_activation must be one of: admin, cli, auto", "bogus"),
    ),
    Case(
        "force-wrong-type",
        'magento_integration_force: "maybe"',
        {"magento_integration_force": "maybe"},
        ("magento_integration_force", "not a valid boolean"),
        force=False,
    ),
    Case(
        "runner-not-a-choice",
        "magento_integration_runner: ssh",
        {"magento_integration_runner": "ssh"},
        ("magento_integration_runner must be one of: docker, local", "ssh"),
    ),
    Case(
        "acl-parents-not-a-choice",
        "magento_integration_acl_parents: maybe",
        {"magento_integration_acl_parents": "maybe"},
        ("magento_integration_acl_parents must be one of", "add, fail, warn"),
    ),
    Case(
        "container-missing",
        "magento_integration_container: faults-nope",
        {"magento_integration_container": "faults-nope"},
        ("container 'faults-nope' not found", "start the stack"),
    ),
    Case(
        "magento-root-wrong",
        "magento_integration_magento_root: /var/www/nope",
        {"magento_integration_magento_root": "/var/www/nope"},
        ("/var/www/nope", "magento_root"),
    ),
    Case(
        "cli-user-unknown",
        "magento_integration_cli_user: nosuchuser",
        {"magento_integration_cli_user": "nosuchuser"},
        ("cli_user 'nosuchuser'", "set cli_user to a user that exists"),
    ),
    Case(
        "upgrade-timeout-negative",
        "magento_integration_upgrade_timeout: -5",
        {"magento_integration_upgrade_timeout": -5},
        ("timeout -5 is not a positive number of seconds", "magento_integration_upgrade_timeout"),
    ),
    Case(
        "table-prefix-not-identifier",
        "env.php db.table_prefix 'x-y'",
        {},
        ("table prefix 'x-y'", "only A-Z, a-z, 0-9 and _", "fix db.table_prefix"),
        setup="prefix",
    ),
    Case(
        "env-php-unreadable",
        "app/etc/env.php a folder",
        {},
        ("env.php exists but is not a regular file", "put Magento's env.php back"),
        setup="env_folder",
    ),
    Case(
        "env-php-truncated",
        "app/etc/env.php cut in half",
        {},
        ("cannot read /var/www/html/app/etc/env.php", "unexpected end of input", "fix the file's PHP syntax"),
        setup="truncated",
    ),
    Case(
        "env-php-getenv",
        "env.php 'password' => getenv('DB_PASSWORD')",
        {},
        ("a call of getenv()", "not a literal value", "write the value itself"),
        setup="getenv",
    ),
]


def _prefix(text: str) -> str:
    return re.sub(r"'table_prefix' => '[^']*'", "'table_prefix' => 'x-y'", text, count=1)


def _getenv(text: str) -> str:
    return re.sub(r"'password' => '[^']*'", "'password' => getenv('DB_PASSWORD')", text, count=1)


def _truncated(text: str) -> str:
    return text[: len(text) // 2]


SETUPS: dict[str, Callable[[PrivateStack], contextlib.AbstractContextManager[None]]] = {
    "prefix": lambda s: s.env_php_replaced(_prefix),
    "getenv": lambda s: s.env_php_replaced(_getenv),
    "truncated": lambda s: s.env_php_replaced(_truncated),
    "env_folder": lambda s: s.env_php_replaced(None),
}


@contextlib.contextmanager
def no_setup() -> Iterator[None]:
    yield


def _fill(value: Any, places: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, path in places.items():
            value = value.replace("{" + key + "}", path)
    return value


def assert_refused(run: Run, words: tuple[str, ...], diff: dict[str, list[str]]) -> None:
    assert run.rc != 0, f"the run did not fail (rc 0):\n{run.out[-3000:]}"
    assert run.message, f"no error message:\n{run.out[-3000:]}"
    assert has_words(run.message, *words), f"message lacks {words}: {run.message}"
    assert not diff["tables"], f"tables changed: {diff['tables']} ({run.message})"
    assert not diff["files"], f"files changed: {diff['files']} ({run.message})"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input_fails_cleanly_and_changes_nothing(
    private_stack: PrivateStack, record: Any, tmp_path: Any, case: Case
) -> None:
    stack = private_stack
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("a regular file where a folder is expected\n")
    places = {"empty": str(tmp_path / "empty"), "file": str(tmp_path / "file")}
    extra = {k: _fill(v, places) for k, v in case.extra.items()}
    if case.force:
        extra.update(FORCED)
    with SETUPS[case.setup](stack) if case.setup else no_setup():
        before = stack.snapshot()
        run = run_playbook(stack, extra)
        diff = snapshot_diff(before, stack.snapshot())
    record(
        "bad input",
        case.id,
        case.injected,
        {**run.outcome(), "tables_unchanged": not diff["tables"], "files_unchanged": not diff["files"]},
    )
    assert_refused(run, case.words, diff)


@dataclass(frozen=True)
class ModuleCase:
    id: str
    injected: str
    module: str
    args: dict[str, Any]
    words: tuple[str, ...]


MODULE_CASES = [
    ModuleCase(
        "purge-every-token-unconfirmed",
        "magento_oauth_tokens scope: all without i_know_this_deletes_every_token",
        "magento_oauth_tokens",
        {"scope": "all", "backup_dir": "{backups}"},
        ("i_know_this_deletes_every_token",),
    ),
    ModuleCase(
        "restore-from-a-non-backup",
        "magento_oauth_tokens state: present, restore_from a file that is no backup",
        "magento_oauth_tokens",
        {"integration": MAIN["name"], "state": "present", "restore_from": "{file}"},
        ("{file}", "backup"),
    ),
    ModuleCase(
        "setup-module-invalid-name",
        "magento_setup_module module: Faults_Sync;DROP",
        "magento_setup_module",
        {"module": "Faults_Sync;DROP", "backup_dir": "{backups}"},
        ("Faults_Sync;DROP", "Vendor_Module"),
    ),
]


@pytest.mark.parametrize("case", MODULE_CASES, ids=[c.id for c in MODULE_CASES])
def test_bad_module_input_fails_cleanly_and_changes_nothing(
    private_stack: PrivateStack, record: Any, tmp_path: Any, case: ModuleCase
) -> None:
    stack = private_stack
    (tmp_path / "file").write_text('{"not": "a backup"}\n')
    places = {"file": str(tmp_path / "file"), "backups": str(stack.backups)}
    args = {k: _fill(v, places) for k, v in case.args.items()}
    before = stack.snapshot()
    run = run_module(stack, case.module, args)
    diff = snapshot_diff(before, stack.snapshot())
    record(
        "bad input",
        case.id,
        case.injected,
        {**run.outcome(), "tables_unchanged": not diff["tables"], "files_unchanged": not diff["files"]},
    )
    assert_refused(run, tuple(_fill(w, places) for w in case.words), diff)
