"""plugins/callback/preload.py: a reintegrate module's libraries are imported once in the controller,
before Ansible forks the task's workers, and each worker then finds them loaded. Run through
ansible-playbook with a probe module whose one library writes down the process that imported it."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT / "plugins" / "callback"))
import preload

PROBE_MODULE = """
import os
import sys

from ansible.module_utils.basic import AnsibleModule

import preload_marker


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    module.exit_json(changed=False, worker=os.getpid(), imported_by=preload_marker.PID)


main()
"""

MARKER = """
import os

PID = os.getpid()
with open(os.environ["MARKER_LOG"], "a") as log:
    log.write(f"{PID}\\n")
"""


def run_probe(tmp_path: Path, *, module_name: str, enabled: bool) -> tuple[list[dict], list[str]]:
    """Two local hosts run the probe module; each host's result and the log of the marker's imports."""
    library, actions, libs = tmp_path / "library", tmp_path / "action", tmp_path / "libs"
    for folder in (library, actions, libs):
        folder.mkdir(exist_ok=True)
    (library / f"{module_name}.py").write_text(PROBE_MODULE)
    (actions / f"{module_name}.py").symlink_to(PROJECT / "plugins" / "action" / "in_process.py")
    (libs / "preload_marker.py").write_text(MARKER)
    log = tmp_path / "marker.log"
    log.unlink(missing_ok=True)
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "all",
                    "connection": "local",
                    "gather_facts": False,
                    "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                    "tasks": [
                        {module_name: {}, "register": "out"},
                        {"ansible.builtin.debug": {"msg": "RESULT {{ out | to_json }} END"}},
                    ],
                }
            ]
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_LIBRARY": str(library),
        "ANSIBLE_ACTION_PLUGINS": f"{actions}:{PROJECT / 'plugins' / 'action'}",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "MARKER_LOG": str(log),
        "PYTHONPATH": str(libs),
        "REINTEGRATE_PRELOAD": "true" if enabled else "false",
    }
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "one,two,", "-f", "2", str(playbook)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = [
        json.loads(chunk.split(" END", 1)[0].replace("\n", " ")) for chunk in proc.stdout.split("RESULT ")[1:]
    ]
    return results, log.read_text().split()


def test_a_reintegrate_module_finds_its_libraries_imported_before_the_fork(tmp_path: Path) -> None:
    results, imports = run_probe(tmp_path, module_name="magento_preload_probe", enabled=True)
    assert len(results) == 2
    assert len(imports) == 1, "the library is imported once for both hosts, not once per worker"
    for out in results:
        assert out["imported_by"] == int(imports[0]) != out["worker"]


@pytest.mark.parametrize(
    ("module_name", "enabled"), [("magento_preload_probe", False), ("other_preload_probe", True)]
)
def test_each_worker_imports_for_itself_when_off_or_not_a_reintegrate_module(
    tmp_path: Path, module_name: str, enabled: bool
) -> None:
    results, imports = run_probe(tmp_path, module_name=module_name, enabled=enabled)
    assert sorted(int(pid) for pid in imports) == sorted(out["worker"] for out in results)
    for out in results:
        assert out["imported_by"] == out["worker"]


def test_top_level_imports_include_try_blocks_and_skip_functions_and_relative_imports() -> None:
    tree = ast.parse(
        "from __future__ import annotations\n"
        "import os, json\n"
        "from ansible.module_utils.magento_site import Site\n"
        "from . import sibling\n"
        "try:\n    import docker\nexcept ImportError:\n    docker = None\n"
        "def later():\n    import boto3\n"
    )
    assert preload.top_level_imports(tree) == ["os", "json", "ansible.module_utils.magento_site", "docker"]


def test_a_library_that_fails_to_import_is_left_for_the_module_to_report(tmp_path: Path) -> None:
    module = tmp_path / "magento_broken.py"
    module.write_text("import json\nimport no_such_library_here\n")
    assert preload.preload(str(module)) == ["json"]
    assert "no_such_library_here" not in sys.modules


WORKER_TEMPLATES = """
import os, sys
sys.path.insert(0, {callbacks!r})
import preload
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

if {warm!r}:
    assert preload.load_template_plugins() > 0
pid = os.fork()
if pid == 0:  # what an Ansible worker does: a fresh templar in a forked process
    before = set(sys.modules)
    value = Templar(loader=DataLoader()).template(trust_as_template("{{{{ [1, 2] | difference([1]) }}}}"))
    new = set(sys.modules) - before
    loaded = sorted(m for m in new if m.startswith(("ansible.plugins.filter", "ansible.plugins.test")))
    print(value, loaded)
    os._exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.parametrize("warm", [True, False])
def test_a_forked_worker_finds_the_filter_plugins_loaded(warm: bool) -> None:
    """load_template_plugins (the callback's play start) loads them in the controller: a worker's template
    then imports no filter plugin of its own; without it, the worker imports mathstuff for `difference`."""
    code = WORKER_TEMPLATES.format(callbacks=str(PROJECT / "plugins" / "callback"), warm=warm)
    argv = [sys.executable, "-c", code]
    proc = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120)
    value, _, loaded = proc.stdout.strip().partition(" ")
    assert value == "[2]"
    if warm:
        assert loaded == "[]"
    else:
        assert "ansible.plugins.filter.mathstuff" in loaded
