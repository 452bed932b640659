#!/bin/sh
# First start (no app/etc/env.php): wait for the database, then `bin/magento setup:install` with the
# MAGENTO_* values (docker/README.md). Every start: serve HTTP on MAGENTO_LISTEN.
set -eu
cd /var/www/html
mkdir -p app/etc app/code generated var
if [ ! -f app/etc/env.php ]; then
    : "${MAGENTO_DB_PASSWORD:?set MAGENTO_DB_PASSWORD (roles/magento_stack passes it; docker/README.md)}"
    : "${MAGENTO_ADMIN_PASSWORD:?set MAGENTO_ADMIN_PASSWORD (roles/magento_stack passes it; docker/README.md)}"
    python3 - <<'PY'
import os, sys, time
import pymysql
host, _, port = os.environ["MAGENTO_DB_HOST"].partition(":")
deadline = time.time() + 120
while True:
    try:
        pymysql.connect(host=host, port=int(port or 3306), user=os.environ["MAGENTO_DB_USER"],
                        password=os.environ["MAGENTO_DB_PASSWORD"], database=os.environ["MAGENTO_DB_NAME"],
                        connect_timeout=2).close()
        break
    except pymysql.err.MySQLError as exc:
        if time.time() > deadline:
            print(f"database not reachable at {host}:{port}: {exc}", file=sys.stderr)
            sys.exit(1)
        time.sleep(0.5)
PY
    bin/magento setup:install \
        --db-host="$MAGENTO_DB_HOST" --db-name="$MAGENTO_DB_NAME" --db-user="$MAGENTO_DB_USER" \
        --db-password="$MAGENTO_DB_PASSWORD" --db-prefix="$MAGENTO_DB_PREFIX" \
        --backend-frontname="$MAGENTO_ADMIN_FRONTNAME" --base-url="$MAGENTO_BASE_URL" \
        --admin-user="$MAGENTO_ADMIN_USER" --admin-password="$MAGENTO_ADMIN_PASSWORD" \
        --admin-email="$MAGENTO_ADMIN_EMAIL" --admin-firstname=Admin --admin-lastname=User \
        --two-factor-auth="$MAGENTO_TWO_FACTOR_AUTH"
fi
exec python3 -m twin.server
