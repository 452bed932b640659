#!/usr/bin/env bash
# `php -l` on every PHP file of the helper module (magento/), the examples and these tests.
# Needs Debian's php-cli. Called by `make lint`; exits non-zero if any file fails or none is found.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if ! command -v php >/dev/null 2>&1; then
    echo "php-lint: php not found: install Debian's php-cli (apt-get install -y php-cli)" >&2
    exit 2
fi

checked=0
failed=0
while IFS= read -r -d '' file; do
    checked=$((checked + 1))
    if ! out="$(php -l "$file" 2>&1)"; then
        failed=$((failed + 1))
        echo "$out" >&2
    fi
done < <(find magento examples tests/php -type f -name '*.php' -print0 2>/dev/null | sort -z)

if [ "$checked" -eq 0 ]; then
    echo "php-lint: no PHP file found under magento/, examples/ or tests/php/" >&2
    exit 1
fi
echo "php-lint: $checked files checked, $failed with syntax errors"
[ "$failed" -eq 0 ]
