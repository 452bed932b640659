"""Magento facts from ``magento-contract.md`` in one place (clause ids in comments).

Public names (stable; other module_utils import them):
    Paths:   ENV_PHP, CONFIG_PHP, APP_CODE, BIN_MAGENTO, VENDOR_MAGENTO, DEFAULT_MAGENTO_ROOT
    Tables:  TABLE_SETUP_MODULE, TABLE_PATCH_LIST, TABLE_INTEGRATION, TABLE_OAUTH_CONSUMER,
             TABLE_OAUTH_TOKEN, TABLE_OAUTH_NONCE, TABLE_AUTHORIZATION_ROLE, TABLE_AUTHORIZATION_RULE,
             TABLE_CORE_CONFIG_DATA, TABLE_ADMIN_USER
    Values:  TOKEN_TYPE_*, TOKEN_TYPES, USER_TYPE_INTEGRATION, STATUS_*, STATUS_NAMES, SETUP_TYPE_*,
             CONFIG_EXPIRATION_PERIOD, DEFAULT_EXPIRATION_PERIOD, CONFIG_BEARER, ACL_ADMIN_ROOT,
             ACL_ALL_ROOT, MODULE_NAME_PATTERN, DEFAULT_PROBE_PATH, CLI_* command names and texts.
"""

from __future__ import annotations

import re

# C1.1 layout relative to the Magento root.
DEFAULT_MAGENTO_ROOT = "/var/www/html"
ENV_PHP = "app/etc/env.php"
CONFIG_PHP = "app/etc/config.php"
APP_CODE = "app/code"
BIN_MAGENTO = "bin/magento"
VENDOR_MAGENTO = "vendor/magento"

# C1.3 module files.
MODULE_XML = "etc/module.xml"
REGISTRATION_PHP = "registration.php"
ACL_XML = "etc/acl.xml"
# C3.1 consolidated format; C3.3 deprecated ("legacy") format.
INTEGRATION_XML = "etc/integration.xml"
LEGACY_CONFIG_XML = "etc/integration/config.xml"
LEGACY_API_XML = "etc/integration/api.xml"
LEGACY_INSTALL_DATA = "Setup/InstallData.php"

# C2 tables (unprefixed; magento_db.Database.t() adds the C1.2 prefix).
TABLE_SETUP_MODULE = "setup_module"
TABLE_PATCH_LIST = "patch_list"
TABLE_INTEGRATION = "integration"
TABLE_OAUTH_CONSUMER = "oauth_consumer"
TABLE_OAUTH_TOKEN = "oauth_token"  # noqa: S105 - a name, not a secret
TABLE_OAUTH_NONCE = "oauth_nonce"
TABLE_AUTHORIZATION_ROLE = "authorization_role"
TABLE_AUTHORIZATION_RULE = "authorization_rule"
TABLE_CORE_CONFIG_DATA = "core_config_data"
TABLE_ADMIN_USER = "admin_user"

# C2.5 token types; C6.6 integration token rows have user_type 1.
TOKEN_TYPE_VERIFIER = "verifier"  # noqa: S105 - a name, not a secret
TOKEN_TYPE_REQUEST = "request"  # noqa: S105 - a name, not a secret
TOKEN_TYPE_ACCESS = "access"  # noqa: S105 - a name, not a secret
TOKEN_TYPES = (TOKEN_TYPE_VERIFIER, TOKEN_TYPE_REQUEST, TOKEN_TYPE_ACCESS)
USER_TYPE_INTEGRATION = 1

# C2.3 integration.status and setup_type.
STATUS_INACTIVE = 0
STATUS_ACTIVE = 1
STATUS_RECREATED = 2
STATUS_NAMES = {STATUS_INACTIVE: "inactive", STATUS_ACTIVE: "active", STATUS_RECREATED: "recreated"}
SETUP_TYPE_MANUAL = 0
SETUP_TYPE_CONFIG = 1

# C6.5 consumer expiry; C7.3 bearer setting (core_config_data paths, scope default / 0).
CONFIG_EXPIRATION_PERIOD = "oauth/consumer/expiration_period"
DEFAULT_EXPIRATION_PERIOD = 300
CONFIG_BEARER = "oauth/consumer/enable_integration_as_bearer"
CONFIG_SCOPE_DEFAULT = "default"

# C4.1 ACL roots; C3.1 Magento always adds Magento_Backend::admin.
ACL_ADMIN_ROOT = "Magento_Backend::admin"
ACL_ALL_ROOT = "Magento_Backend::all"

# Module names (issue 4 item 3).
MODULE_NAME_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]*_[A-Za-z0-9]+$")

# C7.4 default signed probe.
DEFAULT_PROBE_PATH = "/V1/orders?searchCriteria[pageSize]=1"

# C1.4 commands.
CLI_SETUP_UPGRADE = "setup:upgrade"
CLI_KEEP_GENERATED = "--keep-generated"
CLI_MODULE_ENABLE = "module:enable"
CLI_MODULE_DISABLE = "module:disable"
CLI_MODULE_STATUS = "module:status"
CLI_CACHE_FLUSH = "cache:flush"
CLI_CACHE_CLEAN = "cache:clean"
CLI_SETUP_DB_STATUS = "setup:db:status"
CLI_CONFIG_SET = "config:set"
CLI_CONFIG_SHOW = "config:show"
CLI_MAINTENANCE_STATUS = "maintenance:status"
# Commands that never change the site (C1.4).
CLI_READ_ONLY = frozenset({CLI_MODULE_STATUS, CLI_SETUP_DB_STATUS, CLI_CONFIG_SHOW, CLI_MAINTENANCE_STATUS})

# C8.2 failure texts surfaced by magento_cli.
CLI_PATCH_FAILURE = re.compile(
    r"Unable to apply data patch (?P<patch>\S+) for module (?P<module>\S+)\. "
    r"Original exception message: (?P<msg>.*)"
)
CLI_ROLE_NOT_FOUND = "The role wasn't found for the user. Verify the role and try again."
# Commands that delete generated/code and generated/metadata as bin/magento starts (2.4.7-p3:
# setup/src/Magento/Setup/Console/CompilerPreparation.php, which also lists module:uninstall;
# module:enable/disable again after changing config.php). A web request that regenerates a class there
# meanwhile makes the delete fail: rc 1 and this text on stdout, before the change or after config.php
# was written. Running these again is safe (module:uninstall, which removes data, is left out).
CLI_CLEARS_GENERATED = frozenset({CLI_MODULE_ENABLE, CLI_MODULE_DISABLE, "setup:di:compile"})
CLI_GENERATED_NOT_DELETED = re.compile(r'The directory "(?P<dir>[^"]*/generated/[^"]*)" cannot be deleted')
# C1.4 error markup.
CLI_ERROR_MARKUP = re.compile(r"<error>(.*?)</error>", re.DOTALL)


def module_namespace(module: str) -> str:
    """``Vendor_Module`` → ``Vendor\\Module\\`` (C2.2: patch class names, no leading backslash)."""
    vendor, _, name = module.partition("_")
    return f"{vendor}\\{name}\\"


def module_path(module: str) -> str:
    """``Vendor_Module`` → ``app/code/Vendor/Module`` (C1.3)."""
    vendor, _, name = module.partition("_")
    return f"{APP_CODE}/{vendor}/{name}"


# What identifies a row when a backup is restored (patch_list by class name: its id is auto-assigned).
RESTORE_IDENTITY = {
    TABLE_SETUP_MODULE: ("module",),
    TABLE_PATCH_LIST: ("patch_name",),
    TABLE_OAUTH_TOKEN: ("entity_id",),
    TABLE_OAUTH_NONCE: ("nonce", "consumer_id"),
}
RESTORE_DROP_COLUMNS = {TABLE_PATCH_LIST: ("patch_id",)}
