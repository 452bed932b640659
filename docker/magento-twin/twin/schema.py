"""The tables of C2 with Magento's real columns, keys and cascades (InnoDB), plus a little catalogue.

Each table is written the way MariaDB prints it back (`SHOW CREATE TABLE`, recorded on a real 2.4.7-p3 in
shared/magento-2.4.7-p3/db/schema.sql for the ten Magento tables of C2): same column types, nullability,
defaults, comments, key and constraint names. `{p}` is the upper-cased table prefix in key names and `{t}`
the prefix in table names.

Like Magento's declarative schema, every `setup:upgrade` brings existing tables to this definition
(`ALTER TABLE ... MODIFY`/`ADD`), so a database made by an older twin catches up (C8.6: setup:upgrade runs
DDL on Magento's tables).
"""

from __future__ import annotations

import re
from typing import Any

TABLES: list[tuple[str, str, str]] = [
    (
        "store_website",
        """`website_id` smallint(5) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Website ID',
  `code` varchar(32) DEFAULT NULL COMMENT 'Code',
  `name` varchar(64) DEFAULT NULL COMMENT 'Website Name',
  `sort_order` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Sort Order',
  `default_group_id` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Default Group ID',
  `is_default` smallint(5) unsigned DEFAULT 0 COMMENT 'Defines Is Website Default',
  PRIMARY KEY (`website_id`),
  UNIQUE KEY `{p}STORE_WEBSITE_CODE` (`code`)""",
        "Websites",
    ),
    (
        "store",
        """`store_id` smallint(5) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Store ID',
  `code` varchar(32) DEFAULT NULL COMMENT 'Code',
  `website_id` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Website ID',
  `group_id` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Group ID',
  `name` varchar(255) NOT NULL COMMENT 'Store Name',
  `sort_order` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Store Sort Order',
  `is_active` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Store Activity',
  PRIMARY KEY (`store_id`),
  UNIQUE KEY `{p}STORE_CODE` (`code`)""",
        "Stores",
    ),
    (
        "setup_module",
        """`module` varchar(50) NOT NULL COMMENT 'Module',
  `schema_version` varchar(50) DEFAULT NULL COMMENT 'Schema Version',
  `data_version` varchar(50) DEFAULT NULL COMMENT 'Data Version',
  PRIMARY KEY (`module`)""",
        "Module versions registry",
    ),
    (
        "patch_list",
        """`patch_id` int(11) NOT NULL AUTO_INCREMENT COMMENT 'Patch Auto Increment',
  `patch_name` varchar(1024) NOT NULL COMMENT 'Patch Class Name',
  PRIMARY KEY (`patch_id`)""",
        "List of data/schema patches",
    ),
    (
        "core_config_data",
        """`config_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Config ID',
  `scope` varchar(8) NOT NULL DEFAULT 'default' COMMENT 'Config Scope',
  `scope_id` int(11) NOT NULL DEFAULT 0 COMMENT 'Config Scope ID',
  `path` varchar(255) NOT NULL DEFAULT 'general' COMMENT 'Config Path',
  `value` text DEFAULT NULL COMMENT 'Config Value',
  `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp() COMMENT\
 'Updated At',
  PRIMARY KEY (`config_id`),
  UNIQUE KEY `{p}CORE_CONFIG_DATA_SCOPE_SCOPE_ID_PATH` (`scope`,`scope_id`,`path`)""",
        "Config Data",
    ),
    (
        "admin_user",
        """`user_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'User ID',
  `firstname` varchar(32) DEFAULT NULL COMMENT 'User First Name',
  `lastname` varchar(32) DEFAULT NULL COMMENT 'User Last Name',
  `email` varchar(128) DEFAULT NULL COMMENT 'User Email',
  `username` varchar(40) DEFAULT NULL COMMENT 'User Login',
  `password` varchar(255) NOT NULL COMMENT 'User Password',
  `created` timestamp NOT NULL DEFAULT current_timestamp() COMMENT 'User Created Time',
  `modified` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp() COMMENT\
 'User Modified Time',
  `logdate` timestamp NULL DEFAULT NULL COMMENT 'User Last Login Time',
  `lognum` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'User Login Number',
  `reload_acl_flag` smallint(6) NOT NULL DEFAULT 0 COMMENT 'Reload ACL',
  `is_active` smallint(6) NOT NULL DEFAULT 1 COMMENT 'User Is Active',
  `extra` text DEFAULT NULL COMMENT 'User Extra Data',
  `rp_token` text DEFAULT NULL COMMENT 'Reset Password Link Token',
  `rp_token_created_at` timestamp NULL DEFAULT NULL COMMENT 'Reset Password Link Token Creation Date',
  `interface_locale` varchar(16) NOT NULL DEFAULT 'en_US' COMMENT 'Backend interface locale',
  `failures_num` smallint(6) DEFAULT 0 COMMENT 'Failure Number',
  `first_failure` timestamp NULL DEFAULT NULL COMMENT 'First Failure',
  `lock_expires` timestamp NULL DEFAULT NULL COMMENT 'Expiration Lock Dates',
  PRIMARY KEY (`user_id`),
  UNIQUE KEY `{p}ADMIN_USER_USERNAME` (`username`)""",
        "Admin User Table",
    ),
    (
        "authorization_role",
        """`role_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Role ID',
  `parent_id` int(10) unsigned NOT NULL DEFAULT 0 COMMENT 'Parent Role ID',
  `tree_level` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Role Tree Level',
  `sort_order` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Role Sort Order',
  `role_type` varchar(1) NOT NULL DEFAULT '0' COMMENT 'Role Type',
  `user_id` int(10) unsigned NOT NULL DEFAULT 0 COMMENT 'User ID',
  `user_type` varchar(16) DEFAULT NULL COMMENT 'User Type',
  `role_name` varchar(50) DEFAULT NULL COMMENT 'Role Name',
  PRIMARY KEY (`role_id`),
  KEY `{p}AUTHORIZATION_ROLE_PARENT_ID_SORT_ORDER` (`parent_id`,`sort_order`),
  KEY `{p}AUTHORIZATION_ROLE_TREE_LEVEL` (`tree_level`)""",
        "Admin Role Table",
    ),
    (
        "authorization_rule",
        """`rule_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Rule ID',
  `role_id` int(10) unsigned NOT NULL DEFAULT 0 COMMENT 'Role ID',
  `resource_id` varchar(255) DEFAULT NULL COMMENT 'Resource ID',
  `privileges` varchar(20) DEFAULT NULL COMMENT 'Privileges',
  `permission` varchar(10) DEFAULT NULL COMMENT 'Permission',
  PRIMARY KEY (`rule_id`),
  KEY `{p}AUTHORIZATION_RULE_RESOURCE_ID_ROLE_ID` (`resource_id`,`role_id`),
  KEY `{p}AUTHORIZATION_RULE_ROLE_ID_RESOURCE_ID` (`role_id`,`resource_id`),
  CONSTRAINT `{p}AUTHORIZATION_RULE_ROLE_ID_AUTHORIZATION_ROLE_ROLE_ID` FOREIGN KEY (`role_id`)\
 REFERENCES `{t}authorization_role` (`role_id`) ON DELETE CASCADE""",
        "Admin Rule Table",
    ),
    (
        "oauth_consumer",
        """`entity_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Entity ID',
  `created_at` timestamp NOT NULL DEFAULT current_timestamp() COMMENT 'Created At',
  `updated_at` timestamp NULL DEFAULT '0000-00-00 00:00:00' ON UPDATE current_timestamp() COMMENT\
 'Updated At',
  `name` varchar(255) NOT NULL COMMENT 'Name of consumer',
  `key` varchar(32) NOT NULL COMMENT 'Key code',
  `secret` varchar(128) NOT NULL COMMENT 'Secret code',
  `callback_url` text DEFAULT NULL COMMENT 'Callback URL',
  `rejected_callback_url` text NOT NULL COMMENT 'Rejected callback URL',
  PRIMARY KEY (`entity_id`),
  UNIQUE KEY `{p}OAUTH_CONSUMER_KEY` (`key`),
  UNIQUE KEY `{p}OAUTH_CONSUMER_SECRET` (`secret`),
  KEY `{p}OAUTH_CONSUMER_CREATED_AT` (`created_at`),
  KEY `{p}OAUTH_CONSUMER_UPDATED_AT` (`updated_at`)""",
        "OAuth Consumers",
    ),
    (
        "integration",
        """`integration_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Integration ID',
  `name` varchar(255) NOT NULL COMMENT 'Integration name is displayed in the admin interface',
  `email` varchar(255) NOT NULL COMMENT 'Email address of the contact person',
  `endpoint` varchar(255) DEFAULT NULL COMMENT 'Endpoint for posting consumer credentials',
  `status` smallint(5) unsigned NOT NULL COMMENT 'Integration status',
  `consumer_id` int(10) unsigned DEFAULT NULL COMMENT 'Oauth consumer',
  `created_at` timestamp NOT NULL DEFAULT current_timestamp() COMMENT 'Creation Time',
  `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp() COMMENT\
 'Update Time',
  `setup_type` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Integration type - manual or config file',
  `identity_link_url` varchar(255) DEFAULT NULL COMMENT 'Identity linking Url',
  PRIMARY KEY (`integration_id`),
  UNIQUE KEY `{p}INTEGRATION_NAME` (`name`),
  UNIQUE KEY `{p}INTEGRATION_CONSUMER_ID` (`consumer_id`),
  CONSTRAINT `{p}INTEGRATION_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID` FOREIGN KEY (`consumer_id`)\
 REFERENCES `{t}oauth_consumer` (`entity_id`) ON DELETE CASCADE""",
        "integration",
    ),
    (
        "customer_entity",
        """`entity_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Entity ID',
  `website_id` smallint(5) unsigned DEFAULT 1 COMMENT 'Website ID',
  `email` varchar(255) DEFAULT NULL COMMENT 'Email',
  `group_id` smallint(5) unsigned NOT NULL DEFAULT 1 COMMENT 'Group ID',
  `store_id` smallint(5) unsigned DEFAULT 1 COMMENT 'Store ID',
  `firstname` varchar(255) DEFAULT NULL COMMENT 'First Name',
  `lastname` varchar(255) DEFAULT NULL COMMENT 'Last Name',
  `created_at` timestamp NOT NULL DEFAULT current_timestamp() COMMENT 'Created At',
  `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp() COMMENT\
 'Updated At',
  PRIMARY KEY (`entity_id`),
  UNIQUE KEY `{p}CUSTOMER_ENTITY_EMAIL_WEBSITE_ID` (`email`,`website_id`)""",
        "Customer Entity",
    ),
    (
        "oauth_token",
        """`entity_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Entity ID',
  `consumer_id` int(10) unsigned DEFAULT NULL COMMENT 'Oauth Consumer ID',
  `admin_id` int(10) unsigned DEFAULT NULL COMMENT 'Admin user ID',
  `customer_id` int(10) unsigned DEFAULT NULL COMMENT 'Customer user ID',
  `type` varchar(16) NOT NULL COMMENT 'Token Type',
  `token` varchar(32) NOT NULL COMMENT 'Token',
  `secret` varchar(128) NOT NULL COMMENT 'Token Secret',
  `verifier` varchar(32) DEFAULT NULL COMMENT 'Token Verifier',
  `callback_url` text NOT NULL COMMENT 'Token Callback URL',
  `revoked` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Is Token revoked',
  `authorized` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Is Token authorized',
  `user_type` int(11) DEFAULT NULL COMMENT 'User type',
  `created_at` timestamp NOT NULL DEFAULT current_timestamp() COMMENT 'Token creation timestamp',
  PRIMARY KEY (`entity_id`),
  UNIQUE KEY `{p}OAUTH_TOKEN_TOKEN` (`token`),
  KEY `{p}OAUTH_TOKEN_ADMIN_ID_ADMIN_USER_USER_ID` (`admin_id`),
  KEY `{p}OAUTH_TOKEN_CUSTOMER_ID_CUSTOMER_ENTITY_ENTITY_ID` (`customer_id`),
  KEY `{p}OAUTH_TOKEN_CONSUMER_ID` (`consumer_id`),
  KEY `{p}OAUTH_TOKEN_CREATED_AT` (`created_at`),
  CONSTRAINT `{p}OAUTH_TOKEN_ADMIN_ID_ADMIN_USER_USER_ID` FOREIGN KEY (`admin_id`) REFERENCES\
 `{t}admin_user` (`user_id`) ON DELETE CASCADE,
  CONSTRAINT `{p}OAUTH_TOKEN_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID` FOREIGN KEY (`consumer_id`)\
 REFERENCES `{t}oauth_consumer` (`entity_id`) ON DELETE CASCADE,
  CONSTRAINT `{p}OAUTH_TOKEN_CUSTOMER_ID_CUSTOMER_ENTITY_ENTITY_ID` FOREIGN KEY (`customer_id`)\
 REFERENCES `{t}customer_entity` (`entity_id`) ON DELETE CASCADE""",
        "OAuth Tokens",
    ),
    (
        "oauth_nonce",
        """`nonce` varchar(32) NOT NULL COMMENT 'Nonce String',
  `timestamp` int(10) unsigned NOT NULL COMMENT 'Nonce Timestamp',
  `consumer_id` int(10) unsigned NOT NULL COMMENT 'Consumer ID',
  PRIMARY KEY (`nonce`,`consumer_id`),
  KEY `{p}OAUTH_NONCE_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID` (`consumer_id`),
  KEY `{p}OAUTH_NONCE_TIMESTAMP` (`timestamp`),
  CONSTRAINT `{p}OAUTH_NONCE_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID` FOREIGN KEY (`consumer_id`)\
 REFERENCES `{t}oauth_consumer` (`entity_id`) ON DELETE CASCADE""",
        "OAuth Nonce",
    ),
    (
        "sales_order",
        """`entity_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Entity ID',
  `increment_id` varchar(32) DEFAULT NULL COMMENT 'Increment ID',
  `state` varchar(32) DEFAULT NULL COMMENT 'State',
  `status` varchar(32) DEFAULT NULL COMMENT 'Status',
  `store_id` smallint(5) unsigned DEFAULT 1 COMMENT 'Store ID',
  `customer_email` varchar(128) DEFAULT NULL COMMENT 'Customer Email',
  `customer_firstname` varchar(128) DEFAULT NULL COMMENT 'Customer Firstname',
  `customer_lastname` varchar(128) DEFAULT NULL COMMENT 'Customer Lastname',
  `grand_total` decimal(20,4) DEFAULT NULL COMMENT 'Grand Total',
  `order_currency_code` varchar(3) DEFAULT 'USD' COMMENT 'Order Currency Code',
  `total_item_count` smallint(5) unsigned NOT NULL DEFAULT 0 COMMENT 'Total Item Count',
  `created_at` timestamp NOT NULL DEFAULT current_timestamp() COMMENT 'Created At',
  `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp() COMMENT\
 'Updated At',
  PRIMARY KEY (`entity_id`),
  UNIQUE KEY `{p}SALES_ORDER_INCREMENT_ID_STORE_ID` (`increment_id`,`store_id`)""",
        "Sales Flat Order",
    ),
    (
        "catalog_product_entity",
        """`entity_id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'Entity ID',
  `attribute_set_id` smallint(5) unsigned NOT NULL DEFAULT 4 COMMENT 'Attribute Set ID',
  `type_id` varchar(32) NOT NULL DEFAULT 'simple' COMMENT 'Type ID',
  `sku` varchar(64) NOT NULL COMMENT 'SKU',
  `name` varchar(255) DEFAULT NULL COMMENT 'Name (the twin keeps it here, not in an EAV table)',
  `price` decimal(20,6) DEFAULT NULL COMMENT 'Price (the twin keeps it here, not in an EAV table)',
  `created_at` timestamp NOT NULL DEFAULT current_timestamp() COMMENT 'Creation Time',
  `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp() COMMENT\
 'Update Time',
  PRIMARY KEY (`entity_id`),
  KEY `{p}CATALOG_PRODUCT_ENTITY_SKU` (`sku`)""",
        "Catalog Product Table",
    ),
]

_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci"


def _body(body: str, prefix: str) -> str:
    return body.replace("{p}", prefix.upper()).replace("{t}", prefix)


def _comment(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def declared(prefix: str = "") -> dict[str, str]:
    """Table name (prefixed) -> the CREATE TABLE statement as MariaDB prints it (without AUTO_INCREMENT=)."""
    out = {}
    for name, body, comment in TABLES:
        columns = _body(body, prefix)
        out[f"{prefix}{name}"] = (
            f"CREATE TABLE `{prefix}{name}` (\n  {columns}\n) {_OPTIONS} COMMENT={_comment(comment)}"
        )
    return out


def normalise(show_create: str) -> str:
    """SHOW CREATE TABLE without the state-dependent AUTO_INCREMENT=n."""
    return re.sub(r" AUTO_INCREMENT=\d+", "", show_create)


def _lines(statement: str) -> list[str]:
    inner = statement.split("(\n", 1)[1].rsplit("\n)", 1)[0]
    return [line.strip().rstrip(",") for line in inner.split("\n")]


def _sync(cur: Any, table: str, want: str) -> None:
    """Declarative schema, twin-sized: ALTER an existing table until SHOW CREATE TABLE matches `want`."""
    cur.execute(f"SHOW CREATE TABLE `{table}`")
    have = normalise(cur.fetchone()["Create Table"])
    if have == want:
        return
    have_lines, want_lines = _lines(have), _lines(want)
    columns = {ln.split("`")[1]: ln for ln in have_lines if ln.startswith("`")}
    changes: list[str] = []
    previous = None
    for line in want_lines:
        if line.startswith("`"):
            col = line.split("`")[1]
            where = f" AFTER `{previous}`" if previous else " FIRST"
            if col not in columns:
                changes.append(f"ADD COLUMN {line}{where}")
            elif columns[col] != line:
                changes.append(f"MODIFY COLUMN {line}")
            previous = col
        elif line not in have_lines and not line.startswith("PRIMARY KEY"):
            changes.append(f"ADD {line}")
    comment = want.rsplit(" COMMENT=", 1)[1]
    if not have.endswith(f" COMMENT={comment}"):
        changes.append(f"COMMENT={comment}")
    if changes:
        cur.execute(f"ALTER TABLE `{table}` " + ", ".join(changes))


def create_tables(cur: Any, prefix: str) -> None:
    for table, statement in declared(prefix).items():
        cur.execute(statement.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
        _sync(cur, table, statement)


def seed(cur: Any, prefix: str) -> None:
    """Stores, and a few orders, products and customers so REST answers carry items (C7.4)."""
    t = lambda n: f"`{prefix}{n}`"  # noqa: E731
    cur.execute(
        f"INSERT IGNORE INTO {t('store_website')} (website_id, code, name, default_group_id, is_default) "
        "VALUES (0,'admin','Admin',0,0),(1,'base','Main Website',1,1)"
    )
    cur.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    cur.execute(
        f"INSERT IGNORE INTO {t('store')} (store_id, code, website_id, group_id, name, "
        f"sort_order, is_active) "
        "VALUES (0,'admin',0,0,'Admin',0,1),(1,'default',1,1,'Default Store View',0,1)"
    )
    for i, (first, last) in enumerate([("Veronica", "Costello"), ("John", "Smith"), ("Ada", "Lovelace")], 1):
        email = f"{first.lower()}@example.com"
        cur.execute(
            f"INSERT IGNORE INTO {t('customer_entity')} (entity_id, email, firstname, lastname) "
            "VALUES (%s,%s,%s,%s)",
            (i, email, first, last),
        )
        cur.execute(
            f"INSERT IGNORE INTO {t('sales_order')} (entity_id, increment_id, state, status, customer_email, "
            "customer_firstname, customer_lastname, grand_total, total_item_count) "
            "VALUES (%s,%s,'processing','processing',%s,%s,%s,%s,1)",
            (i, f"00000000{i}", email, first, last, 29.0 + i * 10),
        )
    for i, (sku, name, price) in enumerate(
        [
            ("24-MB01", "Joust Duffle Bag", 34.0),
            ("24-MB04", "Strive Shoulder Pack", 32.0),
            ("24-UG06", "Affirm Water Bottle", 7.0),
        ],
        1,
    ):
        cur.execute(
            f"INSERT IGNORE INTO {t('catalog_product_entity')} (entity_id, sku, name, price) "
            f"VALUES (%s,%s,%s,%s)",
            (i, sku, name, price),
        )
