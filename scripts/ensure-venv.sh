#!/usr/bin/env bash
# Create .venv with every Python dependency of pyproject.toml (runtime + dev). Reinstalls only when
# pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${REINTEGRATE_PYTHON:-python3}"
say() { printf '[venv] %s\n' "$*"; }
stamp=.venv/.reintegrate-stamp
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  say "up to date ($(.venv/bin/ansible --version | head -1))"
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
say "installing dependencies from pyproject.toml (a few minutes on a bare machine) ..."
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install --progress-bar off -q -e '.[dev]'
echo "$want" > "$stamp"
say "ready: $(.venv/bin/ansible --version | head -1)"
