"""The collection reintegrate.magento as a user gets it: built, installed with ansible-galaxy into a
temporary collections path, and used from a folder that has no ansible.cfg of this project.

Fixtures:
    tarball      the built collection: $REINTEGRATE_COLLECTION_TARBALL (make test-collection builds it
                 first), else built here with scripts/build_collection.py
    installed    the collections path it was installed into (ansible-galaxy collection install -p)
    user_env     os.environ without ANSIBLE_* (no ANSIBLE_CONFIG, no library path), with
                 ANSIBLE_COLLECTIONS_PATH = that path; run commands with cwd=user_dir
    user_dir     an empty folder (no ansible.cfg) to run them in
    ansible(*argv, timeout) -> CompletedProcess   a venv command (ansible-doc, ansible-playbook ...) run so
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from collection_support import ROOT, VENV_BIN


@pytest.fixture(scope="session")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    given = os.environ.get("REINTEGRATE_COLLECTION_TARBALL")
    if given:
        path = (ROOT / given).resolve()
        assert path.is_file(), f"{path} does not exist: make collection builds it"
        return path
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_collection.py"), "--output-dir", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return pathlib.Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def user_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("user-project")
    assert not (path / "ansible.cfg").exists()
    return path


@pytest.fixture(scope="session")
def installed(tarball: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("collections")
    # Isolated too: ansible-galaxy counts a reintegrate.magento in any configured path
    # (~/.ansible/collections, say) as installed and answers "Nothing to do" without writing here.
    env = _isolated_env(path)
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=path,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (path / "ansible_collections" / "reintegrate" / "magento" / "MANIFEST.json").is_file()
    return path


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    )
    return env


def _isolated_env(collections: pathlib.Path) -> dict[str, str]:
    env = _clean_env()
    # Only the temporary path: the collection cannot come from anywhere else (the checkout's library/,
    # ~/.ansible/collections). The ansible wheel's own collections stay reachable, as for any user.
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    env["HOME"] = str(collections)  # no ~/.ansible.cfg, no ~/.ansible/collections of this machine
    return env


@pytest.fixture(scope="session")
def user_env(installed: pathlib.Path) -> dict[str, str]:
    return _isolated_env(installed)


@pytest.fixture(scope="session")
def ansible(
    user_env: dict[str, str], user_dir: pathlib.Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*argv: str, timeout: int = 300, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / argv[0]), *argv[1:]],
            capture_output=True,
            text=True,
            env={**user_env, **kwargs.pop("env", {})},
            cwd=kwargs.pop("cwd", user_dir),
            timeout=timeout,
            check=False,
            **kwargs,
        )

    return run
