"""magento_cli against the live stack when module:enable/module:disable cannot empty generated/.

Both commands delete generated/code as bin/magento starts (2.4.7-p3 CompilerPreparation; module:enable
again after writing config.php). A web request that generates a class there meanwhile makes the delete
fail: rc 1, `The directory "/var/www/html/generated/code/..." cannot be deleted Warning!rmdir(...):
Directory not empty` on stdout. On the real codebase stack, whose healthcheck requests the store every
5 s, three module:enable/disable calls of one test run failed that way. The collision is made certain
here by a cli_command that prints Magento's text and exits 1 for its first N calls, then runs
bin/magento.
"""

from __future__ import annotations

import io
import tarfile
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from magento_exec import MAGENTO_ROOT, magento_exec

MODULE = "Itest_GeneratedBusy"
WORK = "/tmp/reintegrate-itest-generated"  # noqa: S108 (inside the app container, made afresh)
BUSY_TEXT = (
    'The directory "/var/www/html/generated/code/Magento/Framework" cannot be deleted '
    "Warning!rmdir(/var/www/html/generated/code/Magento/Framework): Directory not empty"
)
WRAPPER = textwrap.dedent(
    f"""\
    #!/bin/sh
    # bin/magento whose first $BUSY_RUNS calls collide with a request generating classes.
    count=$(cat {WORK}/count 2>/dev/null || echo 0)
    echo $((count + 1)) > {WORK}/count
    if [ "$count" -lt "$(cat {WORK}/busy_runs)" ]; then
        echo '{BUSY_TEXT}'
        exit 1
    fi
    exec bin/magento "$@"
    """
)
MODULE_FILES = {
    "registration.php": (
        "<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\n\n"
        f"ComponentRegistrar::register(ComponentRegistrar::MODULE, '{MODULE}', __DIR__);\n"
    ),
    "etc/module.xml": f'<?xml version="1.0"?>\n<config><module name="{MODULE}"/></config>\n',
}


def _tar(files: dict[str, str], prefix: str, mode: int = 0o644) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{prefix}/{rel}" if prefix else rel)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def busy(stack: dict[str, Any]) -> Iterator[Any]:
    """A fresh module in app/code (not in config.php yet) and the colliding cli_command; ``busy(n)``
    makes its next n calls collide."""
    import docker

    container = docker.from_env().containers.get(stack["container"])
    user = stack["cli_user"]
    container.exec_run(["sh", "-c", f"rm -rf {WORK} && mkdir -m 1777 {WORK}"])
    assert container.put_archive(WORK, _tar({"magento": WRAPPER}, "", mode=0o755))
    assert container.put_archive(f"{MAGENTO_ROOT}/app/code", _tar(MODULE_FILES, "Itest/GeneratedBusy"))

    def set_busy(runs: int) -> None:
        # As the user the wrapper runs as, so it can write the count.
        cmd = f"echo {runs} > {WORK}/busy_runs && echo 0 > {WORK}/count"
        assert container.exec_run(["sh", "-c", cmd], user=user).exit_code == 0

    set_busy(0)
    yield set_busy
    magento_exec(container, "module:disable", MODULE, user=user)
    container.exec_run(["rm", "-rf", f"{MAGENTO_ROOT}/app/code/Itest/GeneratedBusy", WORK])


def _status(run_module, site_args: dict[str, Any]) -> str:
    r = run_module("magento_cli", {**site_args, "command": "module:status", "args": [MODULE]})
    assert not r.get("failed"), r
    return r["stdout"]


def test_module_enable_colliding_with_a_request_is_run_again(run_module, site_args, busy) -> None:
    args = {**site_args, "cli_command": [f"{WORK}/magento"]}
    busy(1)
    r = run_module("magento_cli", {**args, "command": "module:enable", "args": [MODULE]})
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True and r["modules_enabled"] == [MODULE]
    # At least the one forced collision; on a real store a web request can add a real one.
    assert [x["cmd"] for x in r["retried"]] == ["module:enable"] and r["retried"][0]["attempts"] >= 2
    assert "Module is enabled" in _status(run_module, site_args)


def test_module_disable_that_keeps_colliding_fails_naming_the_cause(run_module, site_args, busy) -> None:
    args = {**site_args, "cli_command": [f"{WORK}/magento"]}
    r = run_module("magento_cli", {**args, "command": "module:enable", "args": [MODULE]})
    assert not r.get("failed"), r.get("msg")
    busy(99)
    r = run_module("magento_cli", {**args, "command": "module:disable", "args": [MODULE]})
    assert r.get("failed") is True
    assert "could not delete /var/www/html/generated/code/Magento/Framework" in r["msg"], r["msg"]
    assert "maintenance mode" in r["msg"] and "(run 4 times)" in r["msg"]
    assert "Module is enabled" in _status(run_module, site_args)
