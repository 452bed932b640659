#!/usr/bin/env bash
# Behaviour test of the integration:activate helper command, without Magento.
# Needs Debian packages: php-cli, php-symfony-console (installed by setup; this script installs nothing).
# Last line: "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v php >/dev/null 2>&1; then
    echo "php not found: install Debian's php-cli and php-symfony-console" >&2
    exit 2
fi
exec php "$here/ActivateCommandTest.php"
