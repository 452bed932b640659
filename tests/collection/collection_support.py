"""What the collection tests share: where things are and what the collection must hold."""

from __future__ import annotations

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent
MODULES = sorted(p.stem for p in (ROOT / "library").glob("*.py") if not p.name.startswith("_"))
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
FQ = "reintegrate.magento"
# The modules that take the shared site options: the members of the action group reintegrate.magento.site.
SITE_MODULES = [
    m
    for m in MODULES
    if re.search(
        r"extends_documentation_fragment:\n(?:[ \t]+- [\w.]+\n)*?[ \t]+- magento_site\n",
        (ROOT / "library" / f"{m}.py").read_text(),
    )
]
