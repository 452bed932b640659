#!/usr/bin/env bash
# Create .venv with every Python dependency of pyproject.toml (runtime + dev). Reinstalls only when
# pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${REINTEGRATE_PYTHON:-python3}"
say() { printf '[venv] %s\n' "$*"; }
# The first line of `ansible --version`, read whole: `| head -1` closed the pipe early, and ansible
# printed a BrokenPipeError traceback.
ansible_version() { .venv/bin/ansible --version 2>/dev/null | sed -n 1p; }
stamp=.venv/.reintegrate-stamp
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  say "up to date ($(ansible_version))"
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
say "ready: $(ansible_version)"
