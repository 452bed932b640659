#!/usr/bin/python3
"""HEALTHCHECK: the store answers HTTP on MAGENTO_LISTEN."""

import os
import sys
import urllib.request

addr = os.environ.get("MAGENTO_LISTEN", "127.0.0.1:8080")
host, _, port = addr.rpartition(":")
if host in ("", "0.0.0.0"):  # noqa: S104
    host = "127.0.0.1"
try:
    with urllib.request.urlopen(f"http://{host}:{port}/", timeout=2) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception:
    sys.exit(1)
