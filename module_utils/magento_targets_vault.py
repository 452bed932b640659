"""Target vault_file: an Ansible Vault-encrypted YAML (or JSON) file of the credentials fields.

Encryption and decryption are ansible-vault's own (the CLI of the ansible-core that runs this module), with
the vault ids and password files given as ansible-playbook takes them (``--vault-id label@source``, where
source is a password file or a script, and ``--vault-password-file``); ansible-vault also reads the
ANSIBLE_VAULT_* environment and ansible.cfg as ansible-playbook does. Plaintext only ever passes through
pipes. Rotation: the new version is encrypted into ``<path>.pending`` (0600), decrypted back, the probe is
signed with what was decrypted, and only then the pending file replaces ``path`` (os.replace, atomic). A
failure before that leaves ``path`` as it was.

Public API (stable):
    class VaultFile(opts)                 the backend (see magento_targets)
    render_vault_text(credentials, fmt) -> str; parse_vault_text(text, fmt) -> Credentials
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_credentials import FIELDS, Credentials, CredentialsFileError, parse, render
from ansible.module_utils.magento_targets import Staged, Stored

PENDING_SUFFIX = ".pending"
PROBE_TEXT = "reintegrate: vault preflight\n"
HEADER = "# Magento OAuth credentials (reintegrate). Decrypt with ansible-vault view.\n"


def render_vault_text(credentials: Credentials, fmt: str) -> str:
    if fmt == "json":
        return render(credentials, "json")
    data = {name: getattr(credentials, name) for name in FIELDS}
    return HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=4096)


def parse_vault_text(text: str, fmt: str) -> Credentials:
    """Raises CredentialsFileError naming what is wrong (never a value)."""
    if fmt == "json":
        return parse(text, "json")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise CredentialsFileError("is not valid YAML") from None
    if not isinstance(data, dict):
        raise CredentialsFileError("is not a YAML mapping")
    return parse(json.dumps({k: v for k, v in data.items() if isinstance(v, str)}), "json")


def _fingerprint(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return "sha256:" + hashlib.sha256(handle.read()).hexdigest()[:12]
    except FileNotFoundError:
        return None


class VaultFile:
    def __init__(self, opts: Any) -> None:
        if not HAS_YAML:
            raise ModuleFailure(
                "PyYAML is needed by target vault_file: pip install pyyaml (ansible needs it too)"
            )
        self.opts = opts
        self.path = os.path.abspath(opts.path)
        self.pending = self.path + PENDING_SUFFIX
        self.fmt = opts.format
        self.where = f"vault file {self.path}"
        self.current_name = "the file"
        self.current_text = "the file is {}"
        self.command = self._command()
        self.tmpdir: str | None = None
        self.ids = self._vault_args()

    def close(self) -> None:
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    # ---------- ansible-vault ----------
    def _command(self) -> str:
        if self.opts.vault_command:
            return self.opts.vault_command
        beside = os.path.join(os.path.dirname(sys.executable), "ansible-vault")
        found = beside if os.access(beside, os.X_OK) else shutil.which("ansible-vault")
        if not found:
            raise ModuleFailure(
                "ansible-vault is not installed beside this module's Python nor on PATH: install "
                "ansible-core for it (the role runs this module on the control node), or set vault_command"
            )
        return found

    def _vault_args(self) -> list[str]:
        ids = list(self.opts.vault_id)
        for value in ids:
            if value.partition("@")[2] in ("prompt", "prompt_ask_vault_pass") or value == "prompt":
                raise ModuleFailure(
                    f"vault id {value!r} asks for a prompt, which a module cannot answer: give a password "
                    "file or script (label@/path), or vault_password"
                )
        if self.opts.vault_password:
            self.tmpdir = tempfile.mkdtemp(prefix="reintegrate-vault-")  # 0700
            secret = os.path.join(self.tmpdir, "password")
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.opts.vault_password)
            ids.append(f"{self.label()}@{secret}")
        args = [f"--vault-id={value}" for value in ids]
        args += [f"--vault-password-file={path}" for path in self.opts.vault_password_file]
        return args

    def label(self) -> str:
        if self.opts.encrypt_vault_id:
            return self.opts.encrypt_vault_id
        for value in self.opts.vault_id:
            if "@" in value:
                return value.split("@", 1)[0] or "default"
        return "default"

    def _run(self, args: list[str], stdin: str | None, what: str) -> str:
        env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
        try:
            proc = subprocess.run(
                [self.command, *args, *self.ids],
                input=stdin,
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
        except OSError as exc:
            raise ModuleFailure(f"cannot run {self.command} ({exc.strerror}): fix vault_command") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in proc.stderr.splitlines() if "ERROR" in ln] or [
                ln.strip() for ln in proc.stderr.splitlines() if ln.strip()
            ]
            cause = " ".join(lines[-2:])[:400] or f"exit {proc.returncode}"
            raise ModuleFailure(
                f"ansible-vault could not {what} ({cause}): fix vault_id / vault_password_file (the label "
                "and the password file or script, as ansible-playbook takes them)",
                vault_rc=proc.returncode,
            )
        return proc.stdout

    def _encrypt(self, text: str) -> str:
        return self._run(
            ["encrypt", f"--encrypt-vault-id={self.label()}", "--output=-", "-"], text, "encrypt"
        )

    def _decrypt(self, path: str) -> str:
        return self._run(["decrypt", "--output=-", path], None, f"decrypt {path}")

    # ---------- reading ----------
    def _read(self, path: str) -> Stored:
        if not os.path.lexists(path):
            return Stored(None)
        if not os.path.isfile(path):
            raise ModuleFailure(f"{path} is not a regular file: move it aside or choose another path")
        try:
            return Stored(parse_vault_text(self._decrypt(path), self.fmt), _fingerprint(path))
        except CredentialsFileError as exc:
            return Stored(None, _fingerprint(path), f"it decrypts, but {exc} ({self.fmt} expected)")

    def current(self) -> Stored:
        return self._read(self.path)

    # ---------- preflight ----------
    def _check_folder(self) -> str:
        folder = os.path.dirname(self.path)
        current = folder
        while not os.path.lexists(current) and os.path.dirname(current) != current:
            current = os.path.dirname(current)
        if os.path.isdir(self.path) or not os.path.isdir(current):
            raise ModuleFailure(f"vault_file path {self.path} cannot be a file: {current} is in the way")
        if not os.access(current, os.W_OK | os.X_OK):
            raise ModuleFailure(
                f"cannot write {self.path}: {current} is not writable (permissions or a read-only file "
                "system): make it writable or choose another path"
            )
        return current

    def prove(self, check_mode: bool) -> tuple[list[str], bool, Stored]:
        if "$ANSIBLE_VAULT" not in self._encrypt(PROBE_TEXT):
            raise ModuleFailure("ansible-vault encrypt printed no vault text: check vault_command")
        proofs = [f"ansible-vault encrypts with vault id {self.label()}"]
        current = self.current()
        if current.version:
            proofs.append(f"ansible-vault decrypts {self.path}")
        folder = self._check_folder()
        proofs.append(f"{folder} is writable")
        return proofs, False, current

    # ---------- rotation ----------
    def _write_private(self, path: str, text: str) -> None:
        folder = os.path.dirname(path)
        missing = []
        while not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for created in reversed(missing):
            os.mkdir(created, 0o700)
            os.chmod(created, 0o700)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path) + ".")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise ModuleFailure(
                f"cannot write {path}: {exc.strerror}: fix the folder's permissions or free space"
            ) from None

    def stage(self, creds: Credentials, current: Stored) -> Staged:
        try:
            self._write_private(self.pending, self._encrypt(render_vault_text(creds, self.fmt)))
        except OSError as exc:
            raise ModuleFailure(f"cannot create {self.pending}: {exc.strerror}: fix the folder") from None
        return Staged(f"{os.path.basename(self.pending)} ({_fingerprint(self.pending)})")

    def read_staged(self, staged: Staged) -> Stored:
        return self._read(self.pending)

    def promote(self, staged: Staged, current: Stored) -> str:
        os.replace(self.pending, self.path)
        with contextlib.suppress(OSError):
            fd = os.open(os.path.dirname(self.path), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return _fingerprint(self.path) or ""

    def kept(self, staged: Staged, current: Stored) -> str:
        before = "keeps the previous credentials" if current.version else "was not created"
        return f"{self.path} {before}; the new version waits, encrypted (0600), in {self.pending}"
