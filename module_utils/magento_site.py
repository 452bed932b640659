"""One Magento installation reached through a runner (magento_runners): its files, env.php and CLI.

Public API (stable):
    class Site(runner, magento_root, cli_command=("bin/magento",), cli_user=None)
        path(rel) -> str;  env() -> EnvConfig;  env_text() -> str;  config_modules() -> {V_M: bool}
        preread_etc()  through Docker: env.php and config.php in one round trip, for their first reads
        env_reader: "parser" (a plain literal) or "php" (how env() read env.php), env_reader_note: why php
        module_dir(V_M) -> str;  acl_xml_files() / webapi_xml_files() -> list[AclFile(module, path, content)]
        cli(args, timeout=600) -> CommandResult;  owner() -> "uid:gid" of the Magento root
        run_read_only(argv, timeout=60, user=None) -> CommandResult   in the root, keeping a snapshot's reads
        prefetch(module_dirs)  in a read snapshot over Docker: env.php, config.php, the ACL and REST trees
                               and module_dirs read in one round trip, in the background
    site_from_params(SiteParams) -> Site
    module_name_from_xml(bytes) / setup_version_from_xml(bytes)  of an etc/module.xml
Errors are ModuleFailure naming cause and fix.
"""

from __future__ import annotations

import hashlib
import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

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
from ansible.module_utils.magento_read_snapshot import ReadSnapshot
from ansible.module_utils.magento_runners import CommandResult, DockerRunner, Runner, runner_from_params


@dataclass(frozen=True)
class AclFile:
    module: str
    path: str
    content: bytes = field(repr=False)


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

    def run_read_only(self, argv: list[str], timeout: int = 60, user: str | None = None) -> CommandResult:
        """A command in the Magento root that changes no file: in a read snapshot it keeps what was read
        (run() forgets it all) and may run beside a prefetch."""
        run = getattr(self.runner, "run_read_only", self.runner.run)
        return run(argv, cwd=self.root, timeout=timeout, user=user)

    def env_via_php(self) -> tuple[EnvConfig | None, str | None]:
        """env.php as PHP itself reads it (PHP_ENV_JSON run in the Magento root through the runner), or
        (None, why not) when no PHP CLI runs there or it could not read the file."""
        argv = [self.php_binary(), "-d", "display_errors=stderr", "-d", "log_errors=0", "-r", PHP_ENV_JSON]
        try:
            res = self.run_read_only(argv)
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
