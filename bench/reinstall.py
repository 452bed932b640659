"""Wall time of reinstall_integration.yml on a fresh twin stack: first run, second run (must be
changed=0), forced run, and a forced run per activation mode (admin vs cli).

    .venv/bin/python bench/reinstall.py [--realistic] [--keep]

--realistic starts the twin with MAGENTO_TWIN_REALISTIC_TIMING=1 (setup:upgrade and Admin pages as
slow as on a real 2.4.7 store, contract C8.4). Prints one line per run with its recap and seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BIN = PROJECT / ".venv" / "bin"
INVENTORY = Path(__file__).with_name("inventory.yml")
RECAP = re.compile(r"^bench\s+: (ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=\d+)", re.M)


def playbook(name: str, *extra: str) -> tuple[float, str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    start = time.monotonic()
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(PROJECT / "playbooks" / name), *extra],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - start
    match = RECAP.search(proc.stdout)
    if proc.returncode != 0 or not match:
        sys.exit(
            f"{name} {' '.join(extra)} failed (rc={proc.returncode}):\n"
            f"{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        )
    return seconds, match.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realistic", action="store_true", help="twin with real-store timings (C8.4)")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = parser.parse_args()
    stack_env = (
        ["-e", '{"magento_stack_app_env": {"MAGENTO_TWIN_REALISTIC_TIMING": "1"}}'] if args.realistic else []
    )

    print(f"bench/reinstall.py: twin timings {'realistic (C8.4)' if args.realistic else 'fast (default)'}")
    playbook("down.yml", "-e", "magento_stack_purge=true")
    seconds, recap = playbook("up.yml", *stack_env)
    print(f"{'stack up (fresh volumes)':34} {seconds:6.1f} s   {recap}")
    force = ("-e", "reintegrate_force=true")
    runs = [("first run", ()), ("second run (converged)", ()), ("forced run", force)]
    for round_ in ("", " (again)"):
        for mode in ("admin", "cli"):
            runs.append(
                (
                    f"forced, activation={mode}{round_}",
                    (*force, "-e", f"magento_integration_activation={mode}"),
                )
            )
    for label, extra in runs:
        seconds, recap = playbook("reinstall_integration.yml", *extra)
        print(f"{label:34} {seconds:6.1f} s   {recap}")
    if not args.keep:
        playbook("down.yml", "-e", "magento_stack_purge=true")


if __name__ == "__main__":
    main()
