"""A careful hand-written reinstall, no Ansible: what a user would script instead of reintegrate.

    .venv/bin/python bench/baseline.py --base-url http://127.0.0.1:18083/ --container bench-app \
        --db-port 13309 [--cli-user magento] [--admin-password ...] [--module Acme_Sync] [--name "Acme Sync"]

The steps of a forced reinstall, in order: delete the module's setup_module and patch_list rows,
`bin/magento setup:upgrade --keep-generated` (docker exec), delete this integration's oauth_token and
oauth_nonce rows, Admin activation (login, the grid's tokensExchange URL, the XHR), the endpoint POST
received by a one-shot listener on the endpoint_url's port, request + access token, one signed GET.
It prints one JSON line: each step's seconds and the total. Plain requests, requests-oauthlib, pymysql.
No backup, no checks, no convergence: it is the floor a script gets to, not a safe tool.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pymysql
import requests
from requests_oauthlib import OAuth1


def timed(marks: dict[str, float], name: str, started: float) -> float:
    now = time.monotonic()
    marks[name] = round(now - started, 3)
    return now


class Endpoint:
    """Receives Magento's POST of the consumer key/secret and verifier."""

    def __init__(self, port: int) -> None:
        self.form: dict[str, str] = {}
        self.got = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                outer.form = {k: v[0] for k, v in parse_qs(body).items()}
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                outer.got.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def unescape_js(text: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/")


def admin_activate(base: str, front: str, user: str, password: str, integration_id: int) -> None:
    http = requests.Session()
    page = http.get(f"{base}{front}/", timeout=120).text
    form_key = re.search(r'name="form_key" type="hidden" value="([^"]+)"', page).group(1)
    login = http.post(
        f"{base}{front}/",
        data={"form_key": form_key, "login[username]": user, "login[password]": password},
        allow_redirects=False,
        timeout=120,
    )
    dashboard = http.get(login.headers["Location"], timeout=120).text
    grid_url = re.search(r'href="([^"]*/admin/integration/(?:index/key/[0-9a-f]+/)?)"', dashboard).group(1)
    grid = http.get(grid_url, timeout=120).text
    template = next(
        unescape_js(u) for u in re.findall(r"'((?:[^'\\]|\\.)*)'", grid) if "tokensExchange" in unescape_js(u)
    )
    url = template.replace(":id", str(integration_id)).replace(":isReauthorize", "0")
    reply = http.get(url, headers={"X-Requested-With": "XMLHttpRequest"}, timeout=120)
    if "oauth_consumer_key" not in reply.text:
        sys.exit(f"tokensExchange did not activate: {reply.text[:300]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", default="http://127.0.0.1:18083/")
    ap.add_argument("--front", default="admin")
    ap.add_argument("--container", default="bench-app")
    ap.add_argument("--cli-user", default="")
    ap.add_argument("--db-host", default="127.0.0.1")
    ap.add_argument("--db-port", type=int, default=13309)
    ap.add_argument("--db-user", default="magento")
    ap.add_argument("--db-password", default="magento")
    ap.add_argument("--db-name", default="magento")
    ap.add_argument("--admin-user", default="admin")
    ap.add_argument("--admin-password", default="Admin12345!")
    ap.add_argument("--module", default="Acme_Sync")
    ap.add_argument("--name", default="Acme Sync")
    ap.add_argument("--probe", default="V1/orders?searchCriteria[pageSize]=1")
    args = ap.parse_args()
    base = args.base_url.rstrip("/") + "/"
    marks: dict[str, float] = {}
    start = t = time.monotonic()

    db = pymysql.connect(
        host=args.db_host,
        port=args.db_port,
        user=args.db_user,
        password=args.db_password,
        database=args.db_name,
        autocommit=True,
    )
    with db.cursor() as cur:
        cur.execute("DELETE FROM setup_module WHERE module=%s", (args.module,))
        cur.execute(
            "DELETE FROM patch_list WHERE patch_name LIKE %s", (args.module.replace("_", "\\\\") + "\\\\%",)
        )
    db.close()  # never hold a connection while setup:upgrade ALTERs tables
    t = timed(marks, "setup_rows", t)

    cmd = ["docker", "exec", *(["-u", args.cli_user] if args.cli_user else []), args.container]
    upgrade = subprocess.run(
        [*cmd, "bin/magento", "setup:upgrade", "--keep-generated"],
        capture_output=True,
        text=True,
        check=False,
    )
    if upgrade.returncode != 0:
        sys.exit(f"setup:upgrade failed: {upgrade.stdout[-500:]}{upgrade.stderr[-500:]}")
    t = timed(marks, "setup_upgrade", t)

    db = pymysql.connect(
        host=args.db_host,
        port=args.db_port,
        user=args.db_user,
        password=args.db_password,
        database=args.db_name,
        autocommit=True,
    )
    with db.cursor() as cur:
        cur.execute(
            "SELECT integration_id, consumer_id, endpoint FROM integration WHERE name=%s", (args.name,)
        )
        integration_id, consumer_id, endpoint = cur.fetchone()
        cur.execute("DELETE FROM oauth_token WHERE consumer_id=%s", (consumer_id,))
        cur.execute("DELETE FROM oauth_nonce WHERE consumer_id=%s", (consumer_id,))
    db.close()
    t = timed(marks, "purge", t)

    listener = Endpoint(urlsplit(endpoint).port or 80)
    try:
        admin_activate(base, args.front, args.admin_user, args.admin_password, integration_id)
        if not listener.got.wait(60):
            sys.exit("no endpoint POST within 60 s")
    finally:
        listener.close()
    t = timed(marks, "admin_activation", t)

    form = listener.form
    key, secret = form["oauth_consumer_key"], form["oauth_consumer_secret"]
    auth = OAuth1(key, secret, signature_method="HMAC-SHA256")
    reply = requests.post(f"{base}oauth/token/request", auth=auth, timeout=120)
    request = {k: v[0] for k, v in parse_qs(reply.text).items()}
    auth = OAuth1(
        key,
        secret,
        request["oauth_token"],
        request["oauth_token_secret"],
        verifier=form["oauth_verifier"],
        signature_method="HMAC-SHA256",
    )
    reply = requests.post(f"{base}oauth/token/access", auth=auth, timeout=120)
    access = {k: v[0] for k, v in parse_qs(reply.text).items()}
    t = timed(marks, "handshake", t)

    auth = OAuth1(
        key, secret, access["oauth_token"], access["oauth_token_secret"], signature_method="HMAC-SHA256"
    )
    status = requests.get(f"{base}rest/{args.probe}", auth=auth, timeout=120).status_code
    if status != 200:
        sys.exit(f"probe answered {status}")
    timed(marks, "probe", t)
    marks["total"] = round(time.monotonic() - start, 3)
    print(json.dumps(marks))


if __name__ == "__main__":
    main()
