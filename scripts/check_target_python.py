#!/usr/bin/env python3
"""The Python 3.9 gate of `make lint`, beside vermin and ruff's py39 target for these folders.

    scripts/check_target_python.py [--python PY39]

The modules run on the Magento host with runner: local (over SSH), whose Python may be 3.9 (RHEL 9) or
3.10 (Ubuntu 22.04). `from __future__ import annotations` makes `X | Y` in annotations fine there, but not
at run time, and vermin does not see a run-time union. So this:
  1. finds `X | Y` of types outside annotations (isinstance(x, int | str), a module-level alias) in
     library/, module_utils/ and plugins/ (an AST walk; operands that are None, a builtin type, a
     subscripted type or a typing name);
  2. imports every module_utils file and every module under a real Python 3.9 when one is found
     (--python, $REINTEGRATE_PY39, python3.9 on PATH, or pyenv's 3.9.*), with ansible-core's own
     ansible package (its module_utils support 3.8+). Without one it says so and passes on step 1.
"""

from __future__ import annotations

import argparse
import ast
import glob
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = ("library", "module_utils", "plugins")
TYPE_NAMES = {"int", "str", "bytes", "float", "bool", "list", "dict", "tuple", "set", "frozenset", "type"}
TYPING_NAMES = {"Any", "Optional", "Union", "Callable", "Iterator", "Iterable", "Mapping", "Sequence"}


def _is_type(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    if isinstance(node, ast.Name):
        return node.id in TYPE_NAMES or node.id in TYPING_NAMES
    if isinstance(node, ast.Subscript):
        return _is_type(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _is_type(node.left) or _is_type(node.right)
    return False


def runtime_unions(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    annotations: set[int] = set()
    for node in ast.walk(tree):
        targets: list[ast.AST | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            targets = [a.annotation for a in every if a is not None] + [node.returns]
        elif isinstance(node, ast.AnnAssign):
            targets = [node.annotation]
        for target in targets:
            if target is not None:
                annotations.update(id(n) for n in ast.walk(target))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.BitOr)
            and id(node) not in annotations
            and (_is_type(node.left) and _is_type(node.right))
        ):
            found.append(
                f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)} is a union evaluated at run "
                "time (3.10+)"
            )
    return found


def find_python39(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("REINTEGRATE_PY39"), shutil.which("python3.9")):
        if candidate and _is_39(candidate):
            return candidate
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for candidate in sorted(
        glob.glob(os.path.join(root, "versions", "3.9.*", "bin", "python3.9")), reverse=True
    ):
        if _is_39(candidate):
            return candidate
    return None


def _is_39(python: str) -> bool:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except OSError:
        return False
    return out.strip() == "(3, 9)"


IMPORT_ALL = r"""
import importlib, importlib.util, pathlib, sys
import ansible.module_utils
root = pathlib.Path(sys.argv[1])
ansible.module_utils.__path__.append(str(root / "module_utils"))
utils = sorted(p.stem for p in (root / "module_utils").glob("*.py"))
for name in utils:
    importlib.import_module("ansible.module_utils." + name)
mods = sorted((root / "library").glob("*.py"))
for path in mods:
    spec = importlib.util.spec_from_file_location("reintegrate_module_" + path.stem, path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(f"{len(utils)} module_utils and {len(mods)} modules import on Python {sys.version.split()[0]}")
"""


def import_under(python: str) -> int:
    import ansible  # the controller's ansible-core: its module_utils are what a target gets

    with tempfile.TemporaryDirectory(prefix="reintegrate-py39-") as tmp:
        os.symlink(pathlib.Path(ansible.__file__).parent, pathlib.Path(tmp) / "ansible")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(PYTHONPATH=tmp, PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run(
            [python, "-c", IMPORT_ALL, str(ROOT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if proc.returncode != 0:
        print(f"py39: importing under {python} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return 1
    print(f"py39: {proc.stdout.strip()} ({python})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", help="a Python 3.9 interpreter")
    args = parser.parse_args()
    files = sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))
    problems = [line for path in files for line in runtime_unions(path)]
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(
            "py39: write typing.Union / a tuple there (isinstance(x, (int, str))), or move it into an "
            "annotation",
            file=sys.stderr,
        )
        return 1
    print(f"py39: no run-time X | Y union in {len(files)} files of {', '.join(FOLDERS)}")
    python = find_python39(args.python)
    if python is None:
        print(
            "py39: no Python 3.9 on this machine (set REINTEGRATE_PY39=/path/to/python3.9): only the static "
            "checks ran (this, vermin, ruff's py39 target)"
        )
        return 0
    return import_under(python)


if __name__ == "__main__":
    sys.exit(main())
