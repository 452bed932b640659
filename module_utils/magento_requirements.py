"""Third-party Python libraries the modules import, checked in main() before anything runs.

With ``runner: local`` every module runs on the Magento host (an SSH target), whose Python may lack
them; without this check the first call into a missing library would end in a traceback halfway through
a run. The libraries are imported where they are used (try/except ImportError, a HAS_ flag each); this
module only gathers the flags and turns the missing ones into one ``fail_json`` that says how to install
them.

Public API (stable):
    class Library(name, debian, pip)       import name, Debian package, pip distribution
    LIBRARIES: dict[str, Library]          requests, requests_oauthlib, pymysql, docker
    ALL_SITE_LIBRARIES: tuple[str, ...]    what a whole run needs on the module host (the preflight's list)
    missing_libraries(needed, runner, available=None) -> list[str]
                                           needed names not importable here, docker added for runner docker
    missing_message(missing, module_name, runner) -> str
                                           missing_required_lib(...) naming the libraries and the fix
    require_libraries(module, module_name, needed) -> None
                                           module.fail_json(msg=..., changed=False) when any is missing
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.magento_admin import HAS_REQUESTS as ADMIN_HAS_REQUESTS
from ansible.module_utils.magento_db import HAS_PYMYSQL
from ansible.module_utils.magento_oauth import HAS_REQUESTS, HAS_REQUESTS_OAUTHLIB
from ansible.module_utils.magento_runners import HAS_DOCKER


@dataclass(frozen=True)
class Library:
    name: str
    debian: str
    pip: str


LIBRARIES: dict[str, Library] = {
    "requests": Library("requests", "python3-requests", "requests"),
    "requests_oauthlib": Library("requests_oauthlib", "python3-requests-oauthlib", "requests-oauthlib"),
    "pymysql": Library("pymysql", "python3-pymysql", "pymysql"),
    "docker": Library("docker", "python3-docker", "docker"),
}

# The preflight (magento_site_info) checks these, so a run never stops for a missing library after a
# destructive step (the handshake needs requests_oauthlib after the token purge).
ALL_SITE_LIBRARIES: tuple[str, ...] = ("requests", "requests_oauthlib", "pymysql")


def _available() -> dict[str, bool]:
    return {
        "requests": HAS_REQUESTS and ADMIN_HAS_REQUESTS,
        "requests_oauthlib": HAS_REQUESTS_OAUTHLIB,
        "pymysql": HAS_PYMYSQL,
        "docker": HAS_DOCKER,
    }


def missing_libraries(
    needed: Iterable[str], runner: str, available: dict[str, bool] | None = None
) -> list[str]:
    """The needed libraries (plus docker for runner docker) that cannot be imported here, in order."""
    have = _available() if available is None else available
    wanted = [*needed, *(["docker"] if runner == "docker" else [])]
    out: list[str] = []
    for name in wanted:
        if name not in LIBRARIES:
            raise ValueError(f"unknown library {name!r}")
        if not have.get(name, False) and name not in out:
            out.append(name)
    return out


def missing_message(missing: list[str], module_name: str, runner: str) -> str:
    libs = [LIBRARIES[name] for name in missing]
    where = (
        "the control node (runner: docker runs the modules there)"
        if runner == "docker"
        else "the host this module runs on (runner: local: the Magento host itself)"
    )
    reason = (
        f"by {module_name}; install it on {where}: on Debian/Ubuntu "
        f"'apt-get install {' '.join(lib.debian for lib in libs)}', or "
        f"'pip install {' '.join(lib.pip for lib in libs)}' for the Python that runs the module "
        "(ansible_python_interpreter)"
    )
    return missing_required_lib(", ".join(lib.name for lib in libs), reason=reason)


def require_libraries(module: Any, module_name: str, needed: Iterable[str]) -> None:
    """Fail the module, changing nothing, when a library it needs is missing on this host."""
    runner = module.params.get("runner") or "docker"
    missing = missing_libraries(needed, runner)
    if missing:
        module.fail_json(msg=missing_message(missing, module_name, runner), changed=False, missing=missing)
