"""What the twin reads from a module's PHP setup code, since it cannot run PHP (C3.3, C8.1).

Install code is recognised by its `processIntegrationConfig([...])` call (the names in the array are
applied), a data patch by its namespace and class, and a failure by a `throw new ...('message')`.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

from twin.site import Module

_CALL = re.compile(r"processIntegrationConfig\s*\(\s*(?:\[(?P<a>.*?)\]|array\s*\((?P<b>.*?)\))\s*\)", re.S)
_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
_THROW = re.compile(
    r"throw\s+new\s+[\w\\]+\s*\(\s*(?:__\(\s*)?(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")"
)
_NAMESPACE = re.compile(r"^\s*namespace\s+([\w\\]+)\s*;", re.M)
_CLASS = re.compile(r"^\s*(?:final\s+|abstract\s+)?class\s+(\w+)", re.M)


@dataclass
class SetupCode:
    path: str
    class_name: str
    integrations: list[str]
    throws: str | None


def _strip_comments(php: str) -> str:
    php = re.sub(r"/\*.*?\*/", "", php, flags=re.S)
    return re.sub(r"(?m)^\s*(//|#).*$", "", php)


def read(path: str) -> SetupCode:
    with open(path, encoding="utf-8", errors="replace") as fh:
        php = _strip_comments(fh.read())
    names: list[str] = []
    for call in _CALL.finditer(php):
        body = call.group("a") if call.group("a") is not None else call.group("b")
        names += [a if a else b for a, b in _STRING.findall(body or "")]
    ns = _NAMESPACE.search(php)
    cls = _CLASS.search(php)
    class_name = ((ns.group(1) + "\\") if ns else "") + (cls.group(1) if cls else os.path.basename(path)[:-4])
    thrown = _THROW.search(php)
    throws = None
    if thrown:
        throws = thrown.group(1) if thrown.group(1) is not None else thrown.group(2)
    return SetupCode(path, class_name.lstrip("\\"), names, throws)


def install_data(mod: Module) -> SetupCode | None:
    path = mod.file("Setup/InstallData.php")
    return read(path) if os.path.isfile(path) else None


def upgrade_data(mod: Module) -> SetupCode | None:
    path = mod.file("Setup/UpgradeData.php")
    return read(path) if os.path.isfile(path) else None


def data_patches(mod: Module) -> list[SetupCode]:
    return [read(p) for p in sorted(glob.glob(mod.file("Setup/Patch/Data/*.php")))]


def version_tuple(v: str | None) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.\-]", v or "0"))
