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
# Progress, not silence: one line per package pip collects (a bare machine needs a minute or two).
.venv/bin/pip install --progress-bar off -e '.[dev]' 2>&1 \
  | awk '/^Collecting /{n++; printf "[venv]   %3d %s\n", n, $2; fflush()} /^(ERROR|error)/{print; fflush()}'
.venv/bin/python -c 'import ansible, docker, pymysql, requests_oauthlib, molecule, testinfra' \
  || { say "the install is incomplete: run .venv/bin/pip install -e '.[dev]' to see why" >&2; exit 1; }
echo "$want" > "$stamp"
say "ready: $(.venv/bin/ansible --version | head -1)"
