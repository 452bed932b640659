#!/usr/bin/env bash
# php-cli (for `php -l`) and Symfony Console (for the helper module's behaviour test), from Debian.
set -euo pipefail
say() { printf '[php] %s\n' "$*"; }
if command -v php >/dev/null 2>&1 && [ -f /usr/share/php/Symfony/Component/Console/Application.php ]; then
  say "present ($(php -r 'echo PHP_VERSION;'))"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ]; then
  say "install php-cli and php-symfony-console (Debian) or PHP 8.1+ with symfony/console, then run again" >&2
  exit 1
fi
say "installing php-cli and php-symfony-console (apt-get) ..."
# shellcheck source-path=SCRIPTDIR source=apt-lib.sh
. "$(dirname "$0")/apt-lib.sh"
apt_install --no-install-recommends php-cli php-symfony-console
say "ready ($(php -r 'echo PHP_VERSION;'))"
