# Copyright: reintegrate contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a reintegrate module inside Ansible's worker process when it would run on this controller anyway.

Every module of library/ has an action plugin of its name in plugins/action/ that is this file (a symlink
in the checkout, a copy in the collection). A module task normally builds an AnsiballZ payload (about 0.4 s
for a module with this project's module_utils), starts a Python and imports the payload's sources without
bytecode (about 0.8 s). When the host is this controller (connection local, no become, no task
environment, no async, the host's interpreter is the controller's own Python) the same module file runs
here instead, in the worker Ansible forks for this one task and host: the same AnsibleModule, the same
arguments encoded by the module's serialization profile, the same result parsing and no_log masking.
Anything else takes Ansible's normal path. A host or play variable ``reintegrate_in_process: false`` turns
it off.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import types
from typing import Any

from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.plugins.loader import module_utils_loader
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

display = Display()

# What module_common gives a module that declares no METADATA, as every module of library/.
PROFILE = "legacy"


class ActionModule(NormalAction):
    """Ansible's normal module action, unless the module can run here (_in_process_path)."""

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        module_path = self._in_process_path(task_vars)
        if module_path is None:
            return super().run(tmp, task_vars)
        result = ActionBase.run(self, tmp, task_vars)
        display.vvv(f"Running {module_path} in the worker process (reintegrate in_process)")
        return merge_hash(result, self._run_here(module_path, task_vars))

    def _in_process_path(self, task_vars: dict[str, Any]) -> str | None:
        """The module's file when it can run here, else None (Ansible's normal path)."""
        if not boolean(self._templar.template(task_vars.get("reintegrate_in_process", True)), strict=False):
            return None
        if self._task.delegate_to or self._task.async_val or self._play_context.become:
            return None
        if getattr(self._connection, "transport", None) != "local" or self._compute_environment_string():
            return None
        interpreter = task_vars.get("ansible_python_interpreter")
        if not interpreter:
            return None  # interpreter discovery may pick another Python
        interpreter = str(self._templar.template(interpreter))
        if os.path.realpath(interpreter) != os.path.realpath(sys.executable):
            return None
        found = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, ".py", collection_list=self._task.collections
        )
        return found.plugin_resolved_path if found.resolved else None

    def _run_here(self, module_path: str, task_vars: dict[str, Any]) -> dict[str, Any]:
        import ansible.module_utils
        from ansible.module_utils import basic
        from ansible.module_utils._internal._ansiballz import _loader

        # A checkout's modules import ansible.module_utils.magento_*: their folder (ansible.cfg module_utils)
        # joins the package's path, in this forked worker only. A collection's imports need nothing.
        for path in module_utils_loader._get_paths(subdirs=False):
            if os.path.isdir(path) and path not in ansible.module_utils.__path__:
                ansible.module_utils.__path__.append(path)

        module_args = dict(self._task.args)
        self._update_module_args(self._task.action, module_args, task_vars)
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode()
        basic._ANSIBLE_PROFILE = PROFILE

        stdout, stderr, rc = io.StringIO(), io.StringIO(), 0
        cwd = os.getcwd()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                try:
                    _run_as_main(module_path)
                    raise RuntimeError(
                        f"{module_path} ended without a result (it must exit through AnsibleModule)"
                    )
                except Exception as exc:  # the module's own crash, reported the way AnsiballZ reports it
                    _loader._handle_exception(exc, PROFILE)
            except SystemExit as done:
                rc = done.code if isinstance(done.code, int) else 1
            finally:
                os.chdir(cwd)
        res = {"rc": rc, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
        data = self._parse_returned_data(res, PROFILE)
        remove_internal_keys(data)
        for stream in ("stdout", "stderr"):  # as ActionBase._execute_module does
            if stream in data and f"{stream}_lines" not in data:
                data[f"{stream}_lines"] = (data[stream] or "").splitlines()
        return data


def _run_as_main(path: str) -> None:
    """Execute the module file as the script __main__, as AnsiballZ does (runpy.run_path cannot: the
    collection loader's path hook claims every path and runpy then looks for a __main__ inside it)."""
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec")
    main = types.ModuleType("__main__")
    main.__file__ = path
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = main
    try:
        exec(code, main.__dict__)  # noqa: S102 - the module file Ansible itself would run
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved
