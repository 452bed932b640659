"""The stack made by molecule/stack: both containers healthy, MariaDB answers, 127.0.0.1 only."""

import json
import time

import pymysql
import pytest

DB_PORT = 13307
APP_PORT = 18081
CONTAINERS = ("molstack-db", "molstack-app")


def inspect(host, name: str) -> dict:
    return json.loads(host.check_output(f"docker inspect {name}"))[0]


@pytest.mark.parametrize("name", CONTAINERS)
def test_container_running_and_healthy(host, name):
    """up.yml returns once the image's check passes; Docker's own flag follows within its 30 s interval."""
    deadline = time.monotonic() + 45
    state = inspect(host, name)["State"]
    while state["Health"]["Status"] == "starting" and time.monotonic() < deadline:
        time.sleep(1)
        state = inspect(host, name)["State"]
    assert state["Running"] is True
    assert state["Health"]["Status"] == "healthy"


def test_db_answers_on_published_port():
    conn = pymysql.connect(
        host="127.0.0.1", port=DB_PORT, user="magento", password="magento", database="magento"
    )
    with conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_app_answers_http(host):
    out = host.check_output(
        f"python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{APP_PORT}/').status)\""
    )
    assert out.strip() == "200"


@pytest.mark.parametrize("port", [DB_PORT, APP_PORT])
def test_ports_bound_to_loopback_only(host, port):
    listeners = [s for s in host.socket.get_listening_sockets() if s.endswith(f":{port}")]
    assert listeners, f"nothing listens on port {port}"
    assert all(s.startswith(("tcp://127.0.0.1:", "tcp://[::1]:")) for s in listeners), listeners
