"""Options of magento_credentials_target: the argument_spec, its typed view, per-target checks, IAM actions.

Public API (stable):
    TARGET_TYPES = ("aws_ssm", "aws_secretsmanager", "vault_file"); AWS_TARGETS
    OPERATIONS = ("prove", "export", "deliver")
    TARGET_OPTIONS: dict        argument_spec entries of magento_credentials_target
    IAM_ACTIONS: dict           the AWS actions each AWS target calls (README lists them; the tests grant
                                exactly these to the principal that delivers)
    class TargetOptions; target_options(params) -> TargetOptions
    validate(options) -> None   per-target required options (ModuleFailure naming them)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_contract import DEFAULT_PROBE_PATH

TARGET_TYPES = ("aws_ssm", "aws_secretsmanager", "vault_file")
OPERATIONS = ("prove", "export", "deliver")
AWS_TARGETS = ("aws_ssm", "aws_secretsmanager")
SSM_LABEL = re.compile(r"^(?!aws|ssm|AWS|SSM|[0-9])[A-Za-z0-9_.-]{1,100}$")

IAM_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws_ssm": ("ssm:GetParameters", "ssm:PutParameter", "ssm:LabelParameterVersion"),
    "aws_secretsmanager": (
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:CreateSecret",
    ),
}

TARGET_OPTIONS: dict[str, dict[str, Any]] = {
    "operation": {"type": "str", "default": "deliver", "choices": list(OPERATIONS)},
    "target": {"type": "str", "required": True, "choices": list(TARGET_TYPES)},
    "src": {"type": "path"},
    "src_format": {"type": "str", "choices": ["json", "env"]},
    "src_replaced": {"type": "bool", "default": False},
    "export_to": {"type": "path"},
    "export_format": {"type": "str", "choices": ["json", "env"]},
    "keep_existing": {"type": "bool", "default": False},
    "base_url": {"type": "str"},
    "probe_path": {"type": "str", "default": DEFAULT_PROBE_PATH},
    "http_timeout": {"type": "int", "default": 60},
    "validate_certs": {"type": "bool", "default": True},
    "description": {"type": "str"},
    "name": {"type": "str"},
    "prefix": {"type": "str"},
    "layout": {"type": "str", "default": "fields", "choices": ["fields", "json"]},
    "label": {"type": "str", "default": "current"},
    "kms_key_id": {"type": "str"},
    "region": {"type": "str"},
    "profile": {"type": "str"},
    "endpoint_url": {"type": "str"},
    "aws_timeout": {"type": "int", "default": 20},
    "path": {"type": "path"},
    "format": {"type": "str", "default": "yaml", "choices": ["yaml", "json"]},
    "vault_id": {"type": "list", "elements": "str", "default": []},
    "vault_password_file": {"type": "list", "elements": "path", "default": [], "no_log": False},
    "vault_password": {"type": "str", "no_log": True},
    "encrypt_vault_id": {"type": "str"},
    "vault_command": {"type": "path"},
}


@dataclass(frozen=True)
class TargetOptions:
    target: str
    operation: str = "deliver"
    src: str | None = None
    src_format: str | None = None
    src_replaced: bool = False
    export_to: str | None = None
    export_format: str | None = None
    keep_existing: bool = False
    base_url: str | None = None
    probe_path: str = DEFAULT_PROBE_PATH
    http_timeout: int = 60
    validate_certs: bool = True
    description: str | None = None
    name: str | None = None
    prefix: str | None = None
    layout: str = "fields"
    label: str = "current"
    kms_key_id: str | None = None
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    aws_timeout: int = 20
    path: str | None = None
    format: str = "yaml"
    vault_id: tuple[str, ...] = ()
    vault_password_file: tuple[str, ...] = ()
    vault_password: str | None = field(default=None, repr=False)
    encrypt_vault_id: str | None = None
    vault_command: str | None = None


def target_options(params: dict[str, Any]) -> TargetOptions:
    values = {name: params.get(name) for name in TARGET_OPTIONS if params.get(name) is not None}
    for name in ("vault_id", "vault_password_file"):
        values[name] = tuple(values.get(name) or ())
    return TargetOptions(**values)


def validate(opts: TargetOptions) -> None:
    """Per-target required options, before any call (the argument_spec cannot express them)."""
    need: list[str] = []
    if opts.target == "aws_secretsmanager" and not opts.name:
        need.append("name (the secret's name or ARN)")
    if opts.target == "aws_ssm":
        if opts.layout == "fields" and not opts.prefix:
            need.append("prefix (e.g. /acme/sync: one parameter per field below it)")
        if opts.layout == "json" and not opts.name:
            need.append("name (the parameter that holds the JSON document)")
    if opts.target == "vault_file" and not opts.path:
        need.append("path (the vault-encrypted file)")
    if opts.operation == "export" and not opts.export_to:
        need.append("export_to (where the working copy goes)")
    if opts.operation == "deliver" and not opts.src:
        need.append("src (the proven credentials file the handshake wrote)")
    if need:
        raise ModuleFailure(f"target {opts.target} with operation {opts.operation} needs {', '.join(need)}")
    if opts.target == "aws_ssm" and opts.layout == "fields":
        prefix = opts.prefix or ""
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ModuleFailure(
                f"prefix {prefix!r} must start with / and not end with one (e.g. /acme/sync): SSM names "
                "the parameters <prefix>/<field>"
            )
    if opts.target == "aws_ssm" and not SSM_LABEL.match(opts.label or ""):
        raise ModuleFailure(
            f"label {opts.label!r} is no valid SSM parameter label (letters, digits, . _ -, at most 100, not "
            "starting with a digit, aws or ssm): use e.g. current"
        )
    if not (opts.probe_path or "").startswith("/"):
        raise ModuleFailure(f"probe_path {opts.probe_path!r} must start with / (e.g. {DEFAULT_PROBE_PATH})")
