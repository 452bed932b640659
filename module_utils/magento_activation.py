"""Which activation a run will use, decided the same way by the preflight and the handshake (C5).

Public API (stable):
    HELPER_MODULE = "Reintegrate_CliActivation"   adds bin/magento integration:activate
    TWO_FACTOR_MODULE = "Magento_TwoFactorAuth"   blocks automated Admin logins (C5.2)
    planned_activation(wanted, modules, has_admin_credentials) -> str
        "admin" or "cli": ``auto`` is cli when the helper module is enabled or two-factor auth is on,
        else admin when admin credentials are given, else cli. Decides only; errors are the caller's.
"""

from __future__ import annotations

HELPER_MODULE = "Reintegrate_CliActivation"
TWO_FACTOR_MODULE = "Magento_TwoFactorAuth"


def planned_activation(wanted: str, modules: dict[str, bool], has_admin_credentials: bool) -> str:
    if wanted != "auto":
        return wanted
    if modules.get(HELPER_MODULE) is True or modules.get(TWO_FACTOR_MODULE) is True:
        return "cli"
    return "admin" if has_admin_credentials else "cli"
