"""The setup scripts a bare machine runs first (make setup): apt waits for the package manager's lock,
bounded and saying so, and updates the package lists before any install; ensure-venv prints no traceback.

The lock tests hold a lock file of their own open in a child process (REINTEGRATE_APT_LOCKS points
apt-lib.sh at it), as unattended-upgrades holds dpkg's on a fresh cloud machine; apt-get is a stand-in on
PATH that records its arguments.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB = ROOT / "scripts" / "apt-lib.sh"


def run_lib(
    tmp_path: pathlib.Path, snippet: str, timeout: int, **env: str
) -> subprocess.CompletedProcess[str]:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    fake = bindir / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "apt-get $*" >> {tmp_path}/apt.log\n')
    fake.chmod(0o755)
    script = f'set -euo pipefail\nsay() {{ printf "[test] %s\\n" "$*"; }}\n. {LIB}\n{snippet}\n'
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={
            **os.environ,
            "PATH": f"{bindir}:{os.environ['PATH']}",
            "REINTEGRATE_APT_LOCKS": str(tmp_path / "lock-frontend"),
            **env,
        },
    )


def hold_lock(tmp_path: pathlib.Path, seconds: float) -> subprocess.Popen[bytes]:
    lock = tmp_path / "lock-frontend"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import time; f = open({str(lock)!r}, 'w'); time.sleep({seconds})"]
    )
    deadline = time.time() + 10
    while not any(
        os.path.exists(f"/proc/{holder.pid}/fd/{fd}")
        and os.readlink(f"/proc/{holder.pid}/fd/{fd}") == str(lock)
        for fd in os.listdir(f"/proc/{holder.pid}/fd")
    ):
        assert time.time() < deadline, "the holder did not open the lock file"
        time.sleep(0.05)
    return holder


def test_a_held_lock_is_waited_for_and_then_the_lists_are_updated_before_the_install(tmp_path) -> None:
    holder = hold_lock(tmp_path, 3)
    try:
        started = time.monotonic()
        proc = run_lib(tmp_path, "apt_install debootstrap", timeout=60, REINTEGRATE_APT_LOCK_TIMEOUT="30")
        waited = time.monotonic() - started
    finally:
        holder.kill()
    assert proc.returncode == 0, proc.stderr
    assert "waiting up to 30s for the package manager: python" in proc.stdout
    assert f"(pid {holder.pid}, {tmp_path}/lock-frontend) holds its lock" in proc.stdout
    assert "the package manager is free after" in proc.stdout
    assert waited >= 2
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls == [
        "apt-get -o DPkg::Lock::Timeout=30 update -qq",
        "apt-get -o DPkg::Lock::Timeout=30 install -y -qq debootstrap",
    ]


def test_a_lock_held_past_the_timeout_fails_naming_the_holder_and_installs_nothing(tmp_path) -> None:
    holder = hold_lock(tmp_path, 60)
    try:
        proc = run_lib(tmp_path, "apt_install docker.io", timeout=60, REINTEGRATE_APT_LOCK_TIMEOUT="2")
    finally:
        holder.kill()
    assert proc.returncode == 1
    # The holder's command name: python3 or python, as the test runner's interpreter is named.
    assert re.search(rf"gave up after 2s: python[0-9.]* \(pid {holder.pid},", proc.stderr), proc.stderr
    assert "REINTEGRATE_APT_LOCK_TIMEOUT=SECONDS waits longer" in proc.stderr
    assert not (tmp_path / "apt.log").exists()


def test_a_free_package_manager_is_not_waited_for(tmp_path) -> None:
    proc = run_lib(tmp_path, "apt_install --no-install-recommends php-cli", timeout=60)
    assert proc.returncode == 0 and "waiting" not in proc.stdout
    assert (tmp_path / "apt.log").read_text().splitlines()[0].endswith("update -qq")


def test_every_setup_script_installs_through_apt_lib() -> None:
    scripts = [*ROOT.glob("scripts/ensure-*.sh")]
    assert len(scripts) >= 4
    for script in scripts:
        text = script.resolve().read_text()
        calls = re.findall(r"(?m)^\s*(?:\w+=\S+\s+)*apt-get\b.*\b(?:install|update)\b", text)
        assert not calls, f"{script.name} runs apt-get itself: {calls}"
        if "apt_install" in text:
            assert "apt-lib.sh" in text


def test_ensure_venv_prints_the_version_without_a_broken_pipe() -> None:
    """`ansible --version | head -1` under pipefail made ansible print a BrokenPipeError traceback."""
    text = (ROOT / "scripts" / "ensure-venv.sh").read_text()
    assert not re.search(r"--version\s*\|\s*head", text)
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f"set -euo pipefail; cd {ROOT}; "
            "eval \"$(sed -n '/^ansible_version()/p' scripts/ensure-venv.sh)\"; "
            "for i in 1 2 3 4 5; do ansible_version; done",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("ansible [core 2.")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
