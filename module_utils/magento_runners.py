"""Reach a Magento site's files and commands: through Docker (SDK exec/archive) or locally.

Public API (stable):
    @dataclass CommandResult(rc: int, stdout: str, stderr: str, seconds: float)
    class Runner(Protocol)
        run(argv, cwd=None, timeout=60, user=None) -> CommandResult   (raises ModuleFailure on timeout)
        read_file(path) -> bytes | None                               (None when absent)
        read_files(root, rels) -> {rel: bytes}                        (the ones present)
        write_files(dest_dir, files: {relpath: bytes}, mode=0o644, owner=None) -> None
        file_hashes(dir) -> {relpath: sha256 hex}                     ({} when absent)
        exists(path) -> bool
        remove_tree(path) -> None
        glob(root, patterns) -> list[str]                             (paths relative to root, sorted)
    class DockerRunner(container, docker_host=None)      class LocalRunner()
        DockerRunner.read_bundle(root, paths, module_rels)  files and module trees in one exec
    runner_from_params(SiteParams) -> Runner              one per process and target (shared_runner)
    HAS_DOCKER                                            whether the Docker SDK imports
Paths given to a runner are absolute on the site. Errors are ModuleFailure naming cause and fix.
The Magento installation reached through a runner is magento_site.Site.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_contract import APP_CODE, MODULE_XML
from ansible.module_utils.magento_read_snapshot import shared_runner

# Only runner: docker needs the Docker SDK; the module's main() reports it missing (magento_requirements).
try:
    from docker.errors import DockerException, NotFound

    import docker

    HAS_DOCKER = True
except ImportError:
    docker = None  # type: ignore[assignment]
    DockerException = NotFound = Exception  # type: ignore[assignment,misc]
    HAS_DOCKER = False

UP_HINT = "start the stack: ansible-playbook playbooks/up.yml"
TIMEOUT_RC = 124  # coreutils timeout(1)


@dataclass(frozen=True)
class CommandResult:
    rc: int
    stdout: str
    stderr: str
    seconds: float


class Runner(Protocol):
    def run(
        self, argv: list[str], cwd: str | None = None, timeout: int = 60, user: str | None = None
    ) -> CommandResult: ...
    def read_file(self, path: str) -> bytes | None: ...
    def read_files(self, root: str, rels: list[str]) -> dict[str, bytes]: ...
    def write_files(
        self, dest_dir: str, files: dict[str, bytes], mode: int = 0o644, owner: str | None = None
    ) -> None: ...
    def file_hashes(self, directory: str) -> dict[str, str]: ...
    def exists(self, path: str) -> bool: ...
    def remove_tree(self, path: str) -> None: ...
    def glob(self, root: str, patterns: list[str]) -> list[str]: ...


def _timeout_failure(argv: list[str], timeout: int) -> ModuleFailure:
    return ModuleFailure(
        f"command {' '.join(argv[:3])}... did not finish within {timeout} s: raise the timeout option, "
        "or check that the site is not blocked (maintenance, locked DB)",
        timed_out=True,
    )


def _tar_members(data: bytes) -> dict[str, bytes]:
    """Regular files of a tar archive: name (as stored) → content."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                fh = tar.extractfile(member)
                if fh is not None:
                    out[member.name] = fh.read()
    return out


def _glob_script(patterns: list[str]) -> str:
    # Patterns are fixed by this project (never user input); quoting keeps the glob active.
    for p in patterns:
        if any(c in p for c in "'\"`$;&|\n"):
            raise ValueError(f"unsafe glob pattern {p!r}")
    return "for f in " + " ".join(patterns) + '; do [ -e "$f" ] && printf "%s\\n" "$f"; done; true'


def _bundle_script(module_rels: tuple[str, ...]) -> str:
    """sh -c script: $1 the root, then paths; each module's module_rels file found is listed on stderr and,
    with its module.xml, added to the paths; all of them leave as one tar on stdout."""
    loops = []
    for rel in module_rels:
        if any(c in rel for c in "'\"`$;&|*?[\n"):
            raise ValueError(f"unsafe module file {rel!r}")
        loops.append(
            f"for f in vendor/*/*/{rel} {APP_CODE}/*/*/{rel}; do "
            f'[ -e "$f" ] || continue; printf "%s\\n" "$f" >&2; '
            f'set -- "$@" "$f" "${{f%/{rel}}}/{MODULE_XML}"; done'
        )
    tar = 'exec tar -cf - --ignore-failed-read -- "$@" 2>/dev/null'
    return 'cd "$1" || exit 3; shift; ' + "; ".join(loops) + "; " + tar


class DockerRunner:
    """Runs in a container through the Docker SDK from the control node."""

    def __init__(self, container: str, docker_host: str | None = None) -> None:
        if not HAS_DOCKER:  # modules report it first (magento_requirements); this guards direct callers
            raise ModuleFailure(
                "the Python 'docker' package is missing on the control node: install it in the venv "
                "(pip install docker), or use runner: local"
            )
        try:
            self.client = (
                docker.DockerClient(base_url=docker_host, timeout=3600)
                if docker_host
                else docker.from_env(timeout=3600)
            )
            self.container = self.client.containers.get(container)
        except NotFound:
            raise ModuleFailure(f"container {container!r} not found: {UP_HINT}") from None
        except DockerException as exc:
            raise ModuleFailure(
                f"cannot reach the Docker engine ({type(exc).__name__}): start Docker "
                "(scripts/ensure-docker.sh) "
                "or set docker_host"
            ) from None
        if self.container.status != "running":
            raise ModuleFailure(f"container {container!r} is {self.container.status}, not running: {UP_HINT}")
        self.name = container
        self._not_found = NotFound

    def run(
        self, argv: list[str], cwd: str | None = None, timeout: int = 60, user: str | None = None
    ) -> CommandResult:
        # timeout(1) kills the process inside the container; the thread join bounds our own wait.
        cmd = ["timeout", "--kill-after=10", str(int(timeout)), *argv]
        api = self.client.api
        started = time.monotonic()
        exec_id = api.exec_create(
            self.container.id, cmd, workdir=cwd, user=user or "", stdout=True, stderr=True
        )
        box: dict[str, object] = {}

        def target() -> None:
            try:
                box["out"] = api.exec_start(exec_id, demux=True)
            except Exception as exc:
                box["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(timeout + 20)
        seconds = time.monotonic() - started
        if thread.is_alive():
            raise _timeout_failure(argv, timeout)
        if "error" in box:
            raise ModuleFailure(f"docker exec in {self.name!r} failed ({box['error']}): {UP_HINT}")
        stdout, stderr = box["out"]  # type: ignore[misc]
        rc = api.exec_inspect(exec_id).get("ExitCode")
        if rc == TIMEOUT_RC or (rc == 137 and seconds >= timeout):
            raise _timeout_failure(argv, timeout)
        return CommandResult(
            rc=int(rc if rc is not None else -1),
            stdout=(stdout or b"").decode("utf-8", "replace"),
            stderr=(stderr or b"").decode("utf-8", "replace"),
            seconds=round(seconds, 3),
        )

    def read_files(self, root: str, rels: list[str]) -> dict[str, bytes]:
        """Many files in one exec (tar of them to stdout): one round trip instead of one per file."""
        if not rels:
            return {}
        cmd = ["tar", "-cf", "-", "--ignore-failed-read", "-C", root, "--", *rels]
        api = self.client.api
        exec_id = api.exec_create(self.container.id, cmd, stdout=True, stderr=False)
        data = api.exec_start(exec_id)
        try:
            members = _tar_members(data or b"")
        except tarfile.TarError:
            # Under load the engine can drop a short exec's output (seen on a 10-store fleet): an empty
            # answer. Nothing is returned then, so each caller reads every file alone, as it does for a
            # file this read missed.
            return {}
        wanted = set(rels)
        return {name: content for name, content in members.items() if name in wanted}

    def read_bundle(
        self, root: str, paths: list[str], module_rels: tuple[str, ...]
    ) -> tuple[dict[str, bytes], list[str]]:
        """paths (files or folders under root) and every module's module_rels files with their module.xml,
        in one exec: (regular file → content, the module_rels files found, sorted as glob() sorts them)."""
        cmd = ["sh", "-c", _bundle_script(module_rels), "sh", root, *paths]
        api = self.client.api
        exec_id = api.exec_create(self.container.id, cmd, stdout=True, stderr=True)
        stdout, stderr = api.exec_start(exec_id, demux=True)
        rc = api.exec_inspect(exec_id).get("ExitCode")
        if rc != 0:
            raise ModuleFailure(f"the bundled read of {root} in {self.name!r} ended with rc {rc}")
        found = sorted({line for line in (stderr or b"").decode("utf-8", "replace").splitlines() if line})
        return _tar_members(stdout or b""), found

    def _archive(self, path: str) -> bytes | None:
        try:
            stream, _stat = self.container.get_archive(path)
        except self._not_found:
            return None
        return b"".join(stream)

    def read_file(self, path: str) -> bytes | None:
        for attempt in (1, 2):
            data = self._archive(path)
            if data is None:
                return None
            try:
                members = _tar_members(data)
            except tarfile.TarError:  # a cut answer: once more, then say so
                if attempt == 2:
                    raise ModuleFailure(
                        f"reading {path} in {self.name!r} through the Docker engine gave a broken archive "
                        "twice: check the engine (docker info) and run again"
                    ) from None
                continue
            return members.get(posixpath.basename(path.rstrip("/")))
        return None

    def write_files(
        self, dest_dir: str, files: dict[str, bytes], mode: int = 0o644, owner: str | None = None
    ) -> None:
        uid, gid = (int(x) for x in owner.split(":")) if owner else (0, 0)
        res = self.run(["mkdir", "-p", dest_dir], timeout=30)
        if res.rc != 0:
            raise ModuleFailure(f"cannot create {dest_dir} in {self.name!r}: {res.stderr.strip()}")
        buf = io.BytesIO()
        now = time.time()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            dirs: set[str] = set()
            for rel in sorted(files):
                parts = rel.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    d = "/".join(parts[:i])
                    if d not in dirs:
                        dirs.add(d)
                        info = tarfile.TarInfo(d)
                        info.type, info.mode, info.uid, info.gid, info.mtime = (
                            tarfile.DIRTYPE,
                            0o755,
                            uid,
                            gid,
                            now,
                        )
                        tar.addfile(info)
                info = tarfile.TarInfo(rel)
                info.size, info.mode, info.uid, info.gid, info.mtime = len(files[rel]), mode, uid, gid, now
                tar.addfile(info, io.BytesIO(files[rel]))
        if not self.container.put_archive(dest_dir, buf.getvalue()):
            raise ModuleFailure(
                f"writing files to {dest_dir} in {self.name!r} failed: check the container's disk"
            )

    def file_hashes(self, directory: str) -> dict[str, str]:
        data = self._archive(directory.rstrip("/"))
        if data is None:
            return {}
        base = posixpath.basename(directory.rstrip("/"))
        out = {}
        for name, content in _tar_members(data).items():
            rel = name[len(base) + 1 :] if name.startswith(base + "/") else name
            out[rel] = hashlib.sha256(content).hexdigest()
        return out

    def exists(self, path: str) -> bool:
        return self.run(["test", "-e", path], timeout=30).rc == 0

    def remove_tree(self, path: str) -> None:
        res = self.run(["rm", "-rf", "--", path], timeout=60)
        if res.rc != 0:
            raise ModuleFailure(f"cannot remove {path} in {self.name!r}: {res.stderr.strip()}")

    def glob(self, root: str, patterns: list[str]) -> list[str]:
        res = self.run(["sh", "-c", _glob_script(patterns)], cwd=root, timeout=60)
        if res.rc != 0:  # e.g. 126 'chdir to cwd ... no such file': that text is no list of paths
            detail = (res.stderr.strip() or res.stdout.strip() or "no output")[-200:]
            raise ModuleFailure(
                f"cannot list files under {root} in {self.name!r} (rc {res.rc}: {detail}): check magento_root"
            )
        return sorted(line for line in res.stdout.splitlines() if line)


class LocalRunner:
    """Runs on the host the module executes on (the control node, or an SSH target)."""

    def run(
        self, argv: list[str], cwd: str | None = None, timeout: int = 60, user: str | None = None
    ) -> CommandResult:
        cmd = list(argv)
        if user and user != _current_user():
            cmd = ["sudo", "-n", "-u", user, "--", *cmd]
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise _timeout_failure(argv, timeout) from None
        except FileNotFoundError as exc:
            raise ModuleFailure(
                f"cannot run {argv[0]!r} in {cwd or '.'}: {exc.strerror}; check magento_root and cli_command"
            ) from None
        return CommandResult(
            rc=proc.returncode,
            stdout=proc.stdout.decode("utf-8", "replace"),
            stderr=proc.stderr.decode("utf-8", "replace"),
            seconds=round(time.monotonic() - started, 3),
        )

    def read_files(self, root: str, rels: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for rel in rels:
            content = self.read_file(os.path.join(root, rel))
            if content is not None:
                out[rel] = content
        return out

    def read_file(self, path: str) -> bytes | None:
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except PermissionError:
            raise ModuleFailure(
                f"no permission to read {path}: run as the Magento file owner (become)"
            ) from None

    def write_files(
        self, dest_dir: str, files: dict[str, bytes], mode: int = 0o644, owner: str | None = None
    ) -> None:
        for rel, content in sorted(files.items()):
            target = os.path.join(dest_dir, rel)
            parent = os.path.dirname(target)
            os.makedirs(parent, mode=0o755, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=".reintegrate-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(content)
                os.chmod(tmp, mode)
                if owner and os.geteuid() == 0:
                    uid, gid = (int(x) for x in owner.split(":"))
                    os.chown(tmp, uid, gid)
                os.replace(tmp, target)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise

    def file_hashes(self, directory: str) -> dict[str, str]:
        out: dict[str, str] = {}
        if not os.path.isdir(directory):
            return out
        for dirpath, _dirs, names in os.walk(directory):
            for name in names:
                full = os.path.join(dirpath, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    with open(full, "rb") as fh:
                        out[os.path.relpath(full, directory)] = hashlib.sha256(fh.read()).hexdigest()
        return out

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def remove_tree(self, path: str) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)

    def glob(self, root: str, patterns: list[str]) -> list[str]:
        import glob as globmod

        # glob(root_dir=) is Python 3.10+; the Magento host may run 3.9 (RHEL 9): join, then strip the root.
        # The root is escaped, so a [ or * in its path is matched literally.
        base = root.rstrip("/") or "/"
        prefix = base if base.endswith("/") else base + "/"
        found: set[str] = set()
        for pattern in patterns:
            for match in globmod.glob(posixpath.join(globmod.escape(base), pattern)):
                if match.startswith(prefix):
                    found.add(match[len(prefix) :])
        return sorted(found)


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def runner_from_params(params: SiteParams) -> Runner:
    if params.runner == "docker":
        if not params.container:
            raise ModuleFailure(
                "runner is docker but no container is set: set container (e.g. reintegrate-app)"
            )
        container, docker_host = params.container, params.docker_host
        return shared_runner(("docker", container, docker_host), lambda: DockerRunner(container, docker_host))
    return shared_runner(("local",), LocalRunner)
