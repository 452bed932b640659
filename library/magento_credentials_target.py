#!/usr/bin/python
"""Ansible module: hand proven Magento OAuth credentials to AWS SSM, AWS Secrets Manager or an Ansible Vault
file, rotating them without a gap."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: magento_credentials_target
short_description: Deliver proven Magento OAuth credentials to AWS SSM, Secrets Manager or a vault file
description:
    - Hands the credentials the handshake proved (M(magento_integration_handshake) writes them to a 0600
      file, O(src)) to where a service reads them. The stored document has the keys of the json
      credentials file (C(base_url), C(consumer_key), C(consumer_secret), C(access_token),
      C(access_token_secret), C(obtained_at)).
    - O(target=aws_secretsmanager) keeps them in one secret whose value is that JSON document.
      O(target=aws_ssm) keeps one SecureString parameter per field below O(prefix) (O(layout=fields)), or
      the JSON document in one parameter O(name) (O(layout=json)). O(target=vault_file) keeps them in an
      Ansible Vault-encrypted YAML or JSON file, O(path).
    - O(operation=deliver) converges the target on O(src). When the target's current version holds the
      same values, nothing is written. Otherwise the new values are written as a new version that readers
      do not get yet (Secrets Manager C(AWSPENDING); SSM new parameter versions without the O(label); the
      vault file C(<path>.pending)), read back, and the signed probe C(GET /rest)O(probe_path) must answer
      200 with what was read back. Only then the new version becomes current (Secrets Manager
      C(AWSCURRENT), Secrets Manager moving C(AWSPREVIOUS) to the old one; the SSM label; the pending file
      replaces O(path)). A failure before that leaves the previous version current and says so.
    - O(operation=prove) reads the target and proves it can be written without changing the stored
      credentials (zero-change calls AWS authorizes first, an encryption with the vault ids, a writable
      folder), so that a role can stop before it purges tokens. A target that does not exist yet is
      created outside check mode (a Secrets Manager secret without a value; SSM parameters holding an
      unlabelled placeholder), which proves that write too.
    - O(operation=export) writes the target's current credentials to O(export_to) (0600, new folders 0700),
      unless that file is identical or holds newer credentials (C(obtained_at)). That is the working copy
      the role's handshake checks when the file is not a credentials target.
    - Check mode writes nothing; with C(--diff) it shows which fields would change. No key, secret or token
      ever appears in the result, a warning, an error or a diff.
version_added: "0.1.0"
author: reintegrate
requirements:
    - boto3 for the AWS targets (optional dependency group C(aws) of the project; C(pip install boto3))
    - ansible-vault (ansible-core) and PyYAML for O(target=vault_file)
    - requests and requests-oauthlib for the signed probe
options:
    operation:
        description: C(prove), C(export) or C(deliver) (see above).
        type: str
        choices: [prove, export, deliver]
        default: deliver
    target:
        description: Where the credentials go.
        type: str
        required: true
        choices: [aws_ssm, aws_secretsmanager, vault_file]
    src:
        description: The proven credentials file (json or env) to deliver. Required with O(operation=deliver).
        type: path
    src_format:
        description: Format of O(src); default from its name (C(.env) files are env), else json.
        type: str
        choices: [json, env]
    src_replaced:
        description:
            - Check mode only. The handshake of this check run would mint new credentials, so O(src) will
              be replaced and every secret field changes.
        type: bool
        default: false
    export_to:
        description: Where O(operation=export) writes the target's current credentials.
        type: path
    export_format:
        description: Format of O(export_to); default from its name, else json.
        type: str
        choices: [json, env]
    keep_existing:
        description: With O(operation=export), leave an existing O(export_to) alone whatever it holds.
        type: bool
        default: false
    base_url:
        description: Store URL for the signed probe, as Magento sees it; default the credentials' C(base_url).
        type: str
    probe_path:
        description: REST path after C(/rest) that the delivered credentials must sign a 200 on.
        type: str
        default: /V1/orders?searchCriteria[pageSize]=1
    http_timeout:
        description: Seconds the signed probe may take.
        type: int
        default: 60
    validate_certs:
        description: Verify the store's TLS certificate in the probe.
        type: bool
        default: true
    description:
        description: Description of a secret or parameters the module creates or writes (AWS targets).
        type: str
    name:
        description:
            - O(target=aws_secretsmanager), the secret's name or ARN. O(target=aws_ssm) with O(layout=json),
              the parameter's name.
        type: str
    prefix:
        description: O(target=aws_ssm) with O(layout=fields), the path the parameters C(<prefix>/<field>) go
            under; starts with C(/).
        type: str
    layout:
        description: O(target=aws_ssm), one parameter per field (C(fields)) or one JSON document (C(json)).
        type: str
        choices: [fields, json]
        default: fields
    label:
        description:
            - O(target=aws_ssm), the parameter label that marks the current version; readers ask for
              C(<name>:<label>). It moves only after the new version passed the probe.
        type: str
        default: current
    kms_key_id:
        description: KMS key (id, ARN or alias) for SSM SecureStrings, or for a secret the module creates;
            default the account's AWS managed key.
        type: str
    region:
        description: AWS region; default the AWS environment (C(AWS_REGION), the profile's).
        type: str
    profile:
        description: AWS profile in C(~/.aws/config); default the AWS environment.
        type: str
    endpoint_url:
        description: AWS endpoint URL instead of the region's (a VPC endpoint, or a local test server).
        type: str
    aws_timeout:
        description: Seconds for connecting to AWS and for each reply.
        type: int
        default: 20
    path:
        description: O(target=vault_file), the encrypted file (0600; new folders 0700).
        type: path
    format:
        description: O(target=vault_file), YAML or JSON inside the vault.
        type: str
        choices: [yaml, json]
        default: yaml
    vault_id:
        description:
            - O(target=vault_file), vault identities as ansible-playbook's C(--vault-id) takes them,
              C(label@source) where source is a password file or a password script (a prompt cannot be
              answered by a module).
        type: list
        elements: str
        default: []
    vault_password_file:
        description: O(target=vault_file), password files or scripts as C(--vault-password-file) takes them.
        type: list
        elements: path
        default: []
    vault_password:
        description: O(target=vault_file), a vault password given as a value (kept out of every output; it
            reaches ansible-vault through a 0600 file in a private temporary folder).
        type: str
    encrypt_vault_id:
        description: O(target=vault_file), the label to encrypt with; default the first O(vault_id)'s label,
            else C(default).
        type: str
    vault_command:
        description: O(target=vault_file), the ansible-vault to run; default the one beside this Python,
            else on C(PATH).
        type: path
notes:
    - Runs where the credentials file and the AWS or vault credentials are, normally the control node
      (the role delegates it to localhost with C(ansible_playbook_python)).
    - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Hand the proven credentials to Secrets Manager (AWSPENDING, probe, then AWSCURRENT)
  magento_credentials_target:
    target: aws_secretsmanager
    name: acme/sync/magento
    region: eu-west-1
    src: "{{ playbook_dir }}/../.credentials/shop/acme-sync.json"

- name: One SecureString per field under /acme/sync, the label current moved after the probe
  magento_credentials_target:
    target: aws_ssm
    prefix: /acme/sync
    kms_key_id: alias/acme
    src: "{{ playbook_dir }}/../.credentials/shop/acme-sync.json"

- name: An Ansible Vault-encrypted YAML file, vault id prod from a password file
  magento_credentials_target:
    target: vault_file
    path: "{{ playbook_dir }}/../group_vars/shop/magento_credentials.vault.yml"
    vault_id: ["prod@~/.vault-pass-prod"]
    src: "{{ playbook_dir }}/../.credentials/shop/acme-sync.json"

- name: Prove before any change that the secret can be read and written
  magento_credentials_target:
    operation: prove
    target: aws_secretsmanager
    name: acme/sync/magento
"""

RETURN = r"""
target:
    description: The target type.
    returned: always
    type: str
where:
    description: The target in words, e.g. C(Secrets Manager secret acme/sync/magento).
    returned: always
    type: str
changed_fields:
    description: Names of the fields that changed (or would change). Never values.
    returned: operation deliver
    type: list
    elements: str
version:
    description: The version readers get after the run (Secrets Manager VersionId; SSM versions under the
        label; the vault file's sha256 prefix of its encrypted text).
    returned: success
    type: str
previous_version:
    description: The version readers got before the run.
    returned: operation deliver
    type: str
current:
    description: What marks the current version (C(AWSCURRENT), C(the label current), C(the file)).
    returned: operation deliver
    type: str
holds:
    description: The current version in words, e.g. C(AWSCURRENT is version 1a2b...), C(the label current is
        on version 3), C(the file is sha256:...).
    returned: operation deliver
    type: str
rotated:
    description: Whether a previous version was replaced by a new, proven one.
    returned: operation deliver
    type: bool
staged_version:
    description: The new version written before it became current.
    returned: when something was written
    type: str
probe:
    description: The signed probe with the credentials read back (C(path), C(status), C(seconds)); status null
        when nothing was written.
    returned: operation deliver
    type: dict
proofs:
    description: What operation prove established, one sentence each.
    returned: operation prove
    type: list
    elements: str
holds_credentials:
    description: Whether the target's current version holds a credentials document.
    returned: operation prove
    type: bool
exported:
    description: Whether operation export wrote O(export_to).
    returned: operation export
    type: bool
seconds:
    description: Time the module took.
    returned: success
    type: float
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.magento_common import ModuleFailure, exit_from, fail_from
from ansible.module_utils.magento_oauth import HAS_REQUESTS, HAS_REQUESTS_OAUTHLIB
from ansible.module_utils.magento_targets import run_target
from ansible.module_utils.magento_targets_aws import BOTO3_INSTALL, HAS_BOTO3
from ansible.module_utils.magento_targets_options import AWS_TARGETS, TARGET_OPTIONS, target_options


def argument_spec() -> dict:
    return {name: dict(option) for name, option in TARGET_OPTIONS.items()}


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    target = module.params["target"]
    if target in AWS_TARGETS and not HAS_BOTO3:
        module.fail_json(
            msg=missing_required_lib(
                "boto3", reason=f"by magento_credentials_target for target {target}; {BOTO3_INSTALL}"
            ),
            changed=False,
            missing=["boto3"],
        )
    if not (HAS_REQUESTS and HAS_REQUESTS_OAUTHLIB):
        module.fail_json(
            msg=missing_required_lib(
                "requests and requests-oauthlib",
                reason="by magento_credentials_target for the signed probe; "
                "pip install requests requests-oauthlib",
            ),
            changed=False,
        )
    try:
        result = run_target(
            target_options(module.params), check_mode=module.check_mode, want_diff=module._diff
        )
    except ModuleFailure as exc:
        fail_from(module, exc, changed=False, target=target)
        return
    exit_from(module, result)


if __name__ == "__main__":
    main()
