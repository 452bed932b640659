#!/bin/bash
# Serve the Magento tree bind-mounted at /var/www/html (docker/README.md, flavor codebase).
#   entrypoint.sh check   print "installed" or "install", or "FATAL: ..." and exit 2 (roles/magento_stack
#                         runs this in a throwaway container before it starts or updates the app)
#   entrypoint.sh         every start: run as the tree's owner, check the tree and the database; on the
#                         first start (Magento not installed in the stack's DB) `bin/magento setup:install`;
#                         then php-fpm + nginx on MAGENTO_LISTEN.
# A start that cannot succeed prints its cause, marks it for the healthcheck (FATAL) and stays idle
# instead of exiting, so the restart policy does not rerun setup:install in a loop. `docker restart`
# (or the role's next up) tries again.
set -euo pipefail
ROOT=/var/www/html
FATAL_MARK=/run/reintegrate-fatal
READY_MARK=/run/reintegrate-ready
SEARCH_MODULES=(Magento_OpenSearch Magento_Elasticsearch Magento_Elasticsearch7 Magento_Elasticsearch8
                Magento_InventoryElasticsearch)
TFA_MODULES=(Magento_TwoFactorAuth Magento_AdminAdobeImsTwoFactorAuth)
say() { printf '[magento-codebase] %s\n' "$*"; }
check() { php /usr/local/bin/codebase-check.php "$@"; }

if [ "${1:-serve}" = check ]; then
    exec php /usr/local/bin/codebase-check.php state
fi

rm -f "$FATAL_MARK" "$READY_MARK"

fatal() {
    printf '%s\n' "$1" >&2
    printf '%s\n' "$1" >"$FATAL_MARK"
    say "not serving; fix the cause, then run the stack's up again (or docker restart this container)"
    trap 'exit 0' TERM INT
    sleep infinity &
    wait $!
    exit 0
}

# The user `magento` is whoever owns the tree (uid and gid of /var/www/html), root included, so files
# Magento writes stay the user's and `docker exec -u magento ... bin/magento` runs as that owner.
check tree >/tmp/tree-check || fatal "$(cat /tmp/tree-check)"
uid=$(stat -c %u "$ROOT")
gid=$(stat -c %g "$ROOT")
if getent group magento >/dev/null; then groupmod -o -g "$gid" magento; else groupadd -o -g "$gid" magento; fi
if id magento >/dev/null 2>&1; then
    usermod -o -u "$uid" -g "$gid" magento
else
    useradd -o -u "$uid" -g "$gid" -M -d "$ROOT" -s /bin/bash magento
fi
say "running as the tree's owner: uid $uid, gid $gid (user magento)"
as_owner() { setpriv --reuid="$uid" --regid="$gid" --init-groups "$@"; }

state=$(as_owner php /usr/local/bin/codebase-check.php state) || fatal "$state"
say "Magento in the stack's database: $state"

if [ "$state" = install ]; then
    : "${MAGENTO_ADMIN_PASSWORD:?set MAGENTO_ADMIN_PASSWORD (roles/magento_stack passes it; docker/README.md)}"
    extra=()
    [ -n "${MAGENTO_INSTALL_OPTIONS:-}" ] && mapfile -t extra <<<"$MAGENTO_INSTALL_OPTIONS"
    disable=()
    enable=()
    # No search engine configured: Magento 2.4 installs only with its search modules disabled.
    if ! printf '%s\n' "${extra[@]}" | grep -q -- '^--search-engine'; then
        IFS=, read -r -a found <<<"$(as_owner php /usr/local/bin/codebase-check.php modules "${SEARCH_MODULES[@]}")"
        disable+=("${found[@]}")
    fi
    IFS=, read -r -a found <<<"$(as_owner php /usr/local/bin/codebase-check.php modules "${TFA_MODULES[@]}")"
    if [ "${MAGENTO_TWO_FACTOR_AUTH:-0}" = 1 ]; then enable+=("${found[@]}"); else disable+=("${found[@]}"); fi
    args=(
        --base-url="$MAGENTO_BASE_URL"
        --db-host="$MAGENTO_DB_HOST" --db-name="$MAGENTO_DB_NAME" --db-user="$MAGENTO_DB_USER"
        --db-password="$MAGENTO_DB_PASSWORD"
        --backend-frontname="$MAGENTO_ADMIN_FRONTNAME"
        --admin-user="$MAGENTO_ADMIN_USER" --admin-password="$MAGENTO_ADMIN_PASSWORD"
        --admin-email="$MAGENTO_ADMIN_EMAIL" --admin-firstname=Admin --admin-lastname=User
        --language=en_US --currency=USD --timezone=UTC --use-rewrites=1
        --document-root-is-pub=true --no-interaction
    )
    [ -n "${MAGENTO_DB_PREFIX:-}" ] && args+=(--db-prefix="$MAGENTO_DB_PREFIX")
    [ ${#disable[@]} -gt 0 ] && args+=(--disable-modules="$(IFS=,; echo "${disable[*]}")")
    [ ${#enable[@]} -gt 0 ] && args+=(--enable-modules="$(IFS=,; echo "${enable[*]}")")
    args+=("${extra[@]}")
    say "first start: bin/magento setup:install (several minutes on 2 cores)"
    say "disabled modules: ${disable[*]:-none}; enabled: ${enable[*]:-none}"
    start=$(date +%s)
    set +e
    # The whole output stays in /tmp/setup-install.log; the container log leaves out the progress
    # counter and the usage text Symfony prints after an error.
    (cd "$ROOT" && as_owner php bin/magento setup:install "${args[@]}") 2>&1 | tee /tmp/setup-install.log \
        | grep -v --line-buffered -e '^\[Progress: ' -e '^setup:install \['
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -ne 0 ]; then
        if grep -q 'Current version of RDBMS is not supported' /tmp/setup-install.log; then
            fatal "$(as_owner php /usr/local/bin/codebase-check.php refused)"
        fi
        fatal "FATAL: bin/magento setup:install failed (exit $rc); its output is in this container's log (docker logs ${MAGENTO_STACK_NAME:-<stack>}-app). Fix the cause, then run the stack's up again."
    fi
    (cd "$ROOT" && as_owner php bin/magento deploy:mode:set developer) || fatal "FATAL: bin/magento deploy:mode:set developer failed; its output is in this container's log."
    # env.php holds the DB password and the crypt key; Magento leaves it group-writable and world-readable.
    chmod 0600 "$ROOT/app/etc/env.php"
    say "setup:install done in $(( $(date +%s) - start )) s"
fi

# php-fpm refuses a root pool unless told (-R): that is the case when the tree belongs to root.
fpm_args=(-F -O)
[ "$uid" -eq 0 ] && fpm_args+=(-R)
cp /etc/reintegrate/fpm-pool.conf /etc/php/8.2/fpm/pool.d/magento.conf
sed "s|@LISTEN@|${MAGENTO_LISTEN}|" /etc/reintegrate/nginx.conf >/etc/nginx/nginx.conf
nginx -t -q || fatal "FATAL: nginx refused its configuration (it includes the tree's nginx.conf.sample); nginx's reason is in this container's log."
php-fpm8.2 "${fpm_args[@]}" &
fpm=$!
nginx -g 'daemon off;' &
web=$!
trap 'kill -TERM "$fpm" "$web" 2>/dev/null; wait' TERM INT
touch "$READY_MARK"
say "serving ${MAGENTO_BASE_URL} on ${MAGENTO_LISTEN}"
wait -n "$fpm" "$web"
say "php-fpm or nginx exited; stopping the container"
kill -TERM "$fpm" "$web" 2>/dev/null || true
exit 1
