"""Reach a Magento site's files and commands: through Docker (SDK exec/archive) or locally.

Public API (stable):
    @dataclass CommandResult(rc: int, stdout: str, stderr: str, seconds: float)
    class Runner(Protocol)
        run(argv, cwd=None, timeout=60, user=None) -> CommandResult   (raises ModuleFailure on timeout)
        read_file(path) -> bytes | None                               (None when absent)
        write_files(dest_dir, files: {relpath: bytes}, mode=0o644, owner=None) -> None
        file_hashes(dir) -> {relpath: sha256 hex}                     ({} when absent)
        exists(path) -> bool
        remove_tree(path) -> None
        glob(root, patterns) -> list[str]                             (paths relative to root, sorted)
    class DockerRunner(container, docker_host=None)      class LocalRunner()
    runner_from_params(SiteParams) -> Runner
    class Site(runner, magento_root, cli_command=("bin/magento",), cli_user=None)
        path(rel) -> str;  env() -> EnvConfig;  env_text() -> str;  config_modules() -> {V_M: bool}
        preread_etc()  through Docker: env.php and config.php in one round trip, for their first reads
        env_reader: "parser" (a plain literal) or "php" (how env() read env.php), env_reader_note: why php
        module_dir(V_M) -> str;  acl_xml_files() / webapi_xml_files() -> list[AclFile(module, path, content)]
        cli(args, timeout=600) -> CommandResult;  owner() -> "uid:gid" of the Magento root
        prefetch(module_dirs)  in a read snapshot over Docker: env.php, config.php, the ACL and REST trees
                               and module_dirs read in one round trip, in the background
    site_from_params(SiteParams) -> Site
Paths given to a runner are absolute on the site. Errors are ModuleFailure naming cause and fix.
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
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Protocol

from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_contract import (
    APP_CODE,
    CONFIG_PHP,
    ENV_PHP,
    MODULE_NAME_PATTERN,
    MODULE_XML,
)
from ansible.module_utils.magento_env_php import (
    PHP_ENV_JSON,
    EnvConfig,
    PhpExpressionError,
    PhpOutputError,
    PhpParseError,
    env_config_from_php_json,
    parse_config_php_modules,
    parse_env_php,
)
from ansible.module_utils.magento_read_snapshot import ReadSnapshot, shared_runner

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


@dataclass(frozen=True)
class AclFile:
    module: str
    path: str
    content: bytes = field(repr=False)


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


def module_name_from_xml(content: bytes) -> str | None:
    """``<module name="V_M">`` of an etc/module.xml (C1.3)."""
    try:
        root = ET.fromstring(content)  # noqa: S314 - site file, no DTD processing in ElementTree
    except ET.ParseError:
        return None
    node = root.find("module")
    return node.get("name") if node is not None else None


def setup_version_from_xml(content: bytes) -> str | None:
    """``<module setup_version="...">`` of an etc/module.xml: the version setup:upgrade writes to the
    module's setup_module row (None: the module has no such row, C3.3)."""
    try:
        root = ET.fromstring(content)  # noqa: S314 - site file, no DTD processing in ElementTree
    except ET.ParseError:
        return None
    node = root.find("module")
    return (node.get("setup_version") or None) if node is not None else None


# The module trees the preflight reads: the ACL (C4.1) and the REST routes with the ids each needs (C4.3).
MODULE_TREE_FILES = ("etc/acl.xml", "etc/webapi.xml")


class Site:
    """One Magento installation reached through a runner."""

    def __init__(
        self,
        runner: Runner,
        magento_root: str,
        cli_command: tuple[str, ...] | list[str] = ("bin/magento",),
        cli_user: str | None = None,
    ) -> None:
        self.runner = runner
        self.root = magento_root.rstrip("/") or "/"
        self.cli_command = tuple(cli_command)
        self.cli_user = cli_user
        self._env: EnvConfig | None = None
        self.env_reader: str | None = None
        self.env_reader_note: str | None = None
        self._etc_once: dict[str, bytes] = {}  # preread_etc(): each file's first read

    def path(self, rel: str) -> str:
        return posixpath.join(self.root, rel)

    def preread_etc(self) -> None:
        """env.php and config.php in one round trip (through Docker one exec instead of two reads) for a
        run that reads both as it starts; each is used by its first read only, later reads ask the site.
        A read snapshot reads each once anyway (and bundles them in its prefetch)."""
        if isinstance(self.runner, ReadSnapshot) or not isinstance(self.runner, DockerRunner):
            return
        contents = self.runner.read_files(self.root, [ENV_PHP, CONFIG_PHP])
        self._etc_once = {rel: contents[rel] for rel in (ENV_PHP, CONFIG_PHP) if rel in contents}

    def _read_etc(self, rel: str) -> bytes | None:
        if rel in self._etc_once:
            return self._etc_once.pop(rel)
        return self.runner.read_file(self.path(rel))

    def env_text(self) -> str:
        data = self._read_etc(ENV_PHP)
        if data is None and self.runner.exists(self.path(ENV_PHP)):
            raise ModuleFailure(
                f"{self.path(ENV_PHP)} exists but is not a regular file that can be read (a folder, or a "
                "dangling link): put Magento's env.php back there"
            )
        if data is None:
            raise ModuleFailure(
                f"{self.path(ENV_PHP)} not found: set magento_root to the folder holding bin/magento "
                "(and container/runner to where the store runs)"
            )
        return data.decode("utf-8", "replace")

    def php_binary(self) -> str:
        """The PHP CLI: cli_command's first word when it is one (e.g. [php8.2, -d, ..., bin/magento])."""
        first = self.cli_command[0] if self.cli_command else ""
        return first if posixpath.basename(first).startswith("php") else "php"

    def env_via_php(self) -> tuple[EnvConfig | None, str | None]:
        """env.php as PHP itself reads it (PHP_ENV_JSON run in the Magento root through the runner), or
        (None, why not) when no PHP CLI runs there or it could not read the file."""
        argv = [self.php_binary(), "-d", "display_errors=stderr", "-d", "log_errors=0", "-r", PHP_ENV_JSON]
        # It only reads: in a snapshot it keeps what was read and runs beside a prefetch.
        run = getattr(self.runner, "run_read_only", self.runner.run)
        try:
            res = run(argv, cwd=self.root, timeout=60)
        except ModuleFailure as exc:  # LocalRunner: no such program; either runner: a timeout
            return None, f"no PHP CLI runs where the module runs ({exc.message.split(';')[0]})"
        if res.rc in (126, 127):
            return None, f"no PHP CLI runs where the module runs ({argv[0]} not found there)"
        if res.rc != 0:
            said = [line.strip() for line in (res.stderr or res.stdout).splitlines() if line.strip()]
            return None, f"PHP could not read it either: {said[0] if said else f'rc {res.rc}'}"
        try:
            return env_config_from_php_json(res.stdout), None
        except PhpOutputError as exc:
            return None, str(exc)
        except PhpParseError as exc:  # PHP read it: what it holds is wrong, whoever reads it
            raise ModuleFailure(f"cannot read {self.path(ENV_PHP)}: {exc}; fix env.php") from None

    def env(self) -> EnvConfig:
        """env.php read by the Python parser when it is the plain literal Magento writes (no process to
        start: the same values PHP reads, test_env_php_reader proves it on the recorded store's file), else
        by PHP where a PHP CLI runs beside the store (getenv(), constants, includes read exactly)."""
        if self._env is None:
            if isinstance(self.runner, ReadSnapshot):
                # Once per snapshot: every Site of the run shares the answer (and the PHP run, a command,
                # would otherwise make the snapshot forget what it read).
                read = self.runner.memo(("env", self.root, self.php_binary()), self._read_env, settle=False)
            else:
                read = self._read_env()
            self._env, self.env_reader, self.env_reader_note = read
        return self._env

    def _read_env(self) -> tuple[EnvConfig, str, str | None]:
        # In a snapshot with a prefetch under way, its bundle brings the text: no round trip of its own.
        text = self.env_text()
        try:
            return parse_env_php(text), "parser", None
        except PhpParseError as parsed:
            env, why = self.env_via_php()
            if env is not None:
                return env, "php", f"not a plain literal for the parser ({parsed}): PHP read it"
            if isinstance(parsed, PhpExpressionError):
                raise ModuleFailure(
                    f"cannot read {self.path(ENV_PHP)}: {parsed}, which only PHP can evaluate, and {why}: "
                    "install the PHP CLI where the module runs (php-cli; cli_command's first word is used "
                    "when it is PHP), or write the value itself in env.php (the DB host and port can also "
                    "be given as db_host/db_port)"
                ) from None
            raise ModuleFailure(
                f"cannot read {self.path(ENV_PHP)}: {parsed}; fix the file's PHP syntax ({why})"
            ) from None

    def prefetch(self, modules: list[str]) -> None:
        """The reads a read-only run makes (env.php as text, config.php, the ACL and REST trees, the files of
        modules' app/code folders) in one round trip, in the background; through Docker each alone is a
        70-150 ms round trip. Only in a read snapshot, and only where the runner bundles reads (Docker)."""
        if not isinstance(self.runner, ReadSnapshot) or not hasattr(self.runner.inner, "read_bundle"):
            return
        snap, inner, root = self.runner, self.runner.inner, self.root
        files = [ENV_PHP, CONFIG_PHP]
        folders = [
            posixpath.relpath(self.module_dir(m), root) for m in modules if MODULE_NAME_PATTERN.match(m)
        ]

        def fetch() -> dict[object, object]:
            contents, found = inner.read_bundle(root, [*files, *folders], MODULE_TREE_FILES)
            answers: dict[object, object] = {
                snap.file_key(self.path(rel)): contents.get(rel) for rel in files
            }
            for rel in folders:
                prefix = rel + "/"
                answers[snap.hashes_key(self.path(rel))] = {
                    name[len(prefix) :]: hashlib.sha256(content).hexdigest()
                    for name, content in contents.items()
                    if name.startswith(prefix)
                }
            if all(rel in contents for rel in found):  # else the trees are read as without a prefetch
                answers[("module files", root)] = (found, contents)
            return answers

        snap.prefetch(fetch)

    def config_modules(self) -> dict[str, bool]:
        data = self._read_etc(CONFIG_PHP)
        if data is None:
            return {}
        try:
            return parse_config_php_modules(data.decode("utf-8", "replace"))
        except PhpParseError as exc:
            raise ModuleFailure(
                f"cannot read {self.path(CONFIG_PHP)}: {exc}; fix the file's PHP syntax"
            ) from None

    def module_dir(self, module: str) -> str:
        vendor, _, name = module.partition("_")
        return self.path(f"{APP_CODE}/{vendor}/{name}")

    def owner(self) -> str | None:
        """uid:gid owning the Magento root, so written files match the store's own."""
        res = self.runner.run(["stat", "-c", "%u:%g", self.root], timeout=30)
        value = res.stdout.strip()
        return value if res.rc == 0 and ":" in value else None

    def acl_xml_files(self) -> list[AclFile]:
        """etc/acl.xml of every ENABLED module in vendor/*/* and app/code/*/* (C4.1)."""
        return self.enabled_module_files("etc/acl.xml")

    def webapi_xml_files(self) -> list[AclFile]:
        """etc/webapi.xml of every ENABLED module: the REST routes and the ACL ids each needs (C4.3)."""
        return self.enabled_module_files("etc/webapi.xml")

    def enabled_module_files(self, rel_in_module: str) -> list[AclFile]:
        enabled = {name for name, on in self.config_modules().items() if on}
        if isinstance(self.runner, ReadSnapshot) and rel_in_module in MODULE_TREE_FILES:
            # A run that reads one of these trees reads the other too (the declaration and the plan):
            # one glob and one read for both.
            found, contents = self.runner.memo(
                ("module files", self.root), lambda: self._module_files(MODULE_TREE_FILES)
            )
            found = [rel for rel in found if rel.endswith("/" + rel_in_module)]
        else:
            found, contents = self._module_files((rel_in_module,))
        files: list[AclFile] = []
        for rel in found:
            root = rel[: -len(rel_in_module)]
            module_xml = contents.get(root + MODULE_XML)
            name = module_name_from_xml(module_xml) if module_xml else None
            if name is None and rel.startswith(APP_CODE + "/"):
                parts = rel.split("/")
                name = f"{parts[2]}_{parts[3]}"
            if name is None or name not in enabled:
                continue
            content = contents.get(rel)
            if content is not None:
                files.append(AclFile(module=name, path=rel, content=content))
        return files

    def _module_files(self, rels_in_module: tuple[str, ...]) -> tuple[list[str], dict[str, bytes]]:
        """Every vendor/*/* and app/code/*/* module's files named rels_in_module, with its module.xml."""
        patterns = [p for rel in rels_in_module for p in (f"vendor/*/*/{rel}", f"{APP_CODE}/*/*/{rel}")]
        found = self.runner.glob(self.root, patterns)
        roots = {next(rel[: -len(r)] for r in rels_in_module if rel.endswith("/" + r)) for rel in found}
        # Every file and its module.xml in one read: a real store has some 250 modules.
        wanted = [*found, *sorted(r + MODULE_XML for r in roots)]
        contents = self.runner.read_files(self.root, wanted)
        for rel in wanted:  # what one read missed is read alone (a file found by the glob must be read)
            if rel not in contents:
                content = self.runner.read_file(self.path(rel))
                if content is not None:
                    contents[rel] = content
        return found, contents

    def cli(self, args: list[str], timeout: int = 600) -> CommandResult:
        return self.runner.run([*self.cli_command, *args], cwd=self.root, timeout=timeout, user=self.cli_user)


def site_from_params(params: SiteParams) -> Site:
    return Site(runner_from_params(params), params.magento_root, params.cli_command, params.cli_user)
