"""Shared by unit and integration tests: make ``ansible.module_utils.magento_*`` importable."""

from __future__ import annotations

import pathlib

import ansible.module_utils

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULE_UTILS = str(PROJECT_ROOT / "module_utils")

if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)
