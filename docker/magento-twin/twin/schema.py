"""The tables of C2 with Magento's real columns, keys and cascades (InnoDB), plus a little catalogue."""

from __future__ import annotations

from typing import Any

TABLES: list[tuple[str, str]] = [
    (
        "store_website",
        """`website_id` smallint unsigned NOT NULL AUTO_INCREMENT, `code` varchar(32) DEFAULT NULL,
        `name` varchar(64) DEFAULT NULL, `sort_order` smallint unsigned NOT NULL DEFAULT 0,
        `default_group_id` smallint unsigned NOT NULL DEFAULT 0, `is_default` smallint unsigned DEFAULT 0,
        PRIMARY KEY (`website_id`), UNIQUE KEY `{p}STORE_WEBSITE_CODE` (`code`)""",
    ),
    (
        "store",
        """`store_id` smallint unsigned NOT NULL AUTO_INCREMENT, `code` varchar(32) DEFAULT NULL,
        `website_id` smallint unsigned NOT NULL DEFAULT 0, `group_id` smallint unsigned NOT NULL DEFAULT 0,
        `name` varchar(255) NOT NULL, `sort_order` smallint unsigned NOT NULL DEFAULT 0,
        `is_active` smallint unsigned NOT NULL DEFAULT 0,
        PRIMARY KEY (`store_id`), UNIQUE KEY `{p}STORE_CODE` (`code`)""",
    ),
    (
        "setup_module",
        """`module` varchar(50) NOT NULL, `schema_version` varchar(50) DEFAULT NULL,
        `data_version` varchar(50) DEFAULT NULL, PRIMARY KEY (`module`)""",
    ),
    (
        "patch_list",
        """`patch_id` int NOT NULL AUTO_INCREMENT, `patch_name` varchar(1024) NOT NULL,
        PRIMARY KEY (`patch_id`)""",
    ),
    (
        "core_config_data",
        """`config_id` int unsigned NOT NULL AUTO_INCREMENT, `scope` varchar(8) NOT NULL DEFAULT 'default',
        `scope_id` int NOT NULL DEFAULT 0, `path` varchar(255) NOT NULL DEFAULT 'general', `value` text,
        `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
        PRIMARY KEY (`config_id`),
        UNIQUE KEY `{p}CORE_CONFIG_DATA_SCOPE_SCOPE_ID_PATH` (`scope`,`scope_id`,`path`)""",
    ),
    (
        "admin_user",
        """`user_id` int unsigned NOT NULL AUTO_INCREMENT, `firstname` varchar(32) DEFAULT NULL,
        `lastname` varchar(32) DEFAULT NULL, `email` varchar(128) DEFAULT NULL,
        `username` varchar(40) DEFAULT NULL, `password` varchar(255) NOT NULL,
        `created` timestamp NOT NULL DEFAULT current_timestamp(),
        `modified` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
        `logdate` timestamp NULL DEFAULT NULL, `lognum` smallint unsigned NOT NULL DEFAULT 0,
        `reload_acl_flag` smallint NOT NULL DEFAULT 0, `is_active` smallint NOT NULL DEFAULT 1,
        `extra` mediumtext, `rp_token` text, `rp_token_created_at` timestamp NULL DEFAULT NULL,
        `interface_locale` varchar(16) NOT NULL DEFAULT 'en_US', `failures_num` smallint DEFAULT 0,
        `first_failure` timestamp NULL DEFAULT NULL, `lock_expires` timestamp NULL DEFAULT NULL,
        PRIMARY KEY (`user_id`), UNIQUE KEY `{p}ADMIN_USER_USERNAME` (`username`)""",
    ),
    (
        "authorization_role",
        """`role_id` int unsigned NOT NULL AUTO_INCREMENT, `parent_id` int unsigned NOT NULL DEFAULT 0,
        `tree_level` smallint unsigned NOT NULL DEFAULT 0, `sort_order` smallint unsigned NOT NULL DEFAULT 0,
        `role_type` varchar(1) NOT NULL DEFAULT '0', `user_id` int unsigned NOT NULL DEFAULT 0,
        `user_type` varchar(16) DEFAULT NULL, `role_name` varchar(50) DEFAULT NULL,
        PRIMARY KEY (`role_id`), KEY `{p}AUTHORIZATION_ROLE_PARENT_ID_SORT_ORDER` (`parent_id`,`sort_order`),
        KEY `{p}AUTHORIZATION_ROLE_TREE_LEVEL` (`tree_level`)""",
    ),
    (
        "authorization_rule",
        """`rule_id` int unsigned NOT NULL AUTO_INCREMENT, `role_id` int unsigned NOT NULL DEFAULT 0,
        `resource_id` varchar(255) DEFAULT NULL, `privileges` varchar(20) DEFAULT NULL,
        `permission` varchar(10) DEFAULT NULL, PRIMARY KEY (`rule_id`),
        KEY `{p}AUTHORIZATION_RULE_RESOURCE_ID_ROLE_ID` (`resource_id`,`role_id`),
        KEY `{p}AUTHORIZATION_RULE_ROLE_ID_RESOURCE_ID` (`role_id`,`resource_id`),
        CONSTRAINT `{p}AUTHORIZATION_RULE_ROLE_ID_AUTHORIZATION_ROLE_ROLE_ID` FOREIGN KEY (`role_id`)
          REFERENCES `{t}authorization_role` (`role_id`) ON DELETE CASCADE""",
    ),
    (
        "oauth_consumer",
        """`entity_id` int unsigned NOT NULL AUTO_INCREMENT,
        `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
        `updated_at` timestamp NULL DEFAULT NULL, `name` varchar(255) NOT NULL, `key` varchar(32) NOT NULL,
        `secret` varchar(128) NOT NULL, `callback_url` text, `rejected_callback_url` text NOT NULL,
        PRIMARY KEY (`entity_id`), UNIQUE KEY `{p}OAUTH_CONSUMER_KEY` (`key`),
        UNIQUE KEY `{p}OAUTH_CONSUMER_SECRET` (`secret`), KEY `{p}OAUTH_CONSUMER_CREATED_AT` (`created_at`),
        KEY `{p}OAUTH_CONSUMER_UPDATED_AT` (`updated_at`)""",
    ),
    (
        "integration",
        """`integration_id` int unsigned NOT NULL AUTO_INCREMENT, `name` varchar(255) NOT NULL,
        `email` varchar(255) NOT NULL, `endpoint` varchar(255) DEFAULT NULL,
        `status` smallint unsigned NOT NULL,
        `consumer_id` int unsigned DEFAULT NULL, `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
        `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
        `setup_type` smallint unsigned NOT NULL DEFAULT 0, `identity_link_url` varchar(255) DEFAULT NULL,
        PRIMARY KEY (`integration_id`), UNIQUE KEY `{p}INTEGRATION_NAME` (`name`),
        UNIQUE KEY `{p}INTEGRATION_CONSUMER_ID` (`consumer_id`),
        CONSTRAINT `{p}INTEGRATION_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID` FOREIGN KEY (`consumer_id`)
          REFERENCES `{t}oauth_consumer` (`entity_id`) ON DELETE CASCADE""",
    ),
    (
        "oauth_token",
        """`entity_id` int unsigned NOT NULL AUTO_INCREMENT, `consumer_id` int unsigned DEFAULT NULL,
        `admin_id` int unsigned DEFAULT NULL, `customer_id` int unsigned DEFAULT NULL,
        `type` varchar(16) NOT NULL, `token` varchar(32) NOT NULL, `secret` varchar(128) NOT NULL,
        `verifier` varchar(32) DEFAULT NULL, `callback_url` text NOT NULL,
        `revoked` smallint unsigned NOT NULL DEFAULT 0, `authorized` smallint unsigned NOT NULL DEFAULT 0,
        `user_type` int DEFAULT NULL, `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
        PRIMARY KEY (`entity_id`), UNIQUE KEY `{p}OAUTH_TOKEN_TOKEN` (`token`),
        KEY `{p}OAUTH_TOKEN_CONSUMER_ID` (`consumer_id`), KEY `{p}OAUTH_TOKEN_CREATED_AT` (`created_at`),
        CONSTRAINT `{p}OAUTH_TOKEN_ADMIN_ID_ADMIN_USER_USER_ID` FOREIGN KEY (`admin_id`)
          REFERENCES `{t}admin_user` (`user_id`) ON DELETE CASCADE,
        CONSTRAINT `{p}OAUTH_TOKEN_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID` FOREIGN KEY (`consumer_id`)
          REFERENCES `{t}oauth_consumer` (`entity_id`) ON DELETE CASCADE""",
    ),
    (
        "oauth_nonce",
        """`nonce` varchar(32) NOT NULL, `timestamp` int unsigned NOT NULL, `consumer_id` int
        unsigned NOT NULL,
        PRIMARY KEY (`nonce`,`consumer_id`), KEY `{p}OAUTH_NONCE_TIMESTAMP` (`timestamp`),
        CONSTRAINT `{p}OAUTH_NONCE_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID` FOREIGN KEY (`consumer_id`)
          REFERENCES `{t}oauth_consumer` (`entity_id`) ON DELETE CASCADE""",
    ),
    (
        "sales_order",
        """`entity_id` int unsigned NOT NULL AUTO_INCREMENT, `increment_id` varchar(32) DEFAULT NULL,
        `state` varchar(32) DEFAULT NULL, `status` varchar(32) DEFAULT NULL,
        `store_id` smallint unsigned DEFAULT 1,
        `customer_email` varchar(128) DEFAULT NULL, `customer_firstname` varchar(128) DEFAULT NULL,
        `customer_lastname` varchar(128) DEFAULT NULL, `grand_total` decimal(20,4) DEFAULT NULL,
        `order_currency_code` varchar(3) DEFAULT 'USD',
        `total_item_count` smallint unsigned NOT NULL DEFAULT 0,
        `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
        `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
        PRIMARY KEY (`entity_id`), UNIQUE KEY `{p}SALES_ORDER_INCREMENT_ID_STORE_ID`
        (`increment_id`,`store_id`)""",
    ),
    (
        "catalog_product_entity",
        """`entity_id` int unsigned NOT NULL AUTO_INCREMENT, `attribute_set_id` smallint unsigned
        NOT NULL DEFAULT 4,
        `type_id` varchar(32) NOT NULL DEFAULT 'simple', `sku` varchar(64) NOT NULL,
        `name` varchar(255) DEFAULT NULL, `price` decimal(20,6) DEFAULT NULL,
        `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
        `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
        PRIMARY KEY (`entity_id`), KEY `{p}CATALOG_PRODUCT_ENTITY_SKU` (`sku`)""",
    ),
    (
        "customer_entity",
        """`entity_id` int unsigned NOT NULL AUTO_INCREMENT, `website_id` smallint unsigned DEFAULT 1,
        `email` varchar(255) DEFAULT NULL, `group_id` smallint unsigned NOT NULL DEFAULT 1,
        `store_id` smallint unsigned DEFAULT 1, `firstname` varchar(255) DEFAULT NULL,
        `lastname` varchar(255) DEFAULT NULL, `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
        `updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
        PRIMARY KEY (`entity_id`), UNIQUE KEY `{p}CUSTOMER_ENTITY_EMAIL_WEBSITE_ID` (`email`,`website_id`)""",
    ),
]


def create_tables(cur: Any, prefix: str) -> None:
    for name, body in TABLES:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS `{prefix}{name}` ({body.format(p=prefix.upper(), t=prefix)}) "
            "ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci"
        )


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
