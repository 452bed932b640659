"""Shared site options and error type for every reintegrate module.

Public API (stable):
    site_argument_spec() -> dict      fresh dict of the shared connection options
    SITE_REQUIRED_IF: list            required_if rules for those options
    SITE_DOC_OPTIONS: str             YAML text of those options for DOCUMENTATION (already indented for
                                      the ``options:`` block); modules paste it with ``%`` or f-string
    class ModuleFailure(Exception)    ``message`` names cause and fix; ``details`` dict (never secrets)
    site_params(params) -> SiteParams typed view of the shared options
    fail_from(module, exc)            module.fail_json from a ModuleFailure
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_ROOT = "/var/www/html"


class ModuleFailure(Exception):
    """A failure whose message names the cause and the fix. Never put a secret in it."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def site_argument_spec() -> dict[str, dict[str, Any]]:
    """The shared site options (a fresh dict each call, so modules can extend it)."""
    return {
        "magento_root": {"type": "path", "default": DEFAULT_ROOT},
        "runner": {"type": "str", "default": "docker", "choices": ["docker", "local"]},
        "container": {"type": "str"},
        "docker_host": {"type": "str"},
        "cli_command": {"type": "list", "elements": "str", "default": ["bin/magento"]},
        "cli_user": {"type": "str"},
        "base_url": {"type": "str"},
        "admin_username": {"type": "str"},
        "admin_password": {"type": "str", "no_log": True},
        "db_host": {"type": "str"},
        "db_port": {"type": "int"},
        "http_timeout": {"type": "int", "default": 30},
        "validate_certs": {"type": "bool", "default": True},
    }


SITE_REQUIRED_IF = [("runner", "docker", ("container",))]

# Indented for a module's ``options:`` block (4 spaces).
SITE_DOC_OPTIONS = """    magento_root:
        description: Magento root on the site (the parent of C(bin/magento), C1.1).
        type: path
        default: /var/www/html
    runner:
        description:
            - How to reach the site's files and commands.
            - C(docker) execs in O(container) through the Docker SDK from the control node.
            - C(local) uses the host the module runs on (for an SSH target, that host).
        type: str
        choices: [docker, local]
        default: docker
    container:
        description: Name or id of the app container. Required when O(runner=docker).
        type: str
    docker_host:
        description: Docker engine URL (for example C(unix:///var/run/docker.sock)); default from DOCKER_HOST.
        type: str
    cli_command:
        description:
            - Argv prefix that runs Magento's CLI, relative to O(magento_root).
            - For example C([php, -d, memory_limit=-1, bin/magento]).
        type: list
        elements: str
        default: [bin/magento]
    cli_user:
        description: User to run commands as (docker exec user, or C(sudo -u) for the local runner).
        type: str
    base_url:
        description: Store base URL exactly as Magento sees it (C6.1), with a trailing slash.
        type: str
    admin_username:
        description: Admin user name for the Admin login (C5.2).
        type: str
    admin_password:
        description: Admin password. Never logged.
        type: str
    db_host:
        description:
            - DB host that overrides the one in C(app/etc/env.php) (C1.2).
            - Set it when the control node reaches the DB through a published port.
        type: str
    db_port:
        description: DB port that overrides the one in C(app/etc/env.php).
        type: int
    http_timeout:
        description: Timeout in seconds of each HTTP request.
        type: int
        default: 30
    validate_certs:
        description: Verify TLS certificates of O(base_url).
        type: bool
        default: true
"""


@dataclass(frozen=True)
class SiteParams:
    magento_root: str = DEFAULT_ROOT
    runner: str = "docker"
    container: str | None = None
    docker_host: str | None = None
    cli_command: tuple[str, ...] = ("bin/magento",)
    cli_user: str | None = None
    base_url: str | None = None
    admin_username: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    db_host: str | None = None
    db_port: int | None = None
    http_timeout: int = 30
    validate_certs: bool = True


def site_params(params: dict[str, Any]) -> SiteParams:
    """Typed view of the shared options from ``module.params``."""
    return SiteParams(
        magento_root=params.get("magento_root") or DEFAULT_ROOT,
        runner=params.get("runner") or "docker",
        container=params.get("container"),
        docker_host=params.get("docker_host"),
        cli_command=tuple(params.get("cli_command") or ("bin/magento",)),
        cli_user=params.get("cli_user"),
        base_url=params.get("base_url"),
        admin_username=params.get("admin_username"),
        admin_password=params.get("admin_password"),
        db_host=params.get("db_host"),
        db_port=params.get("db_port"),
        http_timeout=params.get("http_timeout") or 30,
        validate_certs=params.get("validate_certs", True),
    )


def fail_from(module: Any, exc: ModuleFailure, **result: Any) -> None:
    """Turn a ModuleFailure into fail_json (msg = cause and fix; details merged into the result)."""
    module.fail_json(msg=exc.message, **{**result, **exc.details})
