"""Shared site options and error type for every reintegrate module.

Public API (stable):
    site_argument_spec() -> dict      fresh dict of the shared connection options (documented once, in
                                      plugins/doc_fragments/magento_site.py: modules say
                                      ``extends_documentation_fragment: [magento_site]``)
    SITE_REQUIRED_IF: list            required_if rules for those options
    class ModuleFailure(Exception)    ``message`` names cause and fix; ``details`` dict (never secrets)
    site_params(params) -> SiteParams typed view of the shared options
    fail_from(module, exc)            module.fail_json from a ModuleFailure
    exit_from(module, result)         module.exit_json: warnings through module.warn, diff only under --diff
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


# Seconds an HTTP request to the store may take. Generous on purpose: the first request after a cache
# flush rebuilds Magento's caches (14 s on a 2-core 2.4.7 in developer mode, more while setup:upgrade
# of another site runs); a store that is down fails at connect time anyway.
DEFAULT_HTTP_TIMEOUT = 120


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
        # TLS to the DB, named as in community.mysql (aliases) and passed to pymysql's ssl.
        "db_ca_cert": {"type": "path", "aliases": ["ca_cert"]},
        "db_client_cert": {"type": "path", "aliases": ["client_cert"]},
        "db_client_key": {"type": "path", "aliases": ["client_key"], "no_log": False},
        "db_check_hostname": {"type": "bool", "aliases": ["check_hostname"]},
        "http_timeout": {"type": "int", "default": DEFAULT_HTTP_TIMEOUT},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
    }


SITE_REQUIRED_IF = [("runner", "docker", ("container",))]


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
    db_ca_cert: str | None = None
    db_client_cert: str | None = None
    db_client_key: str | None = None
    db_check_hostname: bool | None = None
    http_timeout: int = DEFAULT_HTTP_TIMEOUT
    validate_certs: bool = True
    ca_path: str | None = None

    @property
    def tls_verify(self) -> bool | str:
        """requests' ``verify`` for every call to base_url: the CA bundle (or c_rehash folder) ca_path when
        given, else validate_certs."""
        if self.validate_certs and self.ca_path:
            return self.ca_path
        return self.validate_certs

    def db_ssl(self) -> dict[str, Any] | None:
        """pymysql's ``ssl`` for the DB TLS options, None when none is set (community.mysql's mapping)."""
        if not (self.db_ca_cert or self.db_client_cert or self.db_client_key):
            return None
        ssl: dict[str, Any] = {}
        if self.db_ca_cert:
            ssl["ca"] = self.db_ca_cert
        if self.db_client_cert:
            ssl["cert"] = self.db_client_cert
        if self.db_client_key:
            ssl["key"] = self.db_client_key
        if self.db_check_hostname is not None:
            ssl["check_hostname"] = self.db_check_hostname
        return ssl


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
        db_ca_cert=params.get("db_ca_cert"),
        db_client_cert=params.get("db_client_cert"),
        db_client_key=params.get("db_client_key"),
        db_check_hostname=params.get("db_check_hostname"),
        http_timeout=params.get("http_timeout") or DEFAULT_HTTP_TIMEOUT,
        validate_certs=params.get("validate_certs", True),
        ca_path=params.get("ca_path"),
    )


def fail_from(module: Any, exc: ModuleFailure, **result: Any) -> None:
    """Turn a ModuleFailure into fail_json (msg = cause and fix; details merged into the result). Warnings
    in the result or the details (a failed preflight carries those it gathered) go through module.warn:
    a "warnings" key passed to fail_json is deprecated in ansible-core 2.19."""
    merged = {**result, **exc.details}
    for warning in merged.pop("warnings", None) or []:
        module.warn(warning)
    module.fail_json(msg=exc.message, **merged)


def exit_from(module: Any, result: dict[str, Any]) -> None:
    """exit_json with a logic function's result: its ``warnings`` go through module.warn (a "warnings"
    key in a result is deprecated in ansible-core 2.19), and its ``diff`` is kept only under --diff."""
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)
