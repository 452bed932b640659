"""The Magento root on disk (C1): env.php, config.php, registered modules, DB connection."""

from __future__ import annotations

import glob
import os
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import pymysql

from twin import phparray
from twin.crypto import Encryptor

ROOT = os.environ.get("MAGENTO_ROOT", "/var/www/html")
ENV_PHP = os.path.join(ROOT, "app/etc/env.php")
CONFIG_PHP = os.path.join(ROOT, "app/etc/config.php")
CACHE_DIR = os.path.join(ROOT, "var/cache")
COLD_FLAG = os.path.join(ROOT, "var/cache/.twin_cold")
GENERATED = os.path.join(ROOT, "generated")
MAINTENANCE_FLAG = os.path.join(ROOT, "var/.maintenance.flag")


def realistic_timing() -> bool:
    return os.environ.get("MAGENTO_TWIN_REALISTIC_TIMING", "0") == "1"


@dataclass
class Module:
    name: str
    path: str
    setup_version: str | None
    sequence: list[str] = field(default_factory=list)
    vendor: bool = False

    def file(self, rel: str) -> str:
        return os.path.join(self.path, rel)


def _read_module(path: str, vendor: bool) -> Module | None:
    xml_path = os.path.join(path, "etc/module.xml")
    if not os.path.isfile(os.path.join(path, "registration.php")) or not os.path.isfile(xml_path):
        return None
    try:
        node = ET.parse(xml_path).getroot().find("module")  # noqa: S314
    except ET.ParseError:
        return None
    if node is None or not node.get("name"):
        return None
    seq = [m.get("name", "") for m in node.findall("sequence/module")]
    return Module(node.get("name", ""), path, node.get("setup_version"), seq, vendor)


def registered_modules() -> dict[str, Module]:
    """Every module with a registration.php: vendor/magento/module-* first, then app/code/V/M."""
    found: dict[str, Module] = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "vendor/magento/module-*"))):
        mod = _read_module(path, vendor=True)
        if mod:
            found[mod.name] = mod
    for path in sorted(glob.glob(os.path.join(ROOT, "app/code/*/*"))):
        mod = _read_module(path, vendor=False)
        if mod and mod.name not in found:
            found[mod.name] = mod
    return found


def read_env() -> dict[Any, Any]:
    return phparray.load(ENV_PHP)


def read_config() -> dict[Any, Any]:
    if not os.path.isfile(CONFIG_PHP):
        return {"modules": {}}
    return phparray.load(CONFIG_PHP)


def write_config(cfg: dict[Any, Any]) -> None:
    phparray.dump(cfg, CONFIG_PHP)


def enabled_module_names(cfg: dict[Any, Any] | None = None) -> list[str]:
    cfg = cfg if cfg is not None else read_config()
    return [name for name, flag in (cfg.get("modules") or {}).items() if int(flag or 0) == 1]


def enabled_modules(cfg: dict[Any, Any] | None = None) -> list[Module]:
    reg = registered_modules()
    return [reg[n] for n in enabled_module_names(cfg) if n in reg]


def is_installed() -> bool:
    return os.path.isfile(ENV_PHP)


def config_defaults(modules: list[Module] | None = None) -> dict[str, str]:
    """`<default>` values of the enabled modules' etc/config.xml, flattened to paths (`a/b/c`)."""
    out: dict[str, str] = {}

    def walk(node: ET.Element, prefix: str) -> None:
        for child in node:
            path = f"{prefix}/{child.tag}" if prefix else child.tag
            if len(child):
                walk(child, path)
            else:
                out[path] = (child.text or "").strip()

    for mod in modules if modules is not None else enabled_modules():
        path = mod.file("etc/config.xml")
        if not os.path.isfile(path):
            continue
        try:
            default = ET.parse(path).getroot().find("default")  # noqa: S314
        except ET.ParseError:
            continue
        if default is not None:
            walk(default, "")
    return out


def mage_mode() -> str:
    """env.php MAGE_MODE (`default` when absent), the way Magento's App\\State reads it."""
    try:
        return str(read_env().get("MAGE_MODE") or "default")
    except (OSError, ValueError):
        return "default"


def developer_mode() -> bool:
    return mage_mode() == "developer"


class Site:
    """What a request or command needs: env.php values, a DB connection, the encryptor."""

    def __init__(self) -> None:
        self.env = read_env()
        db = self.env["db"]
        conn = db["connection"]["default"]
        self.prefix: str = db.get("table_prefix") or ""
        if not re.fullmatch(r"[A-Za-z0-9_]*", self.prefix):
            raise ValueError("invalid table prefix")
        host = str(conn["host"])
        self.db_host, _, port = host.partition(":")
        self.db_port = int(port or 3306)
        self.db_name = conn["dbname"]
        self.db_user = conn["username"]
        self.db_password = conn.get("password", "")
        self.front_name: str = self.env.get("backend", {}).get("frontName", "admin")
        self.encryptor = Encryptor(self.env["crypt"]["key"])

    def t(self, table: str) -> str:
        return f"`{self.prefix}{table}`"

    def connect(self, retries: int = 0) -> pymysql.connections.Connection:
        last: Exception | None = None
        for _ in range(retries + 1):
            try:
                return connect(self.db_host, self.db_port, self.db_user, self.db_password, self.db_name)
            except pymysql.err.OperationalError as exc:
                last = exc
                time.sleep(1)
        assert last is not None
        raise last

    def config_value(self, cur: Any, path: str, default: str | None = None) -> str | None:
        cur.execute(
            f"SELECT value FROM {self.t('core_config_data')} WHERE scope='default' AND "
            f"scope_id=0 AND path=%s",
            (path,),
        )
        row = cur.fetchone()
        return default if row is None else row["value"]

    def config(self, cur: Any, path: str) -> str | None:
        """The stored value, else the etc/config.xml default (what ScopeConfig::getValue answers)."""
        value = self.config_value(cur, path)
        return value if value is not None else config_defaults().get(path)

    def base_url(self, cur: Any) -> str:
        return self.config_value(cur, "web/unsecure/base_url") or os.environ.get("MAGENTO_BASE_URL", "/")


def connect(host: str, port: int, user: str, password: str, db: str) -> pymysql.connections.Connection:
    return pymysql.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        database=db,
        autocommit=True,
        charset="utf8mb4",
        cursorclass=pymysql.cursors.DictCursor,
        init_command="SET time_zone='+00:00'",
        connect_timeout=5,
    )
