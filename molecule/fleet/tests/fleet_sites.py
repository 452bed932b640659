"""The two sites of molecule/fleet and how a test reaches them (names and ports from molecule.yml)."""

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pymysql
import requests
from requests_oauthlib import OAuth1

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
PROBE_PATH = "/V1/orders?searchCriteria[pageSize]=1"
INTEGRATION = "Acme Sync"
CREDENTIAL_KEYS = {
    "base_url",
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
    "obtained_at",
}


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
        auth = OAuth1(
            creds["consumer_key"],
            creds["consumer_secret"],
            creds["access_token"],
            creds["access_token_secret"],
            signature_method="HMAC-SHA256",
            signature_type="AUTH_HEADER",
        )
        return requests.get(self.base_url.rstrip("/") + "/rest" + path, auth=auth, timeout=10)


SITES = (
    Site("fleeta", "http://127.0.0.1:18085/", 13311, 8111),
    Site("fleetb", "http://127.0.0.1:18086/", 13312, 8112),
)
SITE_IDS = [site.host for site in SITES]


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
