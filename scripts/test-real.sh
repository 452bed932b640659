#!/usr/bin/env bash
# make test-real: the module integration tests and the playbook tests (tests/integration) against a
# real Magento tree brought up by `make up-real` (flavor codebase). Ends with one summary line.
# The stack's addresses come from the codebase inventory itself (rendered by Ansible), not from copies.
set -uo pipefail
cd "$(dirname "$0")/.."
inventory=playbooks/inventories/codebase
out=.test-real
mkdir -p "$out"
runs="$out/runs.jsonl"
: >"$runs"
started=$(date +%s)

# KEY=value lines for the environment, rendered by Ansible from the inventory (its one source).
render() {
  local names="REINTEGRATE_BASE_URL=magento_integration_base_url REINTEGRATE_DB_HOST=magento_integration_db_host
    REINTEGRATE_DB_PORT=magento_integration_db_port REINTEGRATE_APP_CONTAINER=magento_integration_container
    REINTEGRATE_CLI_USER=magento_integration_cli_user REINTEGRATE_ADMIN_USER=magento_integration_admin_username"
  local pairs="" pair
  for pair in $names; do pairs="$pairs${pairs:+, }'${pair%%=*}': ${pair#*=}"; done
  ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=json .venv/bin/ansible real -i "$inventory" \
    -m ansible.builtin.debug -a "{\"msg\": \"{{ { $pairs } | to_json }}\"}" |
    .venv/bin/python -c '
import json, sys
doc = json.load(sys.stdin)
msg = json.loads(doc["plays"][0]["tasks"][0]["hosts"]["real"]["msg"])
for key, value in msg.items():
    print(f"{key}={value}")'
}
env_lines=$(render) || { echo "test-real: cannot read the inventory $inventory" >&2; exit 2; }
while IFS= read -r line; do export "${line?}"; done <<<"$env_lines"
# The DB name, user and passwords are the magento_stack role's defaults, which the tests default to too;
# secrets stay out of argv and output.
export REINTEGRATE_INVENTORY=$inventory REINTEGRATE_SITE=real REINTEGRATE_RUN_LOG=$runs
version=$(docker exec -u "$REINTEGRATE_CLI_USER" -w /var/www/html "$REINTEGRATE_APP_CONTAINER" bin/magento --version 2>/dev/null | tr -d '\n')

echo "test-real: $version at $REINTEGRATE_BASE_URL (container $REINTEGRATE_APP_CONTAINER, DB $REINTEGRATE_DB_HOST:$REINTEGRATE_DB_PORT)"
.venv/bin/pytest -q -p no:cacheprovider tests/integration --junitxml="$out/junit.xml" "$@"
rc=$?

# The playbook runs, one line each: the table of the closing note.
.venv/bin/python - "$runs" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
if rows:
    print(f"\n{'case':<22} {'run':<22} {'via':<6} {'rc':>3} {'changed':>7} {'seconds':>8} {'probe':>5}")
    for r in rows:
        print(f"{r['case']:<22} {r['run']:<22} {str(r['activation'] or '-'):<6} {r['rc']:>3} "
              f"{r['changed']:>7} {r['seconds']:>8} {str(r['probe']):>5}")
PY

counts=$(.venv/bin/python - "$out/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 passed, 0 failed, 0 skipped"); raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{tests - bad - skipped} passed, {bad} failed, {skipped} skipped")
PY
)
echo "test-real: $counts in $(( $(date +%s) - started )) s against $version at $REINTEGRATE_BASE_URL"
exit $rc
