#!/bin/bash
# Healthy = the server accepts the application account over TCP on its bind address.
addr="${MARIADB_BIND%:*}"; port="${MARIADB_BIND##*:}"
[ "$addr" = "0.0.0.0" ] && addr=127.0.0.1
MYSQL_PWD="$MARIADB_PASSWORD" exec mariadb -h "$addr" -P "$port" -u "$MARIADB_USER" -e 'SELECT 1' "$MARIADB_DATABASE" >/dev/null
