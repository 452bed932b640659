"""runner: local with the modules running on the Magento host (the localrun-app container, reached through
community.docker.docker as a staging store is reached over SSH): the credentials the handshake wrote there
are handed over to the control node, private, and they work."""

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pymysql
from delivered import PROJECT, SECRET_KEYS, run_playbook, signed_get

CREDENTIALS = PROJECT / ".credentials" / "localrun" / "acme-sync.json"
APP = "localrun-app"
# magento_integration_remote_dir ~/.reintegrate for the container's user (root); kept by default.
REMOTE_DIR = "/root/.reintegrate"
REMOTE_CREDENTIALS = f"{REMOTE_DIR}/credentials/acme-sync.json"
STORE = "http://127.0.0.1:18087/"


def in_app(*argv: str) -> str:
    """A command in the app container; its output is only ever modes, sizes and digests."""
    return subprocess.run(
        ["docker", "exec", APP, *argv], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def access_rows():
    conn = pymysql.connect(
        host="127.0.0.1", port=13313, user="magento", password="magento", database="magento"
    )
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT i.status, t.type FROM integration i JOIN oauth_token t ON t.consumer_id = i.consumer_id "
            "WHERE i.name = %s",
            ("Acme Sync",),
        )
        return cur.fetchall()


def test_control_node_copy_is_private_and_complete():
    assert stat.S_IMODE(CREDENTIALS.stat().st_mode) == 0o600
    assert stat.S_IMODE(CREDENTIALS.parent.stat().st_mode) == 0o700
    creds = json.loads(CREDENTIALS.read_text())
    assert set(SECRET_KEYS) <= set(creds)
    assert creds["base_url"] == "http://127.0.0.1:18087/"


def test_delivered_tokens_sign_a_200_and_one_access_row():
    assert signed_get(STORE, json.loads(CREDENTIALS.read_text())).status_code == 200
    assert access_rows() == ((1, "access"),)


def test_remote_copy_is_kept_private_and_identical():
    assert in_app("stat", "-c", "%a", REMOTE_DIR) == "700"
    assert in_app("stat", "-c", "%a", os.path.dirname(REMOTE_CREDENTIALS)) == "700"
    assert in_app("stat", "-c", "%a", REMOTE_CREDENTIALS) == "600"
    assert in_app("sha256sum", REMOTE_CREDENTIALS).split()[0] == sha256(CREDENTIALS)


def test_module_source_was_staged_on_the_host_and_installed_from_there():
    source = PROJECT / "examples" / "Acme" / "Sync"
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source).as_posix()
        assert in_app("sha256sum", f"{REMOTE_DIR}/src/Acme_Sync/{rel}").split()[0] == sha256(path)
        assert in_app("sha256sum", f"/var/www/html/app/code/Acme/Sync/{rel}").split()[0] == sha256(path)


def test_forced_reset_hands_over_new_credentials_and_vvv_prints_no_secret():
    """New credentials minted with -vvv reach the control node and appear nowhere in the output."""
    before = json.loads(CREDENTIALS.read_text())
    rc, out = run_playbook("reinstall_integration.yml", "-vvv", "-e", "reintegrate_force=true")
    assert rc == 0, out[-3000:]
    assert re.search(r"^localrun\s+: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0", out, re.M)
    after = json.loads(CREDENTIALS.read_text())
    assert after["access_token"] != before["access_token"]
    leaked = [key for key in SECRET_KEYS for creds in (before, after) if creds[key] in out]
    assert leaked == []
    assert "fetched to" in out and str(CREDENTIALS) in out
    assert stat.S_IMODE(CREDENTIALS.stat().st_mode) == 0o600
    assert in_app("sha256sum", REMOTE_CREDENTIALS).split()[0] == sha256(CREDENTIALS)
    assert signed_get(STORE, after).status_code == 200
    assert access_rows() == ((1, "access"),)
