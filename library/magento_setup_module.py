#!/usr/bin/python
"""Ansible module: remove (or restore) one Magento module's setup_module and patch_list rows."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: magento_setup_module
short_description: Remove one module's setup_module and patch_list rows so its install code runs again
description:
    - With O(state=absent), deletes the C(setup_module) row of O(module) and its C(patch_list) rows (the
      classes under its namespace C(Vendor\\Module\\), or exactly the O(patches) named), in one
      transaction, after writing them to a JSON backup (folder 0700, file 0600) in O(backup_dir).
    - The next C(setup:upgrade) then runs the module's legacy C(Setup/InstallData.php) and its data
      patches again (contract C3.3, C8.1), which re-applies a legacy-format integration config.
    - With O(state=present) and O(restore_from), puts the rows of a backup this module wrote back (only the
      rows that are missing).
    - Rows of any other module are never read for deletion or touched.
version_added: "0.1.0"
author: reintegrate
requirements:
    - pymysql (Debian python3-pymysql) on the host the module runs on
    - docker (the Docker SDK for Python) on the control node, only for O(runner=docker)
extends_documentation_fragment:
    - magento_site
    - magento_site.run_lock
options:
    module:
        description: Module name C(Vendor_Module) as in its C(etc/module.xml).
        type: str
        required: true
    state:
        description: C(absent) removes the rows; C(present) restores them from O(restore_from).
        type: str
        choices: [absent, present]
        default: absent
    patches:
        description:
            - Patch class names to remove from C(patch_list) instead of every class under the module's
              namespace.
            - Written as stored (no leading backslash needed), for example
              C(Acme\\Sync\\Setup\\Patch\\Data\\CreateIntegration).
        type: list
        elements: str
    backup_dir:
        description:
            - Folder for the JSON backup of the removed rows.
            - Required with O(state=absent) outside check mode.
        type: path
    backup_keep:
        description:
            - How many of this module's setup-row backups to keep in O(backup_dir);
              older ones are deleted after a new one is written. C(0) keeps them all.
        type: int
        default: 20
    restore_from:
        description: A backup file written by this module. Required with O(state=present).
        type: path
notes:
    - Supports check mode (reports what would be removed; writes nothing, not even the backup) and diff mode.
    - Runs on the control node. The DB is reached with the credentials of C(app/etc/env.php), read
      through O(runner).
"""

EXAMPLES = r"""
- name: Make Acme_LegacySync's InstallData run again on the next setup:upgrade
  magento_setup_module:
    module: Acme_LegacySync
    state: absent
    backup_dir: "{{ playbook_dir }}/../.backups/{{ inventory_hostname }}"
    container: reintegrate-app
    db_host: 127.0.0.1
    db_port: 3306

- name: Remove only one data patch record
  magento_setup_module:
    module: Acme_Sync
    patches:
      - Acme\Sync\Setup\Patch\Data\CreateIntegration
    backup_dir: .backups/site1
    container: reintegrate-app

- name: Put the rows back from the backup a previous run returned
  magento_setup_module:
    module: Acme_LegacySync
    state: present
    restore_from: "{{ removed.backup }}"
    container: reintegrate-app
"""

RETURN = r"""
run_lock:
    description: The run lock taken with O(run_lock) (lock, connection_id, held, changed).
    returned: when O(run_lock) is given outside check mode
    type: dict
module:
    description: The module name.
    returned: always
    type: str
removed:
    description: Rows removed (or, in check mode, that would be removed), per table.
    returned: state=absent
    type: dict
    sample: {"setup_module": [{"module": "Acme_LegacySync", "schema_version": "1.0.0",
                               "data_version": "1.0.0"}],
             "patch_list": [{"patch_id": 12, "patch_name": "Acme\\LegacySync\\Setup\\Patch\\Data\\Create"}]}
patches_not_found:
    description: Named O(patches) that had no row.
    returned: when O(patches) is given
    type: list
    elements: str
backup:
    description:
        - Path of the JSON backup written before deleting.
        - Null when nothing was deleted, and in check mode.
    returned: always
    type: str
restored:
    description: Rows inserted per table by O(state=present).
    returned: state=present
    type: dict
already_present:
    description: Rows of the backup that were already in the DB, per table.
    returned: state=present
    type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.magento_cleanup import remove_setup_rows, restore_rows, validate_module_name
from ansible.module_utils.magento_common import (
    SITE_REQUIRED_IF,
    ModuleFailure,
    exit_from,
    fail_from,
    site_argument_spec,
    site_params,
)
from ansible.module_utils.magento_contract import TABLE_PATCH_LIST, TABLE_SETUP_MODULE
from ansible.module_utils.magento_requirements import require_libraries
from ansible.module_utils.magento_run_lock import RUN_LOCK_OPTION, hold


def argument_spec() -> dict:
    spec = site_argument_spec()
    spec.update(
        module={"type": "str", "required": True},
        state={"type": "str", "default": "absent", "choices": ["absent", "present"]},
        patches={"type": "list", "elements": "str"},
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
    require_libraries(module, "magento_setup_module", ("pymysql",))
    p = module.params
    lock = None
    try:
        if p["state"] == "absent":
            lock = hold(site_params(p), p["run_lock"]) if p["run_lock"] and not module.check_mode else None
            result = remove_setup_rows(
                site_params(p),
                p["module"],
                p["patches"],
                p["backup_dir"],
                module.check_mode,
                p["backup_keep"],
            )
            if lock:
                result["run_lock"] = lock
        else:
            validate_module_name(p["module"])
            result = restore_rows(
                site_params(p), p["restore_from"], {TABLE_SETUP_MODULE, TABLE_PATCH_LIST}, module.check_mode
            )
            result["module"] = p["module"]
    except ModuleFailure as exc:
        # The lock taken above is reported: the role's always releases it (else it lasts its lease).
        fail_from(module, exc, **({"run_lock": lock} if lock else {}))
    exit_from(module, result)


if __name__ == "__main__":
    main()
