"""magento_cli secret_args: a secret passed to bin/magento is set, and never shown (also at -vvv)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from conftest import ROOT, VENV_BIN

pytestmark = pytest.mark.docker

# A path some system.xml declares: real Magento's config:set refuses any other ('The "..." path doesn't
# exist. Verify and try again.', rc 1). Store Name (Magento_Backend, a plain text field): what was there is
# put back afterwards.
PATH = "general/store_information/name"


def _config(db: Any) -> str | None:
    with db.cursor() as cur:
        cur.execute("SELECT value FROM core_config_data WHERE path=%s", (PATH,))
        row = cur.fetchone()
    return row["value"] if row else None


def test_a_secret_argument_is_set_but_never_shown(
    site_args: dict[str, Any], run_module: Any, db: Any
) -> None:
    first, second = f"S3cret-{uuid.uuid4().hex}", f"S3cret-{uuid.uuid4().hex}"
    kept = _config(db)
    try:
        args = {**site_args, "command": "config:set", "args": [PATH, first], "secret_args": [1]}
        result = run_module("magento_cli", args)
        assert not result.get("failed"), result.get("msg")
        assert _config(db) == first
        assert first not in json.dumps(result)
        assert result["cmd"] == ["config:set", PATH, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"]
        # -vvv with the default callback; the previous value (the first secret) is masked as well.
        env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
        args = {**site_args, "command": "config:set", "args": [PATH, second], "secret_args": [1]}
        proc = subprocess.run(
            [
                str(VENV_BIN / "ansible"),
                "localhost",
                "-i",
                "localhost,",
                "-c",
                "local",
                "-e",
                f"ansible_python_interpreter={sys.executable}",
                "-m",
                "magento_cli",
                "-a",
                json.dumps(args),
                "-vvv",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
            check=False,
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-2000:]
        assert _config(db) == second
        assert first not in out and second not in out
    finally:
        with db.cursor() as cur:
            if kept is None:
                cur.execute("DELETE FROM core_config_data WHERE path=%s", (PATH,))
            else:
                cur.execute("UPDATE core_config_data SET value=%s WHERE path=%s", (kept, PATH))


def test_secret_args_outside_args_fail_before_running(
    site_args: dict[str, Any], run_module: Any, db: Any
) -> None:
    kept = _config(db)
    args = {**site_args, "command": "config:set", "args": [PATH, "x"], "secret_args": [2]}
    result = run_module("magento_cli", args)
    assert result["failed"] and "point outside args" in result["msg"]
    assert _config(db) == kept
