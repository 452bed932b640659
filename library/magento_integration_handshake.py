#!/usr/bin/python
"""Ansible module: activate a Magento integration, finish its OAuth handshake, deliver proven tokens."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: magento_integration_handshake
short_description: Activate a Magento integration and deliver its OAuth credentials, proven by a signed call
description:
    - Step 6 of reintegrate's flow. Reads the integration named O(integration) and its consumer key from the
      store's DB (never a secret), proves the DB, the store's OAuth endpoint and (for O(activation=admin)) the
      Admin login, then activates the integration, receives Magento's POST of the consumer secret and the
      verifier, asks the request token at once (the consumer expires after
      C(oauth/consumer/expiration_period),
      300 s by default), then the access token, both signed with HMAC-SHA256 in the Authorization header.
    - The new tokens must sign a 200 on C(/rest)O(probe_path) before they are written, atomically, to
      O(credentials_path) (mode 0600, new folders 0700). When the probe fails, the minted credentials go
      to O(credentials_path) plus C(.unproven) instead (0600, never printed; the failure's
      C(unproven_credentials_path) names it) and the old file stays as it was.
    - A failure after the activation started reports C(changed=true), since Magento's state moved (the
      consumer was stamped and a verifier minted).
    - Converges. When the credentials file holds this consumer's key and its current access token, the
      integration's status is 1 and the file's tokens sign a 200 on the probe, nothing is touched and
      C(changed) is false, unless O(force=true).
    - Check mode activates nothing and writes nothing. Without O(force) it still runs the signed probe with
      the existing credentials, so its answer is the one a real run would give; like every signed call, the
      probe makes Magento store one C(oauth_nonce) row. With O(force), check mode makes no call at all.
      With C(--diff) it lists the credentials file's keys that would change; secret values are never shown.
    - Purge the integration's leftover token rows (M(magento_oauth_tokens)) before this module when the
      consumer has a request or access row that reauthorization would not remove; the module refuses to
      activate a consumer that would be wedged.
    - No key, secret or token ever appears in the result, a warning, an error or a diff.
version_added: "0.1.0"
author: reintegrate
requirements:
    - requests (Debian python3-requests) on the host the module runs on
    - requests-oauthlib (Debian python3-requests-oauthlib) on the host the module runs on
    - pymysql (Debian python3-pymysql) on the host the module runs on
    - docker (the Docker SDK for Python) on the control node, only for O(runner=docker)
extends_documentation_fragment:
    - magento_site
options:
    integration:
        description: Name of the integration (C(integration.name)).
        type: str
        required: true
    activation:
        description:
            - How to start the handshake.
            - C(admin) logs in to the Admin (O(admin_username), O(admin_password)), opens the keyed
              integration grid
              and calls its tokensExchange URL. Fails with a clear message when two-factor auth blocks the
              login.
            - C(cli) runs C(bin/magento integration:activate NAME [--reauthorize]) through the runner.
              Needs the
              helper module C(Reintegrate_CliActivation) installed and enabled (install it with
              M(magento_integration_module) C(src=magento/Reintegrate/CliActivation) and setup:upgrade;
              production
              mode also needs setup:di:compile). This module does not install it.
            - C(auto) picks C(cli) when the helper module is enabled in C(app/etc/config.php), else
              C(admin); it
              fails with the install instructions when C(Magento_TwoFactorAuth) is enabled and the helper
              is not.
        type: str
        choices: [admin, cli, auto]
        default: admin
    endpoint:
        description:
            - C(self) runs a one-shot listener on O(listen_address):O(listen_port) that accepts only the
              POST carrying this integration's consumer key; the integration's endpoint_url must point at it
              (with a bridge network, C(http://host.docker.internal:PORT/...) and O(listen_address=0.0.0.0)).
            - C(external) lets the integration's real endpoint finish the handshake; the module waits up to
              O(listen_timeout) seconds for status 1 and an access token row, and delivers no credentials
              file.
            - With C(external), status 1 with an access token row counts as converged (nothing is done
              without O(force)); no probe is run, since only the endpoint holds the tokens.
        type: str
        choices: [self, external]
        default: self
    listen_address:
        description: Address the listener binds.
        type: str
        default: 127.0.0.1
    listen_port:
        description:
            - Port the listener binds. Default, the port of the integration's endpoint_url.
            - Another port is an error (in check mode too, so before the role purges any token), since
              Magento's POST goes to endpoint_url and would never arrive; unless O(listen_port_forwarded).
            - C(0) picks a free port (only with O(listen_port_forwarded)).
        type: int
    listen_port_forwarded:
        description:
            - Set it when a port forward (for example C(ssh -R)) takes what the store sends to the
              endpoint_url's port to O(listen_port); the check that the two ports are the same is skipped.
        type: bool
        default: false
    listen_timeout:
        description: Seconds to wait for Magento's POST (or, with O(endpoint=external), for status 1).
        type: int
        default: 30
    reauthorize:
        description:
            - Whether activation first deletes the consumer's token and sets status 0 (Magento's Reauthorize).
            - C(auto) reauthorizes when the integration is active or has token rows.
        type: str
        choices: [auto, "yes", "no"]
        default: auto
    probe_path:
        description: REST path (after C(/rest)) that the tokens must sign a 200 on. The integration needs
            its resource.
        type: str
        default: /V1/orders?searchCriteria[pageSize]=1
    credentials_path:
        description:
            - File that receives the credentials (JSON keys C(base_url), C(consumer_key), C(consumer_secret),
              C(access_token), C(access_token_secret), C(obtained_at)). Required with O(endpoint=self).
            - The role passes C(.credentials/<inventory_hostname>/<integration>.json) under the project root.
        type: path
    credentials_format:
        description:
            - C(json), or C(env) (C(MAGENTO_BASE_URL=...), C(MAGENTO_CONSUMER_KEY=...), ... lines).
            - Default, C(env) for a file named C(.env) or C(*.env), else C(json).
        type: str
        choices: [json, env]
    force:
        description: Activate and mint new tokens even when the delivered credentials still work (staging
            reset).
        type: bool
        default: false
    cli_timeout:
        description: Seconds allowed for C(bin/magento integration:activate).
        type: int
        default: 120
    release_run_lock:
        description:
            - Release the run lock that M(magento_setup_module) or M(magento_oauth_tokens) took with their
              C(run_lock) option, when this task ends (success or failure; not in check mode). Nothing
              happens when this run holds no lock.
        type: dict
        suboptions:
            run_id:
                description: The run's id, as given to their C(run_lock).
                type: str
                required: true
            state_file:
                description: The lock's state file, as given to their C(run_lock).
                type: path
                required: true
notes:
    - Runs on the control node (the listener must be reachable from the store).
    - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Activate Acme Sync through the Admin and deliver its credentials
  magento_integration_handshake:
    container: reintegrate-app
    base_url: http://127.0.0.1:8080/
    admin_username: admin
    admin_password: "{{ vault_admin_password }}"
    db_host: 127.0.0.1
    db_port: 3306
    integration: Acme Sync
    credentials_path: "{{ playbook_dir }}/../.credentials/{{ inventory_hostname }}/Acme Sync.json"

- name: Same through bin/magento integration:activate (stores with two-factor auth), forcing new tokens
  magento_integration_handshake:
    container: reintegrate-app
    base_url: http://127.0.0.1:8080/
    db_host: 127.0.0.1
    integration: Acme Sync
    activation: cli
    force: true
    credentials_path: /srv/secrets/acme-sync.env
"""

RETURN = r"""
integration:
    description: Name of the integration.
    returned: always
    type: str
integration_id:
    description: C(integration.integration_id) after the run.
    returned: success
    type: int
consumer_id:
    description: C(integration.consumer_id).
    returned: success
    type: int
status:
    description: Integration status after the run (1 active).
    returned: success
    type: int
status_name:
    description: C(inactive), C(active) or C(recreated).
    returned: success
    type: str
activation:
    description: Activation used (C(admin) or C(cli)), or null when nothing was activated.
    returned: success
    type: str
reauthorized:
    description: Whether activation reauthorized (deleted the old token first).
    returned: success
    type: bool
reason:
    description: Why a handshake was (or would be) needed; null when converged.
    returned: success
    type: str
purge_needed:
    description:
        - Check mode found token rows that would wedge the activation (C6.6), e.g. a request row beside
          the access row after a Reauthorize; a reason to purge them first (M(magento_oauth_tokens)
          with C(state=absent)), reported as a warning. Outside check mode such rows are an error.
    returned: success
    type: bool
probe:
    description: The signed probe, C(path) and C(status) (null when not run, e.g. in check mode).
    returned: success
    type: dict
credentials_path:
    description: Path of the credentials file (null with O(endpoint=external)).
    returned: success
    type: str
credentials_changed_fields:
    description: Names of the credentials file's keys that changed (or would change). Never values.
    returned: when credentials_path is set
    type: list
    elements: str
credentials_file_mode:
    description: Mode of the credentials file, C(0600).
    returned: when credentials_path is set
    type: str
access_rows:
    description: Number of access token rows of the consumer after the run (1 after a handshake).
    returned: success
    type: int
timings:
    description: Seconds per step (read_site, preflight_http, admin_login, activation, wait_post, oauth,
        probe,
        write) and total.
    returned: success
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
from ansible.module_utils.magento_handshake import HANDSHAKE_OPTIONS, handshake_options, run_handshake
from ansible.module_utils.magento_requirements import require_libraries
from ansible.module_utils.magento_run_lock import let_go


def argument_spec() -> dict:
    spec = site_argument_spec()
    spec.update({name: dict(option) for name, option in HANDSHAKE_OPTIONS.items()})
    spec["release_run_lock"] = {
        "type": "dict",
        "options": {
            "run_id": {"type": "str", "required": True},
            "state_file": {"type": "path", "required": True},
        },
    }
    return spec


def release(module: AnsibleModule, db: object = None) -> None:
    """Release the run lock, on the handshake's own DB connection when it opened one."""
    lock = module.params["release_run_lock"]
    if lock and not module.check_mode:
        try:
            let_go(site_params(module.params), lock, db)
        except ModuleFailure as exc:
            module.warn(f"the run lock was not released ({exc.message}); it ends with its lease")


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(), required_if=SITE_REQUIRED_IF, supports_check_mode=True
    )
    require_libraries(module, "magento_integration_handshake", ("requests", "requests_oauthlib", "pymysql"))
    try:
        result = run_handshake(
            site_params(module.params),
            handshake_options(module.params),
            check_mode=module.check_mode,
            want_diff=module._diff,
            when_done=lambda db: release(module, db),
        )
    except ModuleFailure as exc:
        fail_from(module, exc, changed=False, integration=module.params["integration"])
        return
    exit_from(module, result)


if __name__ == "__main__":
    main()
