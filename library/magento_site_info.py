#!/usr/bin/python
"""Ansible module: read-only preflight and doctor of a Magento site."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: magento_site_info
short_description: Preflight and doctor of a Magento site (reads only)
description:
    - Reads C(app/etc/env.php) through O(runner) and returns its facts without the DB password or the
      encryption key (contract C1.2). A Python parser reads the plain literal Magento writes; a file that
      is more than a literal (C(getenv()) calls, constants) is read by PHP itself where a PHP CLI runs
      beside the store (O(cli_command)'s first word when it is PHP, else C(php);
      C(json_encode(require "app/etc/env.php")) in O(magento_root)), as Magento reads it; without PHP
      there the module names what the parser cannot follow. Every module reads env.php this way.
    - Connects to the DB and GETs O(base_url) (clock skew against the store's HTTP Date header, C6.4).
    - When the activation planned by O(activation) is the Admin's, logs in with O(admin_username) and
      O(admin_password) and reads the integration grid's tokensExchange URL template, which is what
      that activation needs, proven before anything is changed. Two-factor auth is detected (C5.2).
    - Reads C(oauth/consumer/enable_integration_as_bearer) (C7.3) and C(oauth/consumer/expiration_period)
      (C6.5, default 300).
    - Lists every integration with status, consumer id and the types of its token rows, and flags a wedged
      consumer (C6.6), leftover request or access rows, an expired consumer (C6.5) and an integration with
      status 1 but no access token.
    - Changes nothing in Magento's data. The Admin login is the one step with a side effect in Magento
      (a login records the admin user's logdate and opens a session), so check mode does not try it;
      there two-factor auth is read from C(app/etc/config.php) instead.
version_added: "0.1.0"
author: reintegrate
requirements:
    - requests, requests-oauthlib and pymysql on the host the module runs on (Debian python3-requests
      python3-requests-oauthlib python3-pymysql); the preflight checks every library a whole run needs
      there, so a missing one stops the run before any change
    - docker (the Docker SDK for Python) on the control node, only for O(runner=docker)
extends_documentation_fragment:
    - magento_site
options:
    integration:
        description: Name of the integration to focus on. Its problems are added to RV(problems).
        type: str
    activation:
        description:
            - The activation the run will use, decided as M(magento_integration_handshake) decides it.
              The Admin is logged in to only when it resolves to C(admin).
            - C(auto) is C(cli) when the helper module Reintegrate_CliActivation is enabled or two-factor
              auth is on, else C(admin) when admin credentials are given.
            - C(cli) never logs in. Each Admin login is recorded, ends that user's other sessions and, when
              it fails, counts toward Magento's CAPTCHA and account lock.
        type: str
        choices: [admin, cli, auto]
        default: admin
    admin_login:
        description:
            - When to log in to the Admin if O(activation) resolves to C(admin) (never in check mode).
            - C(prove) logs in (and reads the integrations grid) with the other checks.
            - C(if_renewing) logs in only when O(check_handshake) finds that the delivered credentials must
              be renewed (a forced run, or they no longer work), after that check. Otherwise RV(checks) key
              C(admin_login) has C(deferred=true); a later step of the caller that activates proves it. The
              role magento_integration does so, because its converged run activates nothing and so logs in
              to nothing (each login is recorded and ends the user's other Admin sessions, C5.2).
        type: str
        choices: [prove, if_renewing]
        default: prove
    prove:
        description:
            - The rest of the run's plan, proven before its first destructive step; each proof that does
              not hold fails the task (whatever O(fail_on) says) with its cause, its fix and "Nothing was
              changed.". Results in RV(checks) key C(plan).
            - The clock is within Magento's nonce window (C6.4); C(oauth/consumer/expiration_period) is at
              least 30 s (C6.5); the listener can bind where O(prove.endpoint_url) points; the GET route of
              O(prove.probe_path) exists and every ACL id it needs is among those O(prove.resources) grants
              (C4.3); with activation C(cli) in production mode, C(integration:activate) is listed and the
              helper module is not new or changed (setup:upgrade compiles nothing there); activation
              C(admin) is not asked for where C(Magento_TwoFactorAuth) is enabled (it blocks an automated
              Admin login, C5.2).
        type: dict
        suboptions:
            endpoint_url:
                description: The integration's endpoint_url as declared; omit for endpoint external.
                type: str
            listen_address:
                description: Where the listener binds.
                type: str
                default: 127.0.0.1
            listen_port:
                description: The listener's port; 0 is the endpoint_url's port.
                type: int
                default: 0
            listen_port_forwarded:
                description: A port forward maps the endpoint_url's port to O(prove.listen_port).
                type: bool
                default: false
            probe_path:
                description: The signed GET that proves the tokens (relative to /rest).
                type: str
            resources:
                description: The ACL ids the integration's config lists.
                type: list
                elements: str
                default: []
            format:
                description: The config format, which decides what Magento grants (C3.1, C3.3).
                type: str
                choices: [consolidated, legacy]
                default: consolidated
            endpoint:
                description:
                    - C(self) proves the listener for O(prove.endpoint_url) (or the declared one);
                      C(external) needs none.
                type: str
                choices: [self, external]
                default: self
            listen_timeout:
                description: The seconds the handshake will wait for the endpoint POST; must be positive.
                type: float
            credentials_path:
                description:
                    - The credentials file the handshake will write (endpoint self); its folder must be
                      writable or creatable, proven without writing anything.
                type: path
            cli_helper_src:
                description:
                    - Source folder (on the host the module runs on) of the helper module
                      Reintegrate_CliActivation the run installs; in production mode a helper whose
                      files would change fails the proof.
                type: path
    check_handshake:
        description:
            - Also run M(magento_integration_handshake) in check mode for O(integration) with these options
              (each as that module documents it) and return its result as RV(handshake_check). A run in
              which nothing changes before its own check can use that answer instead of running the
              module again. Writes nothing but the oauth_nonce row of the signed probe (C6.5).
        type: dict
        suboptions:
            activation:
                description: The activation the handshake would use, as that module's option.
                type: str
                choices: [admin, cli, auto]
                default: admin
            endpoint:
                description: C(self) or C(external), as the handshake's.
                type: str
                choices: [self, external]
                default: self
            listen_address:
                description: Where the handshake's listener binds.
                type: str
                default: 127.0.0.1
            listen_port:
                description: The listener's port; unset is the endpoint_url's port.
                type: int
            listen_port_forwarded:
                description: A port forward maps the endpoint_url's port to O(check_handshake.listen_port).
                type: bool
                default: false
            listen_timeout:
                description: Seconds the handshake waits for the endpoint POST.
                type: int
                default: 30
            reauthorize:
                description: As the handshake's.
                type: str
                choices: [auto, "yes", "no"]
                default: auto
            probe_path:
                description: The signed GET that proves the delivered credentials (relative to /rest).
                type: str
                default: /V1/orders?searchCriteria[pageSize]=1
            credentials_path:
                description: The delivered credentials file the check reads.
                type: path
            credentials_format:
                description: Its format; unset is read from the file name.
                type: str
                choices: [json, env]
            force:
                description: A forced run, for which the check answers reason C(force).
                type: bool
                default: false
            cli_timeout:
                description: As the handshake's.
                type: int
                default: 120
    declare:
        description:
            - Read the module that declares O(integration) the way M(magento_integration_module) reads it in
              check mode (nothing is written) and return it as RV(declared); O(integration) must be one of
              the integrations it declares. With O(prove), the declared endpoint_url, resources and format
              complete the plan where O(prove) leaves them out.
        type: dict
        suboptions:
            module:
                description: The module, C(Vendor_Module).
                type: str
                required: true
            src:
                description: Its source folder on the host the module runs on.
                type: path
            spec:
                description: Or the spec it is rendered from (see M(magento_integration_module)).
                type: dict
            acl_parents:
                description: As M(magento_integration_module)'s C(acl_parents) option.
                type: str
                choices: [add, fail, warn]
    fail_on:
        description:
            - C(connection) fails the task when env.php cannot be read, the DB, O(base_url) or the Admin login
              (when credentials are given) fails. Two-factor auth is reported, not failed.
            - C(never) reports every failure in RV(checks) and RV(problems) and never fails (doctor mode).
        type: str
        choices: [connection, never]
        default: connection
notes:
    - Supports check mode (it changes nothing in either mode).
"""

EXAMPLES = r"""
- name: Preflight before touching the store
  magento_site_info:
    integration: Acme Sync
    container: reintegrate-app
    base_url: http://127.0.0.1:8080/
    db_host: 127.0.0.1
    db_port: 3306
    admin_username: admin
    admin_password: "{{ vault_admin_password }}"
  register: site

- name: Show what is wrong without failing
  magento_site_info:
    fail_on: never
    container: reintegrate-app
    base_url: http://127.0.0.1:8080/
  register: doctor
"""

RETURN = r"""
ok:
    description: True when no problem was found.
    returned: always
    type: bool
run_id:
    description:
        - A name for the run that reads the site now, unique to it (UTC time and a random number). A caller
          whose later steps take a M(magento_run_lock) names the lock's owner with it (the role does).
    returned: always
    type: str
    sample: 20261207T201500Z-483920117
checks:
    description:
        - Result of each check (env_php, db, http, admin_login, and plan when O(prove) is given).
        - C(ok) is true, false or null (not run).
        - C(env_php.read_with) is C(parser) when C(app/etc/env.php) is a plain literal the Python parser
          read, C(php) when it is more (C(getenv()), constants) and PHP itself read it where the module runs
          (C(env_php.note) says what the parser could not follow).
    returned: always
    type: dict
    sample: {"db": {"ok": true, "host": "127.0.0.1", "port": 3306},
             "http": {"ok": true, "status": 200, "clock_skew_seconds": 0.4},
             "admin_login": {"ok": true, "two_factor_auth": false}}
problems:
    description: Each problem with its cause and fix.
    returned: always
    type: list
    elements: str
env:
    description:
        - env.php facts (db_host, db_port, db_name, db_username, table_prefix, backend_frontname,
          crypt_key_present), never the password or the key.
    returned: when env.php was read
    type: dict
config_modules_enabled:
    description: Modules enabled in C(app/etc/config.php).
    returned: when env.php was read
    type: list
    elements: str
expiration_period:
    description: C(oauth/consumer/expiration_period) in seconds.
    returned: when the DB was reached
    type: int
enable_integration_as_bearer:
    description: Whether integration tokens are accepted as bearer tokens.
    returned: when the DB was reached
    type: bool
integrations:
    description:
        - Every integration with integration_id, name, email, endpoint, identity_link_url, status,
          status_name, consumer_id, setup_type, token_types, nonces, consumer_age_seconds, wedged,
          leftover_tokens, expired, active_without_access_token and problems.
    returned: when the DB was reached
    type: list
    elements: dict
activation:
    description: The activation O(activation) resolves to on this site (C(admin) or C(cli)).
    returned: when env.php was read
    type: str
declared:
    description: What M(magento_integration_module) in check mode returns for O(declare).
    returned: when O(declare) is given
    type: dict
setup_current:
    description:
        - Whether the declared module's setup_module row matches its module.xml setup_version (schema
          and data version); true when it declares none.
        - False after a setup:upgrade that stopped midway, or once the row was removed.
    returned: when O(declare) is given and the DB was reached
    type: bool
handshake_check:
    description:
        - What M(magento_integration_handshake) in check mode returned for O(integration) (its return
          values, with C(changed) renamed C(would_change)); C(reason) null means the delivered credentials
          are converged.
        - C(failed) and C(msg) instead when that check failed (for example a consumer that setup:upgrade
          recreates); nothing is raised.
    returned: >-
        when O(check_handshake) is given and O(integration) exists, unless the activation is C(admin)
        and Magento_TwoFactorAuth is enabled (that run cannot activate; the probe would write an
        oauth_nonce row)
    type: dict
cli_helper_current:
    description:
        - Whether the helper module Reintegrate_CliActivation is enabled and its files match
          O(prove.cli_helper_src); the role installs it and reruns setup:upgrade only when false.
    returned: when the activation resolves to C(cli) and O(prove.cli_helper_src) is given
    type: bool
timings:
    description:
        - Seconds each step of this read took (env_php, declare, db_http, admin_login, integrations, plan,
          cli_helper, handshake_check; only the steps that ran) and C(total). Each site file is read once
          per module run, by the first step that needs it.
    returned: always
    type: dict
    sample: {env_php: 0.21, declare: 0.2, db_http: 0.06, plan: 0.06, handshake_check: 0.08, total: 0.71}
integration:
    description:
        - The report of O(integration).
        - Null when it does not exist yet, as on a first install (setup:upgrade creates it, C3.1); that is
          neither a warning nor a problem.
    returned: when O(integration) is given and the DB was reached
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
from ansible.module_utils.magento_doctor import collect
from ansible.module_utils.magento_handshake import HANDSHAKE_OPTIONS
from ansible.module_utils.magento_preflight import plan_from_params
from ansible.module_utils.magento_requirements import ALL_SITE_LIBRARIES, require_libraries
from ansible.module_utils.magento_run_lock import new_run_id


def argument_spec() -> dict:
    spec = site_argument_spec()
    spec.update(
        integration={"type": "str"},
        activation={"type": "str", "default": "admin", "choices": ["admin", "cli", "auto"]},
        admin_login={"type": "str", "default": "prove", "choices": ["prove", "if_renewing"]},
        fail_on={"type": "str", "default": "connection", "choices": ["connection", "never"]},
        prove={
            "type": "dict",
            "options": {
                "endpoint_url": {"type": "str"},
                "listen_address": {"type": "str", "default": "127.0.0.1"},
                "listen_port": {"type": "int", "default": 0},
                "listen_port_forwarded": {"type": "bool", "default": False},
                "probe_path": {"type": "str"},
                "resources": {"type": "list", "elements": "str", "default": []},
                "format": {"type": "str", "default": "consolidated", "choices": ["consolidated", "legacy"]},
                "cli_helper_src": {"type": "path"},
                "endpoint": {"type": "str", "default": "self", "choices": ["self", "external"]},
                "listen_timeout": {"type": "float"},
                "credentials_path": {"type": "path"},
            },
        },
        check_handshake={
            "type": "dict",
            "options": {k: dict(v) for k, v in HANDSHAKE_OPTIONS.items() if k != "integration"},
        },
        declare={
            "type": "dict",
            "options": {
                "module": {"type": "str", "required": True},
                "src": {"type": "path"},
                "spec": {"type": "dict"},
                "acl_parents": {"type": "str", "choices": ["add", "fail", "warn"]},
            },
        },
    )
    return spec


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(), required_if=SITE_REQUIRED_IF, supports_check_mode=True
    )
    require_libraries(module, "magento_site_info", ALL_SITE_LIBRARIES)
    p = module.params
    try:
        result = collect(
            site_params(p),
            p["integration"],
            p["fail_on"],
            check_mode=module.check_mode,
            activation=p["activation"],
            admin_login=p["admin_login"],
            plan=plan_from_params(p["prove"]),
            declare=p["declare"],
            check_handshake=p["check_handshake"],
        )
    except ModuleFailure as exc:
        fail_from(module, exc, changed=False)
    exit_from(module, {**result, "run_id": new_run_id()})


if __name__ == "__main__":
    main()
