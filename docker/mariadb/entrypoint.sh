#!/bin/bash
# First start: initialise the data directory, create the database and account, then serve.
set -euo pipefail
: "${MARIADB_DATABASE:?}" "${MARIADB_USER:?}" "${MARIADB_PASSWORD:?}" "${MARIADB_ROOT_PASSWORD:?}"
addr="${MARIADB_BIND%:*}"; port="${MARIADB_BIND##*:}"
args=(--user=mysql --bind-address="$addr" --port="$port" --skip-name-resolve
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci)

if [ ! -d /var/lib/mysql/mysql ]; then
  echo "[mariadb] initialising data directory"
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  mariadbd "${args[@]}" --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  for _ in $(seq 1 60); do mariadb-admin --socket=/run/mysqld/init.sock ping >/dev/null 2>&1 && break; sleep 0.5; done
  # Values go in through a here-doc read by the client, never on a command line.
  mariadb --socket=/run/mysqld/init.sock <<SQL
CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\`;
CREATE USER IF NOT EXISTS '${MARIADB_USER}'@'%' IDENTIFIED BY '${MARIADB_PASSWORD}';
GRANT ALL ON \`${MARIADB_DATABASE}\`.* TO '${MARIADB_USER}'@'%';
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('${MARIADB_ROOT_PASSWORD}');
FLUSH PRIVILEGES;
SQL
  mariadb-admin --socket=/run/mysqld/init.sock shutdown
  wait "$pid" || true
  echo "[mariadb] initialised database ${MARIADB_DATABASE}"
fi
echo "[mariadb] serving on ${MARIADB_BIND}"
exec mariadbd "${args[@]}"
