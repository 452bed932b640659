#!/usr/bin/python
"""Ansible module: one run per integration at a time (a MariaDB advisory lock held across tasks)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: magento_run_lock
short_description: Hold a MariaDB advisory lock for one integration across a run's tasks
description:
    - With O(state=present), takes C(GET_LOCK) named after the store's DB, its table prefix and
      O(integration), waiting at most O(wait) seconds; a second run on the same integration fails then,
      naming the run that holds it (its MariaDB connection, user, host and age, and the run id from the
      SQL comment it sleeps with).
    - The lock belongs to a DB connection, so a small detached process keeps that connection until
      O(state=absent) ends it, its O(state_file) disappears, or O(lease) seconds pass (a run killed
      without releasing frees it at the latest then, or at once with C(KILL <connection id>)).
    - Repeating O(state=present) with the same O(run_id) while the lock is held is a no-op.
    - What a human does in the Admin meanwhile is not locked out. A click on Activate or Reauthorize
      during a run posts a second verifier, and the run may finish with tokens that this click already
      replaced. Rerun after the click.
version_added: "0.2.0"
author: reintegrate
requirements:
    - pymysql (Debian python3-pymysql) on the host the module runs on
    - docker (the Docker SDK for Python) on the control node, only for O(runner=docker)
extends_documentation_fragment:
    - magento_site
options:
    integration:
        description: Integration name; the lock is this store's and this integration's.
        type: str
        required: true
    state:
        description: C(present) takes (or keeps) the lock; C(absent) releases it.
        type: str
        choices: [present, absent]
        default: present
    run_id:
        description: Identifies this run; a lock held under the same id is this run's own.
        type: str
        required: true
    state_file:
        description: File (0600, folder 0700) where the holder's connection id is kept while it holds.
        type: path
        required: true
    wait:
        description: Seconds to wait for a lock another run holds.
        type: int
        default: 120
    lease:
        description: Seconds after which the holder ends by itself.
        type: int
        default: 3600
attributes:
    check_mode:
        description: Can run in check_mode and return changed status prediction without modifying target.
        support: full
        details: Reports whether the lock is free and who holds it; takes and releases nothing.
    diff_mode:
        description: Will return details on what has changed (or possibly needs changing in check_mode).
        support: none
notes:
    - Supports check mode.
"""

EXAMPLES = r"""
- name: Take the run lock before the first destructive step
  magento_run_lock:
    integration: Acme Sync
    run_id: "{{ run_id }}"
    state_file: .backups/sandbox/.run-lock-acme-sync.json
    container: reintegrate-app

- name: Release it
  magento_run_lock:
    integration: Acme Sync
    run_id: "{{ run_id }}"
    state_file: .backups/sandbox/.run-lock-acme-sync.json
    state: absent
    container: reintegrate-app
"""

RETURN = r"""
lock:
    description: The lock's name (at most 64 characters).
    returned: always
    type: str
held:
    description: Whether this run holds the lock after the task (in check mode, whether it would).
    returned: always
    type: bool
connection_id:
    description: The MariaDB connection that holds it for this run.
    returned: when held
    type: int
holder:
    description: In check mode or on failure, who holds the lock (connection_id, user, host, seconds, run).
    returned: when another run holds it
    type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.magento_common import (
    SITE_REQUIRED_IF,
    ModuleFailure,
    exit_from,
    fail_from,
    site_argument_spec,
    site_params,
)
from ansible.module_utils.magento_db import connection_kwargs, database_for
from ansible.module_utils.magento_requirements import ALL_SITE_LIBRARIES, require_libraries
from ansible.module_utils.magento_run_lock import acquire, holder_of, is_free, lock_name, release
from ansible.module_utils.magento_site import site_from_params


def argument_spec() -> dict:
    spec = site_argument_spec()
    spec.update(
        integration={"type": "str", "required": True},
        state={"type": "str", "default": "present", "choices": ["present", "absent"]},
        run_id={"type": "str", "required": True},
        state_file={"type": "path", "required": True},
        wait={"type": "int", "default": 120},
        lease={"type": "int", "default": 3600},
    )
    return spec


def run(p: dict, check_mode: bool) -> dict:
    if p["wait"] < 0 or p["lease"] <= 0:
        raise ModuleFailure("wait must be >= 0 and lease > 0 seconds: fix them")
    sp = site_params(p)
    env = site_from_params(sp).env()
    name = lock_name(env.db_name, env.table_prefix, p["integration"])
    with database_for(env, sp) as db:
        if check_mode:
            free = is_free(db, name)
            return {
                "changed": free == (p["state"] == "present"),
                "lock": name,
                "held": False,
                "holder": None if free else holder_of(db, name),
            }
        if p["state"] == "absent":
            return {"lock": name, **release(db, p["state_file"], p["run_id"])}
        kwargs = connection_kwargs(env, sp.db_host, sp.db_port, ssl=sp.db_ssl())
        return acquire(db, kwargs, name, p["state_file"], p["run_id"], p["wait"], p["lease"])


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(), required_if=SITE_REQUIRED_IF, supports_check_mode=True
    )
    require_libraries(module, "magento_run_lock", ALL_SITE_LIBRARIES)
    try:
        result = run(module.params, module.check_mode)
    except ModuleFailure as exc:
        fail_from(module, exc, changed=False)
    exit_from(module, result)


if __name__ == "__main__":
    main()
