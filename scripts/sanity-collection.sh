#!/usr/bin/env bash
# make sanity-collection: ansible-test sanity on the collection as scripts/build_collection.py stages it
# (ansible-test needs it under ansible_collections/reintegrate/magento/), offline, on Python 3.11.
# ansible-test makes a virtual environment per test and bootstraps pip in it with a script it downloads
# from its own CI host, which this machine cannot reach: a stand-in in its cache runs ensurepip instead,
# and the pinned test requirements then come from PyPI. Its HOME is .cache/ansible-test (kept between
# runs, so only the first run installs). Tests that need Docker or the network are not run:
# the shellcheck test runs only where the shellcheck program is installed. Extra arguments go to ansible-test.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="$PWD/.cache/ansible-test"
# Outside the checkout: inside a git work tree ansible-test lists files with git, and skips them all.
stage=$(mktemp -d /tmp/reintegrate-sanity.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$cache/home/.ansible/test/cache"
cat >"$cache/home/.ansible/test/cache/get_pip_24_2.py" <<'PY'
"""Offline stand-in for ansible-test's pip bootstrap script: ensurepip, then pip installs the packages
asked for (get-pip's own --no-setuptools/--no-wheel are not pip options and are dropped)."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
PY
.venv/bin/python scripts/build_collection.py --output-dir "$cache/dist" --stage-dir "$stage" >/dev/null
cd "$stage/ansible_collections/reintegrate/magento"
log="$cache/sanity.log"
set +e
HOME="$cache/home" "$OLDPWD/.venv/bin/ansible-test" sanity --python 3.11 --color no "$@" >"$log" 2>&1
rc=$?
set -e
# The outcome of each test, without the pip chatter.
grep -E '^(Running sanity test|ERROR|WARNING: Required|FATAL|See documentation)' "$log" | grep -v 'Reviewing previous' || true
ran=$(grep -c '^Running sanity test' "$log" || true)
failed=$(sed -n 's/^FATAL: The \([0-9]*\) sanity test(s) listed below.*/\1/p' "$log")
echo "sanity-collection: ${ran} tests ran, ${failed:-0} failed (log: ${log#"$OLDPWD"/})"
exit $rc
