"""Credential targets besides the file: AWS SSM Parameter Store, AWS Secrets Manager, an Ansible Vault file.

Public API (stable):
    TargetOptions, IAM_ACTIONS and the argument_spec: magento_targets_options
    class Stored(credentials, version, note, detail)   what a reader of the target gets now
    class Staged(version, detail, reused)              a written version that readers do not get yet
    document(credentials) -> str                       the JSON document (the json credentials file)
    scrub(text, *credentials) -> str                   text with those credentials' secret values masked
    run_target(options, *, check_mode=False, want_diff=False) -> dict
        prove:   read the target and prove it can be written, changing no stored credentials
        export:  write the target's current credentials to export_to (the role's working copy)
        deliver: converge the target on src: new version, read back, signed probe, then current
        raises ModuleFailure naming the cause and the fix; no value ever appears in a result or message.

A backend (magento_targets_ssm, _secretsmanager, _vault) has: where, current_name, current_text,
prove(check_mode) -> (proofs, changed, Stored), current() -> Stored, stage(credentials, current) -> Staged,
read_staged(staged) -> Stored, promote(staged, current) -> str, kept(staged, current) -> str, close().
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_credentials import (
    FIELDS,
    SECRET_FIELDS,
    Credentials,
    CredentialsFileError,
    changed_fields,
    read_credentials,
    render,
    write_credentials,
)
from ansible.module_utils.magento_oauth import OAuthTransportError, RestError, probe
from ansible.module_utils.magento_targets_options import TargetOptions, validate


@dataclass
class Stored:
    """What a reader of the target gets now. ``version`` names it (never a value); ``note`` says why
    ``credentials`` is None although something is stored."""

    credentials: Credentials | None
    version: str | None = None
    note: str | None = None
    detail: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Staged:
    """A version that was written but that readers do not get yet."""

    version: str
    detail: dict[str, Any] = field(default_factory=dict, repr=False)
    reused: bool = False


def document(credentials: Credentials) -> str:
    """The JSON document the json credentials file holds (keys FIELDS, in that order)."""
    return render(credentials, "json")


def scrub(text: str, *credentials: Credentials | None) -> str:
    """``text`` with every secret value of ``credentials`` replaced by a marker (for messages that quote
    a server's answer to a request that carried them)."""
    for creds in credentials:
        if creds is None:
            continue
        for name in SECRET_FIELDS:
            value = getattr(creds, name)
            if value and len(value) >= 4:
                text = text.replace(value, f"({name})")
    return text


def backend_for(opts: TargetOptions) -> Any:
    if opts.target == "aws_ssm":
        from ansible.module_utils.magento_targets_ssm import SsmParameters

        return SsmParameters(opts)
    if opts.target == "aws_secretsmanager":
        from ansible.module_utils.magento_targets_secretsmanager import SecretsManagerSecret

        return SecretsManagerSecret(opts)
    from ansible.module_utils.magento_targets_vault import VaultFile

    return VaultFile(opts)


def _redacted(where: str, creds: Credentials | None, new_fields: set[str]) -> str:
    if creds is None:
        return ""
    values = asdict(creds)
    lines = [f"# {where}"]
    for name in FIELDS:
        if name in SECRET_FIELDS:
            lines.append(f"{name}: ({'new secret' if name in new_fields else 'secret'})")
        else:
            lines.append(f"{name}: {values[name]}")
    return "\n".join(lines) + "\n"


class _Run:
    def __init__(self, opts: TargetOptions, check_mode: bool, want_diff: bool) -> None:
        self.opts = opts
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.started = time.monotonic()
        self.warnings: list[str] = []
        self.result: dict[str, Any] = {"changed": False, "target": opts.target, "operation": opts.operation}
        self.backend: Any = None

    def run(self) -> dict[str, Any]:
        validate(self.opts)
        self.backend = backend_for(self.opts)
        self.result["where"] = self.backend.where
        getattr(self, self.opts.operation)()
        self.result["warnings"] = self.warnings
        self.result["seconds"] = round(time.monotonic() - self.started, 3)
        return self.result

    # ---------- prove ----------
    def prove(self) -> None:
        proofs, changed, current = self.backend.prove(self.check_mode)
        self.result.update(changed=changed, proofs=proofs, version=current.version)
        self.result["holds_credentials"] = current.credentials is not None
        if current.note:
            self.warnings.append(f"{self.backend.where}: {current.note}; the delivery replaces it")

    # ---------- export ----------
    def export(self) -> None:
        path = self.opts.export_to or ""
        current = self.backend.current()
        self.result.update(export_to=path, exported=False, version=current.version)
        if current.credentials is None:
            self.result["reason"] = current.note or f"{self.backend.where} holds no credentials yet"
            return
        try:
            existing = read_credentials(path, self.opts.export_format)
        except CredentialsFileError:
            existing = None
        if existing == current.credentials:
            self.result["reason"] = "identical"
            return
        if os.path.lexists(path) and (
            self.opts.keep_existing
            or (existing is not None and existing.obtained_at >= current.credentials.obtained_at)
        ):
            # A newer file: credentials a failed run minted and proved, which the target does not hold yet.
            self.result["reason"] = f"{path} is kept: it holds credentials newer than the target's"
            return
        self.result.update(changed=True, exported=True, reason="written")
        if not self.check_mode:
            try:
                write_credentials(path, current.credentials, self.opts.export_format)
            except CredentialsFileError as exc:
                raise ModuleFailure(str(exc)) from None

    # ---------- deliver ----------
    def source(self) -> Credentials | None:
        path = self.opts.src or ""
        try:
            creds = read_credentials(path, self.opts.src_format)
        except CredentialsFileError as exc:
            raise ModuleFailure(str(exc)) from None
        if creds is None and not (self.check_mode and self.opts.src_replaced):
            raise ModuleFailure(
                f"no credentials file at src {path}: deliver hands on the credentials the handshake proved "
                "and wrote there: run the whole role (reinstall_integration.yml), or point src at that file"
            )
        return creds

    def deliver(self) -> None:
        src = self.source()
        current = self.backend.current()
        self.result["previous_version"] = current.version
        if current.note:
            self.warnings.append(f"{self.backend.where}: {current.note}; it is replaced")
        if self.check_mode and self.opts.src_replaced:
            # The handshake would mint new tokens: every secret and obtained_at change.
            keep = {"base_url"} if current.credentials is not None else set()
            return self.finish(current, [f for f in FIELDS if f not in keep], None, current.version)
        assert src is not None
        fields = changed_fields(current.credentials, src)
        if not fields or self.check_mode:
            return self.finish(current, fields, src, current.version)
        staged = self.backend.stage(src, current)
        self.result.update(changed=True, staged_version=staged.version, staged_reused=staged.reused)
        self.prove_staged(src, staged, current)
        version = self.backend.promote(staged, current)
        self.result["rotated"] = current.credentials is not None
        return self.finish(current, fields, src, version)

    def prove_staged(self, src: Credentials, staged: Staged, current: Stored) -> None:
        """Read the new version back and sign the probe with what was read: only then may it be made
        current. A failure leaves the previous version current and says so."""
        back = self.backend.read_staged(staged)
        kept = self.backend.kept(staged, current)
        tail = (
            f" The proven credentials are still in {self.opts.src} (0600). Fix the cause and rerun: the run "
            "delivers them again."
        )
        if back.credentials != src:
            differ = changed_fields(back.credentials, src) if back.credentials else ["(unreadable)"]
            raise ModuleFailure(
                f"{self.backend.where}: the new version {staged.version} read back differs from what was "
                f"written ({', '.join(differ)}; {back.note or 'another writer?'}). {kept}.{tail}",
                staged_version=staged.version,
                previous_version=current.version,
            )
        base_url = (self.opts.base_url or back.credentials.base_url).rstrip("/") + "/"
        started = time.monotonic()
        try:
            status = probe(
                base_url,
                self.opts.probe_path,
                back.credentials,
                timeout=self.opts.http_timeout,
                verify=self.opts.validate_certs,
            )
        except RestError as exc:
            raise ModuleFailure(
                f"{self.backend.where}: the signed probe with the credentials read back from the new version "
                f"{staged.version} failed: {scrub(exc.message, src)}. {kept}.{tail}",
                probe={"path": self.opts.probe_path, "status": exc.status},
                staged_version=staged.version,
                previous_version=current.version,
            ) from None
        except OAuthTransportError as exc:
            raise ModuleFailure(
                f"{self.backend.where}: the signed probe of the new version {staged.version} could not reach "
                f"the store: {exc}. {kept}.{tail}",
                staged_version=staged.version,
                previous_version=current.version,
            ) from None
        self.result["probe"] = {
            "path": self.opts.probe_path,
            "status": status,
            "seconds": round(time.monotonic() - started, 3),
        }

    def finish(
        self, current: Stored, fields: list[str], src: Credentials | None, version: str | None
    ) -> None:
        self.result["changed_fields"] = fields
        self.result["version"] = version
        self.result["current"] = self.backend.current_name
        self.result["holds"] = self.backend.current_text.format(version) if version else "nothing yet"
        self.result.setdefault("rotated", False)
        self.result.setdefault("probe", {"path": self.opts.probe_path, "status": None})
        if fields:
            self.result["changed"] = True
        if self.want_diff and fields:
            after = src or Credentials(
                base_url=current.credentials.base_url if current.credentials else "",
                consumer_key="",
                consumer_secret="",
                access_token="",
                access_token_secret="",
                obtained_at="(at the handshake)",
            )
            self.result["diff"] = {
                "before_header": self.backend.where,
                "after_header": self.backend.where,
                "before": _redacted(self.backend.where, current.credentials, set()),
                "after": _redacted(self.backend.where, after, set(fields)),
            }


def run_target(opts: TargetOptions, *, check_mode: bool = False, want_diff: bool = False) -> dict[str, Any]:
    run = _Run(opts, check_mode, want_diff)
    try:
        return run.run()
    except ModuleFailure as exc:
        exc.details.setdefault("changed", bool(run.result.get("changed")) and not check_mode)
        exc.details.setdefault("target", opts.target)
        if run.backend is not None:
            exc.details.setdefault("where", run.backend.where)
        raise
    finally:
        if run.backend is not None:
            run.backend.close()
