"""Target aws_ssm: SecureString parameters in SSM Parameter Store, rotated through a parameter label.

Layout ``fields``: one parameter per credentials field, ``<prefix>/<field>``; layout ``json``: one
parameter ``name`` holding the JSON document. Rotation scheme: the label (``current`` by default) marks
the version a reader must use (``GetParameters Names=[<name>:current]``). A delivery writes each changed
value as a new version (PutParameter Overwrite), reads those versions back by number, signs the probe with
what it read, and only then moves the label onto them (LabelParameterVersion). Until then, and after any
failure on the way, the label stays on the previous versions. Readers that ask without the label get the
newest version, which during a rotation may not be proven yet: always read ``:<label>``.

Public API (stable):
    class SsmParameters(opts)             the backend (see magento_targets)
    PLACEHOLDER                           value the preflight writes to a parameter that does not exist yet,
                                          proving the write; it is never labelled
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_credentials import FIELDS, Credentials, CredentialsFileError, parse
from ansible.module_utils.magento_targets import Staged, Stored, document
from ansible.module_utils.magento_targets_aws import AwsApi

PLACEHOLDER = "(reintegrate preflight: no credentials delivered yet; read the labelled version)"
NO_SUCH_VERSION = 999999999  # LabelParameterVersion on it proves the permission and changes nothing


@dataclass(frozen=True)
class _Value:
    value: str
    version: int


class SsmParameters:
    def __init__(self, opts: Any) -> None:
        self.opts = opts
        self.label = opts.label
        if opts.layout == "fields":
            self.names = {name: f"{opts.prefix}/{name}" for name in FIELDS}
            self.where = f"SSM parameters {opts.prefix}/<field>"
        else:
            self.names = {"document": opts.name}
            self.where = f"SSM parameter {opts.name}"
        self.current_name = f"the label {self.label}"
        self.current_text = self.current_name + " is on {}"
        self.api = AwsApi("ssm", opts)

    def close(self) -> None:
        return None

    # ---------- reading ----------
    def _get(self, requested: list[str], mask: Credentials | None = None) -> dict[str, _Value]:
        """GetParameters (decrypted) for names with an optional :label or :version selector; the result is
        keyed by the plain name. Missing names or selectors are simply absent."""
        out: dict[str, _Value] = {}
        reply, _ = self.api.call("GetParameters", self.where, Names=requested, WithDecryption=True, mask=mask)
        for param in reply.get("Parameters", []):
            out[param["Name"]] = _Value(str(param.get("Value", "")), int(param.get("Version", 0)))
        return out

    def _compose(self, values: dict[str, _Value]) -> tuple[Credentials | None, str | None]:
        if self.opts.layout == "json":
            got = values.get(self.opts.name)
            if got is None:
                return None, None
            try:
                return parse(got.value, "json"), None
            except CredentialsFileError as exc:
                return None, f"its value is not the credentials document ({exc})"
        missing = [field for field, name in self.names.items() if name not in values]
        if len(missing) == len(self.names):
            return None, None
        if missing:
            return (
                None,
                f"{len(self.names) - len(missing)} of {len(self.names)} fields only "
                f"({', '.join(missing)} missing)",
            )
        return Credentials(**{field: values[name].value for field, name in self.names.items()}), None

    @staticmethod
    def _versions(values: dict[str, _Value]) -> str | None:
        if not values:
            return None
        numbers = {v.version for v in values.values()}
        if len(numbers) == 1:
            return f"version {numbers.pop()}"
        return ", ".join(f"{name.rsplit('/', 1)[-1]}:{v.version}" for name, v in sorted(values.items()))

    def current(self) -> Stored:
        plain = list(self.names.values())
        labelled = self._get([f"{name}:{self.label}" for name in plain])
        latest = self._get(plain)
        creds, note = self._compose(labelled)
        if creds is None and note is None and any(v.value != PLACEHOLDER for v in latest.values()):
            note = f"no version carries the label {self.label} yet"
        return Stored(creds, self._versions(labelled), note, {"labelled": labelled, "latest": latest})

    # ---------- preflight ----------
    def prove(self, check_mode: bool) -> tuple[list[str], bool, Stored]:
        current = self.current()  # GetParameters (decrypted): read and kms:Decrypt
        existing = set(current.detail["latest"])
        proofs = [f"ssm:GetParameters read {len(existing)} of {len(self.names)} parameter(s)"]
        changed = False
        if existing:
            name = sorted(existing)[0]
            _, code = self.api.call(
                "PutParameter",
                name,
                expect=("ParameterAlreadyExists",),
                **self._put_args(name, PLACEHOLDER, overwrite=False),
            )
            if code is None:
                raise ModuleFailure(f"ssm:PutParameter without Overwrite replaced {name}")
            proofs.append("ssm:PutParameter allowed (ParameterAlreadyExists, nothing written)")
        missing = [name for name in self.names.values() if name not in existing]
        if missing and check_mode:
            proofs.append(f"would create {len(missing)} parameter(s) (check mode: their write is not proven)")
        elif missing:
            for name in missing:
                self.api.call("PutParameter", name, **self._put_args(name, PLACEHOLDER, overwrite=False))
            changed = True
            existing.update(missing)
            proofs.append(
                f"ssm:PutParameter allowed: created {len(missing)} parameter(s) holding an unlabelled "
                "placeholder"
            )
        if existing:  # on an existing parameter only: a version that does not exist, so nothing moves
            name = sorted(existing)[0]
            _, code = self.api.call(
                "LabelParameterVersion",
                name,
                expect=("ParameterVersionNotFound",),
                Name=name,
                ParameterVersion=NO_SUCH_VERSION,
                Labels=[self.label],
            )
            if code is None:
                raise ModuleFailure(
                    f"ssm:LabelParameterVersion on {name} version {NO_SUCH_VERSION} succeeded"
                )
            proofs.append(f"ssm:LabelParameterVersion allowed ({code}, nothing labelled)")
        return proofs, changed, current

    def _put_args(self, name: str, value: str, overwrite: bool) -> dict[str, Any]:
        args: dict[str, Any] = {"Name": name, "Value": value, "Type": "SecureString", "Overwrite": overwrite}
        if self.opts.kms_key_id:
            args["KeyId"] = self.opts.kms_key_id
        if self.opts.description:
            field = name.rsplit("/", 1)[-1] if self.opts.layout == "fields" else "JSON document"
            args["Description"] = f"{self.opts.description} ({field})"[:1024]
        return args

    # ---------- rotation ----------
    def _values(self, creds: Credentials) -> dict[str, str]:
        if self.opts.layout == "json":
            return {self.opts.name: document(creds)}
        values = {name: getattr(creds, field) for field, name in self.names.items()}
        empty = [name for name, value in values.items() if not value]
        if empty:
            raise ModuleFailure(
                f"{', '.join(empty)} would be empty, and SSM stores no empty value: rerun the handshake "
                "(it sets every field) or use layout json"
            )
        return values

    def stage(self, creds: Credentials, current: Stored) -> Staged:
        labelled: dict[str, _Value] = current.detail.get("labelled", {})
        latest: dict[str, _Value] = current.detail.get("latest", {})
        versions: dict[str, int] = {}
        written: list[str] = []
        reused = False
        for name, value in self._values(creds).items():
            if name in labelled and labelled[name].value == value:
                versions[name] = labelled[name].version
            elif name in latest and latest[name].value == value:
                versions[name] = latest[name].version  # written by a run that failed before the label
                reused = True
            else:
                reply, _ = self.api.call(
                    "PutParameter", name, mask=creds, **self._put_args(name, value, overwrite=True)
                )
                versions[name] = int(reply["Version"])
                written.append(name)
        to_label = [n for n in versions if n not in labelled or labelled[n].version != versions[n]]
        return Staged(
            self._versions({n: _Value("", v) for n, v in versions.items()}) or "",
            {"versions": versions, "to_label": to_label, "written": written},
            reused and not written,
        )

    def read_staged(self, staged: Staged) -> Stored:
        versions: dict[str, int] = staged.detail["versions"]
        values = self._get([f"{name}:{version}" for name, version in versions.items()])
        creds, note = self._compose(values)
        return Stored(creds, staged.version, note)

    def promote(self, staged: Staged, current: Stored) -> str:
        versions: dict[str, int] = staged.detail["versions"]
        for name in staged.detail["to_label"]:
            reply, _ = self.api.call(
                "LabelParameterVersion", name, Name=name, ParameterVersion=versions[name], Labels=[self.label]
            )
            if reply.get("InvalidLabels"):
                raise ModuleFailure(
                    f"SSM refused the label {self.label} on {name}: {', '.join(reply['InvalidLabels'])}: use "
                    "another label"
                )
        return staged.version

    def kept(self, staged: Staged, current: Stored) -> str:
        before = current.version or f"no version (readers of :{self.label} get nothing yet)"
        return (
            f"The label {self.label} still marks the previous credentials ({before}); the new values are "
            f"written as {staged.version} without the label, so readers of <name>:{self.label} are not "
            "affected"
        )
