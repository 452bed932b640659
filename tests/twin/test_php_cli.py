"""C1.2: a store's container has a PHP CLI beside bin/magento, and reintegrate reads env.php through it
(module_utils/magento_env_php.py: PHP_ENV_JSON). The twin's stand-in must print what a real 2.4.7 store's PHP
printed for the same env.php (recording site/env_php_json.json), and fail as PHP does otherwise."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from ansible.module_utils.magento_env_php import PHP_ENV_JSON, env_config_from_php_json
from recordings import data, text
from twin_support import Stack

PHP = ["php", "-d", "display_errors=stderr", "-d", "log_errors=0", "-r"]


def put(stack: Stack, path: str, content: bytes) -> None:
    folder, name = path.rsplit("/", 1)
    stack.container.exec_run(["mkdir", "-p", folder])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    assert stack.container.put_archive(folder, buf.getvalue())


def test_c1_2_php_prints_env_php_as_the_real_store_printed_it(stack: Stack) -> None:
    recorded = data("site/env_php_json.json")
    put(stack, "/var/www/html/var/php-fidelity/app/etc/env.php", text("site/env.php").encode())
    res = stack.container.exec_run([*PHP, PHP_ENV_JSON], workdir="/var/www/html/var/php-fidelity", demux=True)
    out, err = res.output
    assert res.exit_code == recorded["rc"] == 0, err
    assert json.loads(out) == json.loads(recorded["stdout"])
    assert env_config_from_php_json(out.decode()) == env_config_from_php_json(recorded["stdout"])


def test_c1_2_php_reads_the_twins_own_env_php(stack: Stack) -> None:
    res = stack.exec(*PHP, PHP_ENV_JSON)
    assert res.rc == 0, res.err
    assert json.loads(res.out)["backend"]["frontName"]


@pytest.mark.parametrize(
    ("code", "rc"),
    [('echo json_encode(require "app/etc/missing.php");', 255), ("echo 1;", 1)],
)
def test_c1_2_php_fails_on_a_missing_file_or_another_program(stack: Stack, code: str, rc: int) -> None:
    res = stack.exec(*PHP, code)
    assert res.rc == rc
    assert res.out == ""
    assert res.err.strip()
