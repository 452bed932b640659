"""The two sites of molecule/fleet and how a test reaches them (names and ports from molecule.yml)."""

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pymysql
import requests
from delivered import PROBE_PATH, PROJECT, signed_get

INTEGRATION = "Acme Sync"


@dataclass(frozen=True)
class Site:
    host: str
    base_url: str
    db_port: int
    listen_port: int

    @property
    def credentials_path(self) -> Path:
        return PROJECT / ".credentials" / self.host / "acme-sync.json"

    def credentials(self) -> dict:
        return json.loads(self.credentials_path.read_text())

    def rows(self, sql: str, *args) -> list[dict]:
        conn = pymysql.connect(
            host="127.0.0.1", port=self.db_port, user="magento", password="magento", database="magento"
        )
        with conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def token_types(self) -> list[str]:
        rows = self.rows(
            "SELECT t.type FROM integration i JOIN oauth_token t ON t.consumer_id = i.consumer_id "
            "WHERE i.name = %s ORDER BY t.entity_id",
            INTEGRATION,
        )
        return [r["type"] for r in rows]

    def signed_get(self, creds: dict, path: str = PROBE_PATH) -> requests.Response:
        """A call to THIS site signed with `creds` (which may belong to another site)."""
        return signed_get(self.base_url, creds, path)


SITES = (
    Site("fleeta", "http://127.0.0.1:18085/", 13311, 8111),
    Site("fleetb", "http://127.0.0.1:18086/", 13312, 8112),
)
SITE_IDS = [site.host for site in SITES]


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
