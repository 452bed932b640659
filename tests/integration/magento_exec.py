"""bin/magento in the stack's app container, for test fixtures that set a store up.

module:enable and module:disable empty generated/ as they start (CLI_CLEARS_GENERATED); a web request
that generates a class there meanwhile (the codebase stack's healthcheck every 5 s, on a real store)
makes them fail with "The directory ... cannot be deleted". They are run again then, as magento_cli does.
"""

from __future__ import annotations

import time
from typing import Any

from ansible.module_utils.magento_contract import CLI_CLEARS_GENERATED, CLI_GENERATED_NOT_DELETED

MAGENTO_ROOT = "/var/www/html"


def magento_exec(container: Any, *args: str, user: str = "", attempts: int = 4) -> tuple[int, str]:
    """(rc, output) of ``bin/magento ARGS`` run as ``user`` in the Magento root."""
    for attempt in range(attempts):
        if attempt:
            time.sleep(2)
        rc, out = container.exec_run(["bin/magento", *args], workdir=MAGENTO_ROOT, user=user)
        text = out.decode(errors="replace")
        if rc == 0 or args[0] not in CLI_CLEARS_GENERATED or not CLI_GENERATED_NOT_DELETED.search(text):
            break
    return rc, text
