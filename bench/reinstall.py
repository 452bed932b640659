"""reintegrate against a hand-written script, side by side on one stack, plus the fleet and purge goals.

    .venv/bin/python bench/reinstall.py [--pairs 3] [--fast] [--codebase DIR] [--skip-fleet] [--skip-purge]
                                        [--keep] [--profile] [--only-fleet]

Default: a fresh realistic twin stack of its own (bench-*, 127.0.0.1:18083, DB 13309; setup:upgrade and
cold Admin pages as slow as a real 2.4.7 store, C8.4). --codebase DIR: the real Magento tree DIR through
the codebase flavor (stack reintegrate-real, playbooks/inventories/codebase; `make up-real` first).

1. forced reinstall: bench/baseline.py (A) and `reinstall_integration.yml -e reintegrate_force=true` (B)
   alternate A B A B ...; each pair's ratio B/A, then the median ratio.
2. converged run (changed=0), median of 5 (this 2-core machine's speed drifts by a third within minutes:
   the one-debug-task floor printed beside it read 0.9 s in one run of this bench and 1.4 s in another).
3. 1, 5 and 10 twin sites at forks 10 (forced run of every site), three rounds: the ratio of the medians
   10-site / 1-site.
4. the scoped purge of one integration in an oauth_token table of 1,000,000 rows over 1,000 consumers:
   seconds, the query plan, and a checksum of every other row before and after.
Ends with the four goals and whether each is met. --profile adds Ansible's per-task times; --only-fleet
runs goal 3 alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
BIN = PROJECT / ".venv" / "bin"
HERE = Path(__file__).resolve().parent
TWIN_INVENTORY = HERE / "inventory.yml"
CODEBASE_INVENTORY = PROJECT / "playbooks" / "inventories" / "codebase" / "hosts.yml"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
LISTENER = "http://127.0.0.1:{{ magento_integration_listen_port }}"
DELETE_BENCH_TOKENS = (
    "DELETE FROM oauth_token WHERE consumer_id IN "
    "(SELECT entity_id FROM oauth_consumer WHERE name LIKE 'bench-%%')"
)
INSERT_TOKENS = (
    "INSERT INTO oauth_token (consumer_id, type, token, secret, verifier, callback_url, revoked, authorized, "
    "user_type, created_at)"
)
CONVERGED_RUNS = 5
GOALS = {"forced_ratio": 0.8, "converged_seconds": 2.5, "fleet_ratio": 3.0, "purge_seconds": 1.0}


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    return time.monotonic() - started, proc


def playbook(inventory: Path, name: str, *extra: str, profile: bool = False) -> tuple[float, dict[str, int]]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    if profile:
        env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks,profile_tasks"
    seconds, proc = run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(PROJECT / "playbooks" / name), *extra], env
    )
    recaps = RECAP.findall(proc.stdout)
    if proc.returncode != 0 or not recaps:
        sys.exit(
            f"{name} {' '.join(extra)} failed (rc={proc.returncode}):\n"
            f"{proc.stdout[-4000:]}{proc.stderr[-2000:]}"
        )
    if profile:
        print(
            "\n".join(line for line in proc.stdout.splitlines() if re.search(r"-{3,} \d+\.\d+s$", line))[
                :4000
            ]
        )
    changed = sum(int(r[2]) for r in recaps)
    return seconds, {"hosts": len(recaps), "changed": changed}


def baseline(site: dict[str, Any]) -> tuple[float, dict[str, float]]:
    argv = [
        str(BIN / "python"),
        str(HERE / "baseline.py"),
        "--base-url",
        site["base_url"],
        "--container",
        site["container"],
        "--db-port",
        str(site["db_port"]),
        "--admin-password",
        site["admin_password"],
        *(["--cli-user", site["cli_user"]] if site.get("cli_user") else []),
    ]
    seconds, proc = run(argv)
    if proc.returncode != 0:
        sys.exit(f"baseline failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_steps(steps: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in steps.items() if k != "total")


def forced_pairs(inventory: Path, site: dict[str, Any], pairs: int, profile: bool) -> float:
    print(f"\n1. forced reinstall, {pairs} pairs A (hand-written script) / B (reintegrate), same stack")
    ratios = []
    for i in range(1, pairs + 1):
        a, steps = baseline(site)
        b, recap = playbook(
            inventory, "reinstall_integration.yml", "-e", "reintegrate_force=true", profile=profile
        )
        ratios.append(b / a)
        print(
            f"   pair {i}: A {a:5.1f} s ({fmt_steps(steps)})   "
            f"B {b:5.1f} s (changed={recap['changed']})   B/A {b / a:.2f}"
        )
    median = statistics.median(ratios)
    print(f"   median B/A {median:.2f}")
    return median


def converged(inventory: Path, profile: bool) -> float:
    print(f"\n2. converged run (changed=0), {CONVERGED_RUNS} runs")
    times = []
    for i in range(1, CONVERGED_RUNS + 1):
        seconds, recap = playbook(inventory, "reinstall_integration.yml", profile=profile and i == 1)
        if recap["changed"]:
            sys.exit(f"the converged run changed {recap['changed']} task(s)")
        times.append(seconds)
        print(f"   run {i}: {seconds:.1f} s")
    median = statistics.median(times)
    print(f"   median {median:.1f} s")
    floor_debug, floor_ping = ansible_floor(inventory)
    print(
        f"   Ansible's own floor here (median of 3): a playbook of one debug task {floor_debug:.1f} s, "
        f"of one ansible.builtin.ping task {floor_ping:.1f} s; the converged run is "
        f"{median - floor_debug:.1f} s above the first"
    )
    return median


def ansible_floor(inventory: Path) -> tuple[float, float]:
    """What any ansible-playbook run costs on this machine and inventory: startup, one task without a
    module, one module task that does nothing. A converged run cannot be faster than these."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, task in (
            ("debug", {"ansible.builtin.debug": {"msg": "floor"}}),
            ("ping", {"ansible.builtin.ping": {}}),
        ):
            book = Path(tmp) / f"{name}.yml"
            book.write_text(
                json.dumps([{"hosts": "magento_sites[0]", "gather_facts": False, "tasks": [task]}])
            )
            times = []
            for _ in range(3):
                env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"))
                seconds, proc = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(book)], env)
                if proc.returncode != 0:
                    sys.exit(f"the {name} floor playbook failed: {proc.stdout[-2000:]}{proc.stderr[-1000:]}")
                times.append(seconds)
            results.append(statistics.median(times))
    return results[0], results[1]


def fleet_inventory(n: int, realistic: bool) -> Path:
    """n twin sites (stacks fleetbench<i>), each with its own listener port in its rendered module spec."""
    hosts: dict[str, Any] = {}
    for i in range(1, n + 1):
        hosts[f"fleetbench{i}"] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "magento_stack_name": f"fleetbench{i}",
            "magento_stack_db_port": 13400 + i,
            "magento_stack_app_port": 18400 + i,
            **({"magento_stack_app_env": {"MAGENTO_TWIN_REALISTIC_TIMING": "1"}} if realistic else {}),
            "magento_integration_container": f"fleetbench{i}-app",
            "magento_integration_base_url": f"http://127.0.0.1:{18400 + i}/",
            "magento_integration_listen_port": 18500 + i,
        }
    site_vars = {
        "magento_integration_project_dir": str(PROJECT),
        "magento_integration_admin_password": "Admin12345!",
        "magento_integration_name": "Acme Sync",
        "magento_integration_module": "Acme_Sync",
        "magento_integration_spec": {
            "integrations": [
                {
                    "name": "Acme Sync",
                    "email": "sync@acme.example",
                    "endpoint_url": LISTENER + "/reintegrate/endpoint",
                    "identity_link_url": LISTENER + "/reintegrate/identity",
                    "resources": ["Magento_Sales::actions_view"],
                }
            ]
        },
    }
    doc = {
        "all": {
            "children": {
                "magento_stacks": {"hosts": {h: {} for h in hosts}},
                "magento_sites": {"hosts": {h: {} for h in hosts}, "vars": site_vars},
            },
            "hosts": hosts,
        }
    }
    path = Path(tempfile.mkdtemp(prefix="reintegrate-fleet-")) / "hosts.json"
    path.write_text(json.dumps(doc))
    return path


def fleet(realistic: bool, keep: bool) -> float:
    print("\n3. fleet: forced run of every site at forks 10")
    times: dict[int, float] = {}
    inventory = fleet_inventory(10, realistic)
    try:
        # Two stores install at a time: ten realistic installs at once on two cores outlast the image's
        # HEALTHCHECK start period (60 s), and a container it marks unhealthy fails up.yml. The goal times
        # the forced runs at forks 10, not the stacks' start.
        seconds, _ = playbook(inventory, "up.yml", "-f", "2", "-e", "magento_stack_health_timeout=900")
        print(f"   10 twin stacks up in {seconds:.0f} s (two at a time)")
        playbook(inventory, "reinstall_integration.yml", "-f", "10")
        runs: dict[int, list[float]] = {1: [], 5: [], 10: []}
        for round_ in range(1, 4):  # 1, 5, 10 sites in turn, three rounds: medians of 3
            for n in runs:
                limit = ",".join(f"fleetbench{i}" for i in range(1, n + 1))
                seconds, recap = playbook(
                    inventory,
                    "reinstall_integration.yml",
                    "-f",
                    "10",
                    "-l",
                    limit,
                    "-e",
                    "reintegrate_force=true",
                )
                runs[n].append(seconds)
                print(
                    f"   round {round_}: {n:2d} site(s) {seconds:5.1f} s "
                    f"({recap['hosts']} hosts, changed={recap['changed']})"
                )
        times = {n: statistics.median(r) for n, r in runs.items()}
        print("   medians: " + ", ".join(f"{n} site(s) {t:.1f} s" for n, t in times.items()))
    finally:
        if not keep:
            playbook(inventory, "down.yml", "-f", "10", "-e", "magento_stack_purge=true")
    ratio = times[10] / times[1]
    print(f"   10-site / 1-site {ratio:.2f}")
    return ratio


def purge(site: dict[str, Any]) -> float:
    """1,000 consumers with 1,000 token rows each (the integration's own consumer among them): the
    module's scoped purge of that one integration, timed, every other row checksummed around it."""
    import pymysql

    print("\n4. scoped purge of one integration, oauth_token of 1,000,000 rows over 1,000 consumers")
    conn = pymysql.connect(
        host="127.0.0.1",
        port=site["db_port"],
        user="magento",
        password="magento",
        database="magento",
        autocommit=True,
    )
    cur = conn.cursor()
    cur.execute("SELECT consumer_id FROM integration WHERE name=%s", (site["integration"],))
    (target,) = cur.fetchone()
    cur.execute("DELETE FROM oauth_consumer WHERE name LIKE 'bench-%%'")
    cur.execute(
        "INSERT INTO oauth_consumer (name, `key`, secret, rejected_callback_url) "
        "SELECT CONCAT('bench-', seq), LPAD(CONCAT('k', seq), 32, 'x'), LPAD(CONCAT('s', seq), 32, 'y'), '' "
        "FROM seq_1_to_999"
    )
    cur.execute("SELECT entity_id FROM oauth_consumer WHERE name LIKE 'bench-%%' OR entity_id=%s", (target,))
    consumers = [r[0] for r in cur.fetchall()]
    cur.execute(DELETE_BENCH_TOKENS)
    started = time.monotonic()
    cur.execute("CREATE TEMPORARY TABLE bench_consumers (i INT PRIMARY KEY, id INT)")
    cur.executemany("INSERT INTO bench_consumers VALUES (%s, %s)", list(enumerate(consumers)))
    # Each consumer gets 1,000 rows (the target's existing rows count toward its own 1,000).
    cur.execute(
        f"{INSERT_TOKENS} SELECT c.id, 'access', MD5(CONCAT(c.id, '-', s.seq)), MD5(s.seq), '', 'oob', "
        "0, 0, 1, NOW() "
        "FROM bench_consumers c JOIN seq_1_to_1000 s WHERE c.id <> %s",
        (target,),
    )
    cur.execute(
        f"{INSERT_TOKENS} SELECT %s, 'request', MD5(CONCAT('t-', seq)), MD5(seq), '', 'oob', 0, 0, 1, NOW() "
        "FROM seq_1_to_999",
        (target,),
    )
    cur.execute("SELECT COUNT(*) FROM oauth_token")
    (total,) = cur.fetchone()
    print(f"   {total:,} rows in oauth_token ({time.monotonic() - started:.0f} s to fill)")
    checksum = (
        "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', entity_id, consumer_id, type, token, secret, "
        "revoked))) "
        "FROM oauth_token WHERE consumer_id <> %s"
    )
    cur.execute(checksum, (target,))
    before = cur.fetchone()
    cur.execute("EXPLAIN DELETE FROM oauth_token WHERE consumer_id = %s", (target,))
    plan = cur.fetchone()
    # The module's own work, in this process (connect, read under lock, back up, delete in one
    # transaction, commit): what magento_oauth_tokens state=absent runs, without Ansible's start-up.
    import ansible.module_utils

    ansible.module_utils.__path__.append(str(PROJECT / "module_utils"))
    from ansible.module_utils.magento_cleanup import remove_oauth_rows
    from ansible.module_utils.magento_common import SiteParams

    params = SiteParams(
        runner="docker", container=site["container"], db_host="127.0.0.1", db_port=site["db_port"]
    )
    started = time.monotonic()
    result = remove_oauth_rows(
        params,
        site["integration"],
        "integration",
        False,
        tempfile.mkdtemp(prefix="reintegrate-bench-backup-"),
        False,
    )
    purge_seconds = time.monotonic() - started
    cur.execute(checksum, (target,))
    after = cur.fetchone()
    cur.execute("SELECT COUNT(*) FROM oauth_token WHERE consumer_id = %s", (target,))
    (left,) = cur.fetchone()
    cur.execute(DELETE_BENCH_TOKENS)
    cur.execute("DELETE FROM oauth_consumer WHERE name LIKE 'bench-%%'")
    conn.close()
    print(f"   plan: {plan}")
    print(f"   the module's purge: {purge_seconds:.2f} s ({result['removed']} removed, backup written)")
    print(
        f"   other rows: {before[0]:,} rows, checksum {before[1]} before, "
        f"{after[0]:,} rows, checksum {after[1]} after;"
        f" {left} row(s) of the integration left"
    )
    if before != after or left:
        sys.exit("the purge touched other rows or left some of its own")
    return purge_seconds


def site_for(codebase: bool) -> dict[str, Any]:
    if codebase:
        return {
            "base_url": "http://127.0.0.1:8180/",
            "container": "reintegrate-real-app",
            "db_port": 3307,
            "admin_password": "Admin12345!",
            "cli_user": "magento",
            "integration": "Acme Sync",
        }
    return {
        "base_url": "http://127.0.0.1:18083/",
        "container": "bench-app",
        "db_port": 13309,
        "admin_password": "Admin12345!",
        "integration": "Acme Sync",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--fast", action="store_true", help="the twin's fast timings instead of a real store's")
    ap.add_argument("--codebase", metavar="DIR", help="a real Magento tree through the codebase flavor")
    ap.add_argument("--skip-fleet", action="store_true")
    ap.add_argument("--skip-purge", action="store_true")
    ap.add_argument("--only-fleet", action="store_true", help="the fleet goal alone (no bench stack)")
    ap.add_argument("--keep", action="store_true", help="leave the bench stacks running")
    ap.add_argument("--profile", action="store_true", help="print Ansible's per-task times")
    args = ap.parse_args()
    realistic = not args.fast
    site = site_for(bool(args.codebase))
    results: dict[str, float | None] = dict.fromkeys(GOALS)
    if args.only_fleet:
        print(f"bench/reinstall.py: twin fleet only, {'realistic (C8.4)' if realistic else 'fast'} timings")
        results["fleet_ratio"] = fleet(realistic, args.keep)
        print_goals(results)
        return
    if args.codebase:
        os.environ["MAGENTO_CODEBASE"] = args.codebase
        inventory = CODEBASE_INVENTORY
        print(f"bench/reinstall.py: real tree {args.codebase} (stack reintegrate-real)")
        seconds, _ = playbook(inventory, "up.yml")
    else:
        inventory = TWIN_INVENTORY
        print(f"bench/reinstall.py: twin, {'realistic (C8.4)' if realistic else 'fast'} timings")
        stack_env = [
            "-e",
            json.dumps(
                {"magento_stack_app_env": {"MAGENTO_TWIN_REALISTIC_TIMING": "1" if realistic else "0"}}
            ),
        ]
        playbook(inventory, "down.yml", "-e", "magento_stack_purge=true")
        seconds, _ = playbook(inventory, "up.yml", *stack_env)
        print(f"   stack up (fresh volumes) {seconds:.1f} s")
    seconds, recap = playbook(inventory, "reinstall_integration.yml")
    print(f"   first run {seconds:.1f} s (changed={recap['changed']})")
    try:
        results["forced_ratio"] = forced_pairs(inventory, site, args.pairs, args.profile)
        results["converged_seconds"] = converged(inventory, args.profile)
        if not args.skip_purge:
            results["purge_seconds"] = purge(site)
        if not args.skip_fleet and not args.codebase:
            results["fleet_ratio"] = fleet(realistic, args.keep)
    finally:
        if not args.keep and not args.codebase:
            playbook(inventory, "down.yml", "-e", "magento_stack_purge=true")
    print_goals(results)


def print_goals(results: dict[str, float | None]) -> None:
    print("\ngoals")
    labels = {
        "forced_ratio": ("forced reinstall / hand-written script", "{:.2f}", "<="),
        "converged_seconds": ("converged run, seconds", "{:.1f}", "<="),
        "fleet_ratio": ("10 sites / 1 site at forks 10", "{:.2f}", "<="),
        "purge_seconds": ("scoped purge among 1M rows, seconds", "{:.2f}", "<="),
    }
    for key, goal in GOALS.items():
        label, form, op = labels[key]
        value = results[key]
        verdict = "not run" if value is None else ("met" if value <= goal else "NOT met")
        shown = "-" if value is None else form.format(value)
        print(f"   {label:42} {shown:>6}  goal {op} {goal}   {verdict}")


if __name__ == "__main__":
    main()
