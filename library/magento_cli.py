#!/usr/bin/python
"""Ansible module: run one bin/magento command on a site, with a timeout and honest changed/check mode."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: magento_cli
short_description: Run a bin/magento command through the site's runner
description:
    - Runs C(bin/magento COMMAND ARGS) in O(magento_root) through O(runner) (Docker exec or a local
      process), killed after O(timeout) seconds.
    - C(setup:upgrade) gets C(--keep-generated) unless O(keep_generated=false) (contract C8.1, C8.4).
      Modules in O(enable_modules) that are not enabled in C(app/etc/config.php) are enabled with
      C(module:enable) first, because a module new to config.php does not get its C(integration.xml)
      applied in the same C(setup:upgrade) run (C8.5).
    - C(changed) comes from observed state. Read-only commands (C(module:status), C(setup:db:status),
      C(config:show), C(maintenance:status)) never report a change. C(module:enable) changes only when a
      named module was not enabled. C(config:set PATH VALUE) changes only when C(config:show PATH) differed.
      C(setup:upgrade) compares the setup_module and patch_list rows, the integrations and config.php
      before and after (and reports an integration recreated with a new consumer, C3.2); without a DB
      connection it reports changed. Other commands (C(cache:flush), C(cache:clean)) always report changed.
    - In check mode nothing that writes is run, C(setup:upgrade) included (C(--dry-run=1) is not trusted
      to write nothing), and C(changed) is the prediction.
    - C(setup:db:status) is run but is no reliable signal (C1.4). Its exit code 2 is not a failure.
version_added: "0.1.0"
author: reintegrate
requirements:
    - docker (the Docker SDK for Python) on the control node, only for O(runner=docker)
extends_documentation_fragment:
    - magento_site
options:
    command:
        description: The command name, for example C(setup:upgrade), C(cache:flush), C(module:enable).
        type: str
        required: true
    args:
        description: Arguments of the command, one list item each (never passed through a shell).
        type: list
        elements: str
        default: []
    keep_generated:
        description: Add C(--keep-generated) to C(setup:upgrade).
        type: bool
        default: true
    secret_args:
        description:
            - Positions (0-based) in O(args) of values that are secrets, for example C([1]) for
              C(config:set payment/x/api_key SECRET). Every occurrence of those values in the result
              (RV(cmd), RV(stdout), RV(stderr), RV(previous), messages, the invocation) is shown as
              C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER), at every verbosity.
        type: list
        elements: int
        default: []
    enable_modules:
        description: Modules (C(Vendor_Module)) to enable with C(module:enable) before C(setup:upgrade) when
            config.php does not enable them yet (C8.5).
        type: list
        elements: str
        default: []
    timeout:
        description: Seconds before the command is killed and the task fails.
        type: int
        default: 600
notes:
    - Supports check mode as described above. Mark secret arguments with O(secret_args); note that the
      command line of a running process is visible to other users of that host (C(ps)).
"""

EXAMPLES = r"""
- name: Enable the integration module and apply its integration config in one setup:upgrade
  magento_cli:
    command: setup:upgrade
    enable_modules: [Acme_Sync]
    container: reintegrate-app
    db_host: 127.0.0.1
    db_port: 3306
  register: upgrade

- name: Flush the cache
  magento_cli:
    command: cache:flush
    container: reintegrate-app
  when: upgrade is changed

- name: Let integration tokens work as bearer tokens (C7.3)
  magento_cli:
    command: config:set
    args: [oauth/consumer/enable_integration_as_bearer, "1"]
    container: reintegrate-app
"""

RETURN = r"""
cmd:
    description: The argv run after O(cli_command).
    returned: always
    type: list
    elements: str
    sample: [setup:upgrade, --keep-generated]
rc:
    description:
        - Exit code (0). Absent when nothing ran (check mode), since Ansible fails any result whose rc is
          not 0.
        - Absent too for the exit 2 of C(setup:db:status), which is no failure;
          see RV(upgrade_needed_claimed).
    returned: when a command ran and exited 0
    type: int
stdout:
    description: Standard output.
    returned: always
    type: str
stderr:
    description: Standard error.
    returned: always
    type: str
duration:
    description: Seconds the command took (null when nothing was run).
    returned: always
    type: float
modules_enabled:
    description: Modules enabled (or that would be) with C(module:enable).
    returned: for setup:upgrade and module:enable
    type: list
    elements: str
changes:
    description:
        - What C(setup:upgrade) changed, observed in the DB and config.php. Keys appear only when non-empty
          (modules_enabled, setup_module_written, patches_applied, integrations_created,
          integrations_recreated, integrations_updated, integrations_removed).
    returned: for setup:upgrade outside check mode
    type: dict
    sample: {"integrations_recreated": ["Acme Sync"], "setup_module_written": ["Acme_LegacySync"]}
previous:
    description: The value C(config:show) gave before C(config:set) (null when unset).
    returned: for config:set
    type: str
upgrade_needed_claimed:
    description: C(setup:db:status) exited 2. Not reliable (C1.4).
    returned: for setup:db:status
    type: bool
retried:
    description:
        - Commands run again because they could not empty C(generated/) while a web request was generating
          classes there (C(module:enable) and C(module:disable) do that as they start; rc 1, "The directory
          ... cannot be deleted"). Up to 4 runs in all, 2 s apart; each item gives the command and its runs.
    returned: when a command was run again
    type: list
    elements: dict
    sample: [{"cmd": "module:enable", "attempts": 2}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.magento_cli_ops import run_cli
from ansible.module_utils.magento_common import (
    SITE_REQUIRED_IF,
    ModuleFailure,
    exit_from,
    fail_from,
    site_argument_spec,
    site_params,
)
from ansible.module_utils.magento_requirements import require_libraries


def argument_spec() -> dict:
    spec = site_argument_spec()
    spec.update(
        command={"type": "str", "required": True},
        args={"type": "list", "elements": "str", "default": []},
        keep_generated={"type": "bool", "default": True},
        # Indexes into args, not secrets themselves (no_log False says so to ansible-test).
        secret_args={"type": "list", "elements": "int", "default": [], "no_log": False},
        enable_modules={"type": "list", "elements": "str", "default": []},
        timeout={"type": "int", "default": 600},
    )
    return spec


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(), required_if=SITE_REQUIRED_IF, supports_check_mode=True
    )
    require_libraries(module, "magento_cli", ())
    p = module.params
    bad = [i for i in p["secret_args"] if not 0 <= i < len(p["args"])]
    if bad:
        module.fail_json(
            msg=f"secret_args {bad} point outside args (it has {len(p['args'])} items, counted from 0): fix "
            "secret_args. Nothing was run.",
            changed=False,
        )
    for i in p["secret_args"]:
        # Ansible masks every occurrence of these values in everything the module returns or logs.
        module.no_log_values.add(p["args"][i])
    try:
        result = run_cli(
            site_params(p),
            p["command"],
            p["args"],
            p["keep_generated"],
            p["enable_modules"],
            p["timeout"],
            module.check_mode,
        )
    except ModuleFailure as exc:
        fail_from(module, exc, changed=False)
    if p["secret_args"] and result.get("previous"):
        # The value config:show gave before a secret was set is that secret's previous value.
        module.no_log_values.add(result["previous"])
    exit_from(module, result)


if __name__ == "__main__":
    main()
