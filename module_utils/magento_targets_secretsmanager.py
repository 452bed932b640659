"""Target aws_secretsmanager: one secret whose value is the JSON document the credentials file holds.

Rotation scheme (Secrets Manager's own staging labels): the new document is written as a new version with
AWSPENDING only (PutSecretValue VersionStages=[AWSPENDING]), read back by its VersionId, the probe is
signed with what was read, and only then AWSCURRENT moves onto it (UpdateSecretVersionStage; Secrets
Manager moves AWSPREVIOUS to the version it leaves) and AWSPENDING is taken off. A failure before that
leaves AWSCURRENT where it was. A secret's very first version gets AWSCURRENT from Secrets Manager at once:
there is no previous one to keep.

Public API (stable):
    class SecretsManagerSecret(opts)      the backend (see magento_targets)
"""

from __future__ import annotations

import uuid
from typing import Any

from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_credentials import Credentials, CredentialsFileError, parse
from ansible.module_utils.magento_targets import Staged, Stored, document
from ansible.module_utils.magento_targets_aws import AwsApi

CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
NOT_FOUND = ("ResourceNotFoundException",)


class SecretsManagerSecret:
    def __init__(self, opts: Any) -> None:
        self.opts = opts
        self.name = opts.name
        self.where = f"Secrets Manager secret {opts.name}"
        self.current_name = CURRENT
        self.current_text = CURRENT + " is version {}"
        self.api = AwsApi("secretsmanager", opts)

    def close(self) -> None:
        return None

    # ---------- reading ----------
    def _describe(self) -> dict[str, Any] | None:
        reply, _ = self.api.call("DescribeSecret", self.name, expect=NOT_FOUND, SecretId=self.name)
        if reply is not None and reply.get("DeletedDate"):
            raise ModuleFailure(
                f"{self.where} is scheduled for deletion: restore it (aws secretsmanager restore-secret "
                f"--secret-id {self.name}) or choose another name"
            )
        return reply

    def _value(self, version_id: str) -> tuple[Credentials | None, str | None, str | None]:
        """(credentials, note, the raw SecretString) of one version, read by its VersionId."""
        reply, _ = self.api.call("GetSecretValue", self.name, SecretId=self.name, VersionId=version_id)
        text = reply.get("SecretString")
        if text is None:
            return None, f"version {version_id} holds a binary secret, not the credentials document", None
        try:
            return parse(text, "json"), None, text
        except CredentialsFileError as exc:
            return None, f"version {version_id} is not the credentials document ({exc})", text

    def current(self) -> Stored:
        described = self._describe()
        if described is None:
            return Stored(None, None, None, {"exists": False})
        stages: dict[str, list[str]] = described.get("VersionIdsToStages") or {}
        current_id = next((v for v, s in stages.items() if CURRENT in s), None)
        pending_id = next((v for v, s in stages.items() if PENDING in s and CURRENT not in s), None)
        detail = {"exists": True, "current_id": current_id, "pending_id": pending_id, "raw": None}
        if current_id is None:
            return Stored(None, None, None, detail)
        creds, note, raw = self._value(current_id)
        detail["raw"] = raw
        return Stored(creds, current_id, note, detail)

    # ---------- preflight ----------
    def prove(self, check_mode: bool) -> tuple[list[str], bool, Stored]:
        current = self.current()  # DescribeSecret, GetSecretValue (and kms:Decrypt)
        detail = current.detail
        proofs = [
            "secretsmanager:DescribeSecret and GetSecretValue read AWSCURRENT"
            if detail["exists"]
            else "secretsmanager:DescribeSecret: the secret does not exist yet"
        ]
        changed = False
        if detail["exists"] and detail["current_id"] and detail["raw"] is not None:
            # The same token and the same value as the current version: Secrets Manager ignores the call.
            reply, _ = self.api.call(
                "PutSecretValue",
                self.name,
                SecretId=self.name,
                ClientRequestToken=detail["current_id"],
                SecretString=detail["raw"],
                VersionStages=[CURRENT],
                mask=current.credentials,
            )
            if reply.get("VersionId") != detail["current_id"]:
                raise ModuleFailure(f"{self.where}: the idempotent PutSecretValue made a new version")
            proofs.append("secretsmanager:PutSecretValue allowed (the current version replayed, nothing new)")
        elif not detail["exists"]:
            _, code = self.api.call(
                "PutSecretValue",
                self.name,
                expect=NOT_FOUND,
                SecretId=self.name,
                ClientRequestToken=str(uuid.uuid4()),
                SecretString="{}",
            )
            if code is None:
                raise ModuleFailure(f"{self.where} did not exist, yet PutSecretValue stored a version")
            proofs.append("secretsmanager:PutSecretValue allowed (ResourceNotFoundException, nothing stored)")
        else:
            proofs.append("secretsmanager:PutSecretValue not provable before the secret's first version")
        _, code = self.api.call(
            "UpdateSecretVersionStage",
            self.name,
            expect=("InvalidParameterException", "ResourceNotFoundException", "InvalidRequestException"),
            SecretId=self.name,
            VersionStage=PENDING,
            RemoveFromVersionId=str(uuid.uuid4()),  # no such version: nothing moves
        )
        if code is None:
            raise ModuleFailure(
                f"{self.where}: UpdateSecretVersionStage on a version that does not exist passed"
            )
        proofs.append(f"secretsmanager:UpdateSecretVersionStage allowed ({code}, nothing moved)")
        if not detail["exists"] and check_mode:
            proofs.append("would create the secret (check mode: CreateSecret not proven)")
        elif not detail["exists"]:
            self._create()
            changed = True
            proofs.append("secretsmanager:CreateSecret allowed: created the secret without a value")
        return proofs, changed, current

    def _create(self) -> None:
        args: dict[str, Any] = {"Name": self.name}
        if self.opts.description:
            args["Description"] = self.opts.description[:2048]
        if self.opts.kms_key_id:
            args["KmsKeyId"] = self.opts.kms_key_id
        self.api.call("CreateSecret", self.name, **args)

    # ---------- rotation ----------
    def stage(self, creds: Credentials, current: Stored) -> Staged:
        detail = current.detail
        if not detail.get("exists"):
            self._create()
        pending_id = detail.get("pending_id")
        if pending_id:
            pending, _, _ = self._value(pending_id)
            if pending == creds:  # written by a run that failed before the move: prove it again
                return Staged(pending_id, {"first": not detail.get("current_id")}, reused=True)
        reply, _ = self.api.call(
            "PutSecretValue",
            self.name,
            mask=creds,
            SecretId=self.name,
            ClientRequestToken=str(uuid.uuid4()),
            SecretString=document(creds),
            VersionStages=[PENDING],
        )
        return Staged(reply["VersionId"], {"first": not detail.get("current_id")})

    def read_staged(self, staged: Staged) -> Stored:
        creds, note, _ = self._value(staged.version)
        return Stored(creds, staged.version, note)

    def promote(self, staged: Staged, current: Stored) -> str:
        stages = (self._describe() or {}).get("VersionIdsToStages") or {}
        if CURRENT not in stages.get(staged.version, []):
            args: dict[str, Any] = {"MoveToVersionId": staged.version}
            if current.detail.get("current_id"):
                args["RemoveFromVersionId"] = current.detail["current_id"]
            self.api.call(
                "UpdateSecretVersionStage", self.name, SecretId=self.name, VersionStage=CURRENT, **args
            )
        if PENDING in stages.get(staged.version, []):
            self.api.call(
                "UpdateSecretVersionStage",
                self.name,
                SecretId=self.name,
                VersionStage=PENDING,
                RemoveFromVersionId=staged.version,
            )
        return staged.version

    def kept(self, staged: Staged, current: Stored) -> str:
        if staged.detail.get("first"):
            return (
                "The secret had no version before, so Secrets Manager made this first version "
                f"{staged.version} {CURRENT} at once; it also carries {PENDING}"
            )
        return (
            f"{CURRENT} still points at version {current.version} (the previous credentials); the new "
            f"version {staged.version} carries only {PENDING}"
        )
