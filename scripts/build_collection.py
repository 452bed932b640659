#!/usr/bin/env python3
"""Build the collection reintegrate.magento from this checkout: `make collection`.

    scripts/build_collection.py [--output-dir DIR] [--stage-dir DIR]

The checkout's library/, module_utils/, plugins/doc_fragments/, roles/ and playbooks/ stay the source of
truth. They are copied into a temporary folder laid out as ansible_collections/reintegrate/magento/ and
adapted there, never in the source tree:
    plugins/modules/<m>.py       from library/<m>.py; ``ansible.module_utils.magento_*`` imports become
                                 ``ansible_collections.reintegrate.magento.plugins.module_utils.magento_*``,
                                 the doc fragment and M()/EXAMPLES names become FQCNs
    plugins/module_utils/        from module_utils/, imports rewritten the same way
    plugins/doc_fragments/       as they are
    plugins/action/<m>.py        a copy of plugins/action/in_process.py for every module (the checkout's are
                                 symlinks to it): a module runs in Ansible's worker on a local host
    plugins/callback/            as they are (preload: the modules' libraries imported before the fork;
                                 a collection's callback is on once callbacks_enabled names it)
    roles/                       every module call and module_defaults key as an FQCN (module_defaults
                                 ignores the collections keyword); the project folder defaults to the folder
                                 ansible-playbook runs in (a checkout's is the playbooks folder's parent)
    playbooks/*.yml              roles by FQCN
    meta/runtime.yml             requires_ansible and the action group ``site``: every module of library/
                                 that takes the shared site options (extends the magento_site fragment)
    docker/, magento/            what the roles read beside them (the stack's images, the CLI helper module)
Then ``ansible-galaxy collection build`` writes reintegrate-magento-<version>.tar.gz to --output-dir
(default: dist/). Prints the tarball's path on the last line. --stage-dir keeps the staged tree (for
ansible-test sanity, which needs it under ansible_collections/reintegrate/magento/).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
NAMESPACE, NAME = "reintegrate", "magento"
FQ = f"{NAMESPACE}.{NAME}"
UTILS_PKG = f"ansible_collections.{NAMESPACE}.{NAME}.plugins.module_utils"
GROUP = "site"


class BuildError(Exception):
    pass


def modules() -> list[str]:
    return sorted(p.stem for p in (ROOT / "library").glob("*.py") if not p.name.startswith("_"))


def site_modules() -> list[str]:
    """The modules that take the shared site options (their documentation extends magento_site)."""
    pattern = re.compile(r"extends_documentation_fragment:\n(?:[ \t]+- [\w.]+\n)*?[ \t]+- magento_site\n")
    return [
        m for m in modules() if pattern.search((ROOT / "library" / f"{m}.py").read_text(encoding="utf-8"))
    ]


def utils() -> list[str]:
    return sorted(p.stem for p in (ROOT / "module_utils").glob("*.py") if not p.name.startswith("_"))


def rewrite_imports(text: str, where: str) -> str:
    names = "|".join(map(re.escape, utils()))
    text = re.sub(rf"\bfrom ansible\.module_utils\.({names})\b", rf"from {UTILS_PKG}.\1", text)
    text = re.sub(rf"\bimport ansible\.module_utils\.({names})\b", rf"import {UTILS_PKG}.\1", text)
    text = re.sub(rf"\bfrom ansible\.module_utils import ({names})\b", rf"from {UTILS_PKG} import \1", text)
    left = re.findall(rf"ansible\.module_utils(?:\.| import )(?:{names})\b", text)
    if left:
        raise BuildError(f"{where}: an import of the project's module_utils was not rewritten: {left}")
    return text


def rewrite_module(text: str, where: str) -> str:
    text = rewrite_imports(text, where)
    # Every entry of extends_documentation_fragment that names one of ours (magento_site, magento_site.X).
    fragments = "|".join(re.escape(p.stem) for p in (ROOT / "plugins" / "doc_fragments").glob("*.py"))
    block = re.search(r"extends_documentation_fragment:\n((?:[ \t]+- [\w.]+\n)+)", text)
    if block:
        entries = re.sub(rf"(?m)^([ \t]+- )((?:{fragments})(?:\.\w+)?)$", rf"\1{FQ}.\2", block.group(1))
        text = text[: block.start(1)] + entries + text[block.end(1) :]
        if re.search(rf"(?m)^[ \t]+- (?:{fragments})\b", entries):
            raise BuildError(f"{where}: a doc fragment of ours was not made an FQCN")
    # validate-modules wants "Name (@github-handle)"; the project has none, which "(!UNKNOWN)" says.
    text = re.sub(r"(?m)^author: reintegrate$", "author: reintegrate (!UNKNOWN)", text)
    names = "|".join(map(re.escape, modules()))
    text = re.sub(rf"\bM\(({names})\)", rf"M({FQ}.\1)", text)
    # Task keys in EXAMPLES: "  magento_cli:" (the module's own name line "module: x" is left alone).
    start = text.find('EXAMPLES = r"""')
    end = text.find('"""', start + 15)
    if start >= 0 and end > start:
        examples = re.sub(rf"(?m)^(\s*(?:- )?)({names}):", rf"\1{FQ}.\2:", text[start:end])
        text = text[:start] + examples + text[end:]
    return text


def rewrite_tasks(text: str, where: str) -> str:
    """Module calls and module_defaults keys by FQCN. In roles/*/tasks every `magento_<module>:` key is one
    of the two (variables are magento_integration_*, and none is named like a module there)."""
    names = "|".join(map(re.escape, modules()))
    text = re.sub(rf"(?m)^(\s*(?:- )?)({names}):", rf"\1{FQ}.\2:", text)
    check_fqcn_tasks(yaml.safe_load(text) or [], where)
    return text


def check_fqcn_tasks(tasks: list, where: str) -> None:
    short = set(modules())
    for task in tasks:
        if not isinstance(task, dict):
            continue
        for key, value in task.items():
            if key in short:
                raise BuildError(f"{where}: task {task.get('name')!r} still calls {key} without its FQCN")
            if key == "module_defaults":
                for entry in value if isinstance(value, list) else [value]:
                    bad = sorted(k for k in entry if k in short)
                    if bad:
                        raise BuildError(f"{where}: module_defaults keys {bad} are not FQCNs")
            if key in ("block", "rescue", "always") and isinstance(value, list):
                check_fqcn_tasks(value, where)


def replace_once(text: str, old: str, new: str, where: str) -> str:
    if text.count(old) != 1:
        raise BuildError(f"{where}: expected {old!r} exactly once; the build's adaptation needs updating")
    return text.replace(old, new)


# The project folder: a checkout's playbooks/ sit one level below it. In the collection it is the folder of
# the user's playbook, and for the collection's own playbooks (which sit in the installed collection) the
# folder ansible-playbook runs in ('.' | realpath: its working folder; the pipe lookup would run in the
# playbook's): .credentials/ and .backups/ never go into the installed collection.
PROJECT_DIR_DEFAULT = 'magento_integration_project_dir: "{{ playbook_dir | dirname }}"'
PROJECT_DIR_COLLECTION = (
    "magento_integration_project_dir: >-\n"
    "  {{ ('.' | ansible.builtin.realpath) if '/ansible_collections/' in playbook_dir else playbook_dir }}"
)
PROJECT_DIR_SPEC = "description: 'The project folder (default: the parent of the playbook folder).'"
PROJECT_DIR_SPEC_COLLECTION = (
    "description: 'The project folder: .credentials/ and .backups/ go below it (default: the playbook''s "
    "folder; for the playbooks of this collection, the folder ansible-playbook runs in).'"
)


def stage(stage_root: pathlib.Path) -> pathlib.Path:
    coll = stage_root / "ansible_collections" / NAMESPACE / NAME
    if coll.exists():
        shutil.rmtree(coll)
    coll.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".cache")

    shutil.copy2(ROOT / "galaxy.yml", coll / "galaxy.yml")
    shutil.copy2(ROOT / "README.md", coll / "README.md")
    shutil.copy2(ROOT / "CHANGELOG.md", coll / "CHANGELOG.md")

    (coll / "plugins" / "modules").mkdir(parents=True)
    for name in modules():
        src = ROOT / "library" / f"{name}.py"
        out = coll / "plugins" / "modules" / f"{name}.py"
        out.write_text(
            rewrite_module(src.read_text(encoding="utf-8"), f"library/{name}.py"), encoding="utf-8"
        )
    (coll / "plugins" / "module_utils").mkdir()
    for name in utils():
        src = ROOT / "module_utils" / f"{name}.py"
        out = coll / "plugins" / "module_utils" / f"{name}.py"
        out.write_text(
            rewrite_imports(src.read_text(encoding="utf-8"), f"module_utils/{name}.py"), encoding="utf-8"
        )
    (coll / "plugins" / "doc_fragments").mkdir()
    names = "|".join(map(re.escape, modules()))
    for src in sorted((ROOT / "plugins" / "doc_fragments").glob("*.py")):
        text = re.sub(rf"\bM\(({names})\)", rf"M({FQ}.\1)", src.read_text(encoding="utf-8"))
        (coll / "plugins" / "doc_fragments" / src.name).write_text(text, encoding="utf-8")

    (coll / "plugins" / "action").mkdir()
    in_process = ROOT / "plugins" / "action" / "in_process.py"
    for name in modules():
        link = ROOT / "plugins" / "action" / f"{name}.py"
        if not (link.is_symlink() and link.resolve() == in_process.resolve()):
            raise BuildError(
                f"plugins/action/{name}.py is not a symlink to in_process.py: run "
                f"`ln -s in_process.py plugins/action/{name}.py` (so {name} runs in the worker when local)"
            )
        shutil.copyfile(in_process, coll / "plugins" / "action" / f"{name}.py")
    shutil.copytree(ROOT / "plugins" / "callback", coll / "plugins" / "callback", ignore=ignore)

    shutil.copytree(ROOT / "roles", coll / "roles", ignore=ignore, symlinks=False)
    for path in sorted((coll / "roles").glob("*/tasks/*.yml")):
        rel = path.relative_to(coll)
        path.write_text(rewrite_tasks(path.read_text(encoding="utf-8"), str(rel)), encoding="utf-8")
    defaults = coll / "roles" / "magento_integration" / "defaults" / "main.yml"
    defaults.write_text(
        replace_once(
            defaults.read_text(encoding="utf-8"), PROJECT_DIR_DEFAULT, PROJECT_DIR_COLLECTION, str(defaults)
        ),
        encoding="utf-8",
    )
    specs = coll / "roles" / "magento_integration" / "meta" / "argument_specs.yml"
    specs.write_text(
        replace_once(
            specs.read_text(encoding="utf-8"), PROJECT_DIR_SPEC, PROJECT_DIR_SPEC_COLLECTION, str(specs)
        ),
        encoding="utf-8",
    )

    (coll / "playbooks").mkdir()
    roles = "|".join(re.escape(p.name) for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    for src in sorted((ROOT / "playbooks").glob("*.yml")):
        text = re.sub(
            rf"(?m)^(\s*(?:- )?(?:role|name): )({roles})\s*$", rf"\1{FQ}.\2", src.read_text(encoding="utf-8")
        )
        (coll / "playbooks" / src.name).write_text(text, encoding="utf-8")

    (coll / "meta").mkdir()
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    listed = sorted(runtime.get("action_groups", {}).get(GROUP, []))
    if listed != site_modules():
        print(
            f"[collection] note: meta/runtime.yml's group {GROUP} lists {listed}; library/'s modules that "
            f"take the site options are {site_modules()}: the collection uses the latter (update "
            "meta/runtime.yml)",
            file=sys.stderr,
        )
    runtime.setdefault("action_groups", {})[GROUP] = site_modules()
    # Written out by hand: yaml.safe_dump does not indent lists, which yamllint's default refuses.
    lines = ["---", f"requires_ansible: {json.dumps(runtime['requires_ansible'])}", "action_groups:"]
    for group, members in runtime["action_groups"].items():
        lines += [f"  {group}:", *(f"    - {m}" for m in members)]
    extra = {k: v for k, v in runtime.items() if k not in ("requires_ansible", "action_groups")}
    if extra:
        lines.append(yaml.safe_dump(extra, sort_keys=False).rstrip())
    (coll / "meta" / "runtime.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # ansible-test sanity's reviewed exceptions (each line says why), for ansible-core 2.19.
    (coll / "tests" / "sanity").mkdir(parents=True)
    shutil.copy2(
        ROOT / "tests" / "collection" / "sanity-ignore-2.19.txt",
        coll / "tests" / "sanity" / "ignore-2.19.txt",
    )
    shutil.copytree(ROOT / "docker", coll / "docker", ignore=ignore)
    shutil.copytree(ROOT / "magento", coll / "magento", ignore=ignore)
    return coll


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", default=str(ROOT / "dist"))
    parser.add_argument("--stage-dir", help="stage here and keep it (default: a temporary folder, removed)")
    args = parser.parse_args()
    galaxy = pathlib.Path(sys.executable).parent / "ansible-galaxy"
    out = pathlib.Path(args.output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    temp = None if args.stage_dir else tempfile.mkdtemp(prefix="reintegrate-collection-")
    try:
        coll = stage(pathlib.Path(args.stage_dir or temp).resolve())
        proc = subprocess.run(
            [
                str(galaxy if galaxy.exists() else "ansible-galaxy"),
                "collection",
                "build",
                "--force",
                "--output-path",
                str(out),
                str(coll),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise BuildError(f"ansible-galaxy collection build failed:\n{proc.stdout}{proc.stderr}")
    except BuildError as exc:
        print(f"[collection] {exc}", file=sys.stderr)
        return 1
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]
    tarball = out / f"{NAMESPACE}-{NAME}-{version}.tar.gz"
    print(
        f"[collection] {FQ} {version}: {len(modules())} modules ({', '.join(modules())}); action group "
        f"{FQ}.{GROUP}: {len(site_modules())} of them; roles and playbooks staged from the checkout"
    )
    print(tarball)
    return 0


if __name__ == "__main__":
    sys.exit(main())
