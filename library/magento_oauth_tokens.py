#!/usr/bin/python
"""Ansible module: delete (or restore) the OAuth token and nonce rows of ONE integration's consumer."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: magento_oauth_tokens
short_description: Delete the oauth_token and oauth_nonce rows of one Magento integration
description:
    - With O(state=absent), deletes the C(oauth_token) and C(oauth_nonce) rows of the consumer of the
      integration named O(integration), in one transaction, after writing them to a JSON backup
      (folder 0700, file 0600) in O(backup_dir).
    - Run it BEFORE activating. A leftover request or access row next to the new verifier wedges the
      consumer, and deleting after activation deletes the fresh verifier too (contract C6.6).
    - O(scope=all) deletes the rows of every consumer (the seed article's C(DELETE FROM oauth_token)); it
      also logs out every other integration and OAuth app, so it needs
      O(i_know_this_deletes_every_token=true).
    - Token values are never returned or shown in a diff, only counts and token types.
    - With O(state=present) and O(restore_from), puts the rows of a backup this module wrote back (only
      rows that are missing).
version_added: "0.1.0"
author: reintegrate
requirements:
    - pymysql (Debian python3-pymysql) on the host the module runs on
    - docker (the Docker SDK for Python) on the control node, only for O(runner=docker)
extends_documentation_fragment:
    - magento_site
    - magento_site.run_lock
options:
    integration:
        description:
            - Integration name (C(integration.name), as in the Admin grid).
            - Required with O(scope=integration).
        type: str
    state:
        description: C(absent) deletes the rows; C(present) restores them from O(restore_from).
        type: str
        choices: [absent, present]
        default: absent
    scope:
        description: C(integration) touches one consumer; C(all) every consumer.
        type: str
        choices: [integration, all]
        default: integration
    i_know_this_deletes_every_token:
        description: Confirms O(scope=all).
        type: bool
        default: false
    backup_dir:
        description:
            - Folder for the JSON backup of the deleted rows.
            - Required with O(state=absent) outside check mode.
        type: path
    backup_keep:
        description:
            - How many of this integration's token backups to keep in O(backup_dir);
              older ones are deleted after a new one is written. C(0) keeps them all.
        type: int
        default: 20
    restore_from:
        description: A backup file written by this module. Required with O(state=present).
        type: path
notes:
    - Supports check mode (counts what would go; writes nothing) and diff mode (counts, never token values).
"""

EXAMPLES = r"""
- name: Purge the tokens of Acme Sync before activating it again
  magento_oauth_tokens:
    integration: Acme Sync
    backup_dir: "{{ playbook_dir }}/../.backups/{{ inventory_hostname }}"
    container: reintegrate-app
    db_host: 127.0.0.1
    db_port: 3306

- name: The seed article's DELETE FROM oauth_token (every integration loses its tokens)
  magento_oauth_tokens:
    scope: all
    i_know_this_deletes_every_token: true
    backup_dir: .backups/site1
    container: reintegrate-app
"""

RETURN = r"""
run_lock:
    description: The run lock taken with O(run_lock) (lock, connection_id, held, changed).
    returned: when O(run_lock) is given outside check mode
    type: dict
integration:
    description: The integration name.
    returned: always
    type: str
consumer_id:
    description:
        - The integration's C(oauth_consumer.entity_id).
        - Null with O(scope=all) or when it has no consumer.
    returned: always
    type: int
removed:
    description: Rows deleted (or, in check mode, that would be deleted) per table.
    returned: state=absent
    type: dict
    sample: {"oauth_token": 1, "oauth_nonce": 3}
token_types:
    description: The C(type) of each deleted token row (verifier, request, access).
    returned: state=absent
    type: list
    elements: str
backup:
    description: Path of the JSON backup (0600; it holds token values) or null.
    returned: always
    type: str
restored:
    description: Rows inserted per table by O(state=present).
    returned: state=present
    type: dict
status_restored:
    description:
        - Whether O(state=present) set the integration active again, as the backup found it (an activation
          after the purge leaves it inactive, and Magento refuses an inactive integration's access token).
    returned: state=present
    type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.magento_cleanup import remove_oauth_rows, restore_oauth_rows
from ansible.module_utils.magento_common import (
    SITE_REQUIRED_IF,
    ModuleFailure,
    exit_from,
    fail_from,
    site_argument_spec,
    site_params,
)
from ansible.module_utils.magento_read_snapshot import read_snapshot
from ansible.module_utils.magento_requirements import require_libraries
from ansible.module_utils.magento_run_lock import RUN_LOCK_OPTION, hold


def argument_spec() -> dict:
    spec = site_argument_spec()
    spec.update(
        integration={"type": "str"},
        state={"type": "str", "default": "absent", "choices": ["absent", "present"]},
        scope={"type": "str", "default": "integration", "choices": ["integration", "all"]},
        i_know_this_deletes_every_token={"type": "bool", "default": False},
        backup_dir={"type": "path"},
        backup_keep={"type": "int", "default": 20},
        run_lock=RUN_LOCK_OPTION,
        restore_from={"type": "path"},
    )
    return spec


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[*SITE_REQUIRED_IF, ("state", "present", ("restore_from",))],
        supports_check_mode=True,
    )
    require_libraries(module, "magento_oauth_tokens", ("pymysql",))
    p = module.params
    lock = None
    try:
        if p["state"] == "absent":
            # The lock and the purge read env.php once: nothing runs on the site between them.
            with read_snapshot():
                take_lock = p["run_lock"] and not module.check_mode
                lock = hold(site_params(p), p["run_lock"]) if take_lock else None
                result = remove_oauth_rows(
                    site_params(p),
                    p["integration"],
                    p["scope"],
                    p["i_know_this_deletes_every_token"],
                    p["backup_dir"],
                    module.check_mode,
                    p["backup_keep"],
                )
            if lock:
                result["run_lock"] = lock
        else:
            result = restore_oauth_rows(site_params(p), p["restore_from"], module.check_mode)
            result["integration"] = p["integration"]
    except ModuleFailure as exc:
        # The lock taken above is reported: the role's always releases it (else it lasts its lease).
        fail_from(module, exc, **({"run_lock": lock} if lock else {}))
    exit_from(module, result)


if __name__ == "__main__":
    main()
