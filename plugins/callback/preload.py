# Copyright: reintegrate contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import a reintegrate module's libraries in the controller before Ansible forks the task's workers."""

from __future__ import annotations

DOCUMENTATION = r"""
name: preload
type: aggregate
short_description: import the reintegrate modules' libraries once, before Ansible forks its workers
description:
  - A reintegrate module on a local host runs in the worker process Ansible forks for one task and one
    host (the modules' action plugin). Each such worker imported the module's libraries again (the Docker
    SDK, requests, PyMySQL, oauthlib and the module_utils, about 0.3 s of CPU), so ten hosts at forks 10
    paid it ten times per task on a two-core machine.
  - At the start of a task whose module is one of this project's, this callback imports what that module
    imports, once, in the controller process; every worker forked afterwards inherits the loaded modules.
  - At the start of the first play it loads Ansible's filter and test plugins once, for the same reason.
    Each worker otherwise loaded again the ones its task's templates use, about 15 ms of CPU per task
    (most of what a skipped task costs).
  - It changes no result and no output. A library that fails to import is left alone, for the module to
    report in its own words. It does nothing for a module that runs on a remote host (its own Python
    imports there).
  - In the checkout it is on by itself (ansible.cfg C(callback_plugins)); with the collection, add
    C(reintegrate.magento.preload) to C(callbacks_enabled).
options:
  enabled:
    description: Whether to preload; C(false) leaves every worker to import and load for itself.
    type: bool
    default: true
    env:
      - name: REINTEGRATE_PRELOAD
    ini:
      - section: callback_preload
        key: enabled
requirements:
  - the modules' own libraries on the controller (docker, pymysql, requests, requests-oauthlib)
"""

import ast
import importlib
import os
from typing import Any

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader, module_loader, module_utils_loader, test_loader

# The modules this callback preloads for: library/'s files and the collection's plugins/modules/.
MODULE_PREFIX = "magento_"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "preload"
    # A checkout's callback_plugins folder loads it without callbacks_enabled; a collection's needs it.
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: set[str] = set()
        self._templating_loaded = False

    def v2_playbook_on_play_start(self, play: Any) -> None:
        # Once: a later play's workers are forked from this same process.
        if not self._templating_loaded and self.get_option("enabled"):
            self._templating_loaded = True
            load_template_plugins()

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        action = str(task.action or "")
        if not action.rpartition(".")[2].startswith(MODULE_PREFIX) or action in self._seen:
            return
        if not self.get_option("enabled"):
            return
        self._seen.add(action)
        found = module_loader.find_plugin_with_context(action, ".py", collection_list=task.collections)
        if found.resolved and found.plugin_resolved_path.endswith(".py"):
            preload(found.plugin_resolved_path)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start


def preload(module_path: str) -> list[str]:
    """Import every module-level import of the module file at module_path; the names imported."""
    try:
        with open(module_path, "rb") as source:
            tree = ast.parse(source.read(), module_path)
    except (OSError, SyntaxError, ValueError):
        return []
    module_utils_on_path()
    loaded = []
    for name in top_level_imports(tree):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112 - the module itself reports a missing or broken library
            continue
        loaded.append(name)
    return loaded


def load_template_plugins() -> int:
    """Load every filter and test plugin on Ansible's paths (about 10 ms, once); the number loaded."""
    loaded = 0
    for loader in (filter_loader, test_loader):
        try:
            loaded += len(list(loader.all()))
        except Exception:  # noqa: S112 - only a head start: a worker loads what it uses anyway
            continue
    return loaded


def top_level_imports(tree: ast.Module) -> list[str]:
    """Absolute module names imported at the file's top level (inside try blocks too, not in functions)."""
    names: list[str] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module not in (None, "__future__"):
            names.append(str(node.module))
        elif isinstance(node, ast.Try):
            pending[:0] = [*node.body, *node.orelse, *node.finalbody]
    return list(dict.fromkeys(names))


def module_utils_on_path() -> None:
    """A checkout's modules import ansible.module_utils.magento_*: their folder (ansible.cfg module_utils)
    joins the package's path, as the modules' action plugin does in each worker."""
    import ansible.module_utils

    for path in module_utils_loader._get_paths(subdirs=False):
        if os.path.isdir(path) and path not in ansible.module_utils.__path__:
            ansible.module_utils.__path__.append(path)
