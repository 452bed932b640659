"""The DB reached the ways a store's env.php or its operator may say, against the live stack (reads only).

A DB host that contains "/" is a socket path, as Magento reads it: magento_site_info connects through a
Unix socket (here a relay in this test to the stack's MariaDB, since the real socket lives inside its
container) and reads the store. A socket that is not there fails naming it. db_ca_cert turns TLS on:
against this MariaDB, which has TLS disabled, the failure says TLS, not "start the DB". And a failing
preflight prints its cause, without Ansible's deprecation of warnings passed to fail_json.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def socket_relay(path: Path, host: str, port: int) -> Iterator[list[int]]:
    """A Unix socket at ``path`` whose every connection is piped to host:port; yields the count of them."""
    accepted: list[int] = []
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(8)
    server.settimeout(0.5)
    stop = threading.Event()

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(1)
            upstream = socket.create_connection((host, port), timeout=10)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield accepted
    finally:
        stop.set()
        thread.join(5)
        server.close()


def test_a_socket_path_as_db_host_connects_through_the_socket(
    run_module, site_args: dict[str, Any], stack: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "mysqld.sock"
    with socket_relay(path, stack["db_host"], stack["db_port"]) as accepted:
        result = run_module("magento_site_info", {**site_args, "db_host": str(path), "fail_on": "connection"})
    assert not result.get("failed"), result.get("msg")
    assert result["checks"]["db"]["ok"] is True
    assert result["checks"]["db"]["host"] == str(path)
    assert accepted, "the module did not connect through the socket"
    assert isinstance(result["integrations"], list)


def test_a_socket_that_is_not_there_is_named(run_module, site_args: dict[str, Any], tmp_path: Path) -> None:
    missing = tmp_path / "no.sock"
    result = run_module("magento_site_info", {**site_args, "db_host": str(missing)})
    assert result.get("failed")
    assert (
        f"DB socket {missing}" in result["msg"]
        and "does not exist on the host the module runs on" in result["msg"]
    )


def test_db_tls_against_a_server_without_tls_says_tls(run_module, site_args: dict[str, Any]) -> None:
    result = run_module(
        "magento_site_info", {**site_args, "db_ca_cert": "/etc/ssl/certs/ca-certificates.crt"}
    )
    assert result.get("failed")
    assert "(TLS failed: SSL is required but the server doesn't support it)" in result["msg"], result["msg"]
    assert "turn TLS on in the DB server, or fix db_ca_cert" in result["msg"]


def test_a_failing_preflight_prints_no_deprecation(site_args: dict[str, Any]) -> None:
    """The failure's gathered warnings go through module.warn: ansible-core 2.19 deprecates a "warnings"
    key in fail_json and printed "Passing `warnings` to `exit_json` or `fail_json` is deprecated"."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    args = {**site_args, "base_url": "http://127.0.0.1:1/"}
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible"),
            "localhost",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-m",
            "magento_site_info",
            "-a",
            json.dumps(args),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
        check=False,
        env={**os.environ, "ANSIBLE_CONFIG": str(root / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"},
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "start the store" in out, out[-2000:]
    assert "deprecated" not in out.lower(), out[-2000:]
