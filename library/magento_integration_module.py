#!/usr/bin/python
"""Ansible module: install an integration module's files into app/code/Vendor/Module."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: magento_integration_module
short_description: Install a Magento integration module's files, checking its ACL resource ids
description:
    - Installs the files of module O(module) into C(app/code/Vendor/Module) (contract C1.3), copied from the
      folder O(src) or rendered from O(spec).
    - O(format=consolidated) renders C(etc/integration.xml) (C3.1, applied by every C(setup:upgrade)).
      O(format=legacy) renders C(etc/integration/config.xml), C(etc/integration/api.xml),
      C(Setup/InstallData.php) calling C(processIntegrationConfig) and a C(module.xml) with
      C(setup_version) (C3.3, applied only when the module's setup_module row is absent).
    - Every resource id is checked against the site's ACL tree, merged from the C(etc/acl.xml) of every
      enabled module plus the module's own (C4.1). Unknown ids fail with the closest known ids, because
      Magento would drop them silently (C3.1).
    - In the legacy format Magento adds no parent resources (C3.3). O(acl_parents) says what to do with
      missing ancestors.
    - C(changed) only when file contents differ. The diff lists the files with their hashes and shows the
      content of each changed file. Check mode writes nothing.
version_added: "0.1.0"
author: reintegrate
requirements:
    - docker (the Docker SDK for Python) on the control node, only for O(runner=docker)
extends_documentation_fragment:
    - magento_site
options:
    module:
        description: Module name C(Vendor_Module).
        type: str
        required: true
    src:
        description:
            - Folder holding the module (registration.php, etc/...) on the host the module runs on.
            - Its C(etc/module.xml) must declare O(module). Mutually exclusive with O(spec).
            - A module that declares no integration (for example the CLI activation helper) installs as
              plain files, with no ACL check.
        type: path
    spec:
        description:
            - Integrations to render, instead of O(src). Keys C(integrations) (list of C(name), C(email),
              C(endpoint_url), C(identity_link_url), C(resources)), C(setup_version) (legacy default 1.0.0)
              and C(sequence) (default C([Magento_Integration])).
        type: dict
    format:
        description:
            - C(consolidated) or C(legacy). With O(src) it is detected from the files (and must match when
              given).
            - Default with O(spec) is C(consolidated).
        type: str
        choices: [consolidated, legacy]
    acl_parents:
        description:
            - Legacy format only. C(add) lists the missing ancestors (default with O(spec); with O(src)
              it rewrites C(etc/integration/api.xml)), C(fail) fails (default with O(src)), C(warn) warns.
        type: str
        choices: [add, fail, warn]
    acl_check:
        description: Check resource ids against the site's ACL tree.
        type: bool
        default: true
    prune:
        description: Remove files under the module folder that are not part of the module any more.
        type: bool
        default: true
notes:
    - Supports check mode and diff mode.
    - A module new to C(app/etc/config.php) (RV(new_to_config)) needs C(module:enable) before
      C(setup:upgrade) (C8.5), see M(magento_cli) option C(enable_modules).
"""

EXAMPLES = r"""
- name: Install Acme_Sync from the project's examples
  magento_integration_module:
    module: Acme_Sync
    src: "{{ playbook_dir }}/../examples/Acme/Sync"
    container: reintegrate-app

- name: Render a legacy-format module, adding missing parent resources
  magento_integration_module:
    module: Acme_LegacySync
    format: legacy
    spec:
      setup_version: 1.0.1
      integrations:
        - name: Acme Legacy Sync
          email: legacy@example.com
          endpoint_url: http://127.0.0.1:8099/endpoint
          identity_link_url: http://127.0.0.1:8099/identity
          resources:
            - Magento_Sales::actions_view
            - Magento_Catalog::products
    container: reintegrate-app
"""

RETURN = r"""
path:
    description: The module folder on the site.
    returned: always
    type: str
    sample: /var/www/html/app/code/Acme/Sync
format:
    description: The integration config format installed; null for a module that declares no integration.
    returned: always
    type: str
setup_version:
    description: The setup_version of the module's etc/module.xml; null when it declares none.
    returned: always
    type: str
files:
    description: Files of the module, relative to RV(path).
    returned: always
    type: list
    elements: str
added:
    description: Files created (or that would be).
    returned: always
    type: list
    elements: str
modified:
    description: Files whose content changed (or would).
    returned: always
    type: list
    elements: str
removed:
    description: Files removed by O(prune) (or that would be).
    returned: always
    type: list
    elements: str
integrations:
    description: Each integration with the resources as installed.
    returned: always
    type: list
    elements: dict
acl_parents_added:
    description: Per integration, per resource id, the ancestors added (legacy format, O(acl_parents=add)).
    returned: always
    type: dict
new_to_config:
    description: The module is not enabled in C(app/etc/config.php) yet (C8.5).
    returned: always
    type: bool
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
from ansible.module_utils.magento_module_files import install_module
from ansible.module_utils.magento_requirements import require_libraries


def argument_spec() -> dict:
    spec = site_argument_spec()
    spec.update(
        module={"type": "str", "required": True},
        src={"type": "path"},
        spec={"type": "dict"},
        format={"type": "str", "choices": ["consolidated", "legacy"]},
        acl_parents={"type": "str", "choices": ["add", "fail", "warn"]},
        acl_check={"type": "bool", "default": True},
        prune={"type": "bool", "default": True},
    )
    return spec


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=SITE_REQUIRED_IF,
        mutually_exclusive=[("src", "spec")],
        required_one_of=[("src", "spec")],
        supports_check_mode=True,
    )
    require_libraries(module, "magento_integration_module", ())
    p = module.params
    try:
        result = install_module(
            site_params(p),
            p["module"],
            p["src"],
            p["spec"],
            p["format"],
            p["acl_parents"],
            p["acl_check"],
            p["prune"],
            module.check_mode,
        )
    except ModuleFailure as exc:
        fail_from(module, exc, changed=False)
    exit_from(module, result)


if __name__ == "__main__":
    main()
