# shellcheck shell=bash
# Sourced by scripts/ensure-*.sh and ensure-base-image.sh (scripts/apt-lib.sh links here): apt-get install that waits (bounded) for the package manager's locks
# and updates the package lists first. Fresh cloud machines run unattended-upgrades at boot, which holds
# the dpkg lock for minutes; apt-get would fail at once with "Could not get lock".
#   apt_install [OPTION...] PKG...   wait for the locks, apt-get update, apt-get install -y ...
#   apt_wait_locks         wait until no process holds them (or fail after the timeout, naming it)
# REINTEGRATE_APT_LOCK_TIMEOUT (seconds, default 600) bounds each wait; REINTEGRATE_APT_LOCKS (tests) lists
# the lock files to watch instead of apt's and dpkg's own.
APT_LOCK_TIMEOUT="${REINTEGRATE_APT_LOCK_TIMEOUT:-600}"
APT_LOCKS="${REINTEGRATE_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}"

# The pid and name of a process that has one of the lock files open (apt and dpkg hold them open only
# while they lock them), or nothing.
apt_lock_holder() {
  local lock fd pid
  for lock in $APT_LOCKS; do
    fd=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "$lock" -print -quit 2>/dev/null || true)
    [ -n "$fd" ] || continue
    pid=${fd#/proc/}; pid=${pid%%/*}
    printf '%s (pid %s, %s)\n' "$(cat "/proc/$pid/comm" 2>/dev/null || echo '?')" "$pid" "$lock"
    return 0
  done
  return 0
}

apt_wait_locks() {
  local waited=0 holder
  while holder=$(apt_lock_holder) && [ -n "$holder" ]; do
    if [ "$waited" -eq 0 ]; then
      say "waiting up to ${APT_LOCK_TIMEOUT}s for the package manager: $holder holds its lock (on a fresh machine, unattended-upgrades)"
    fi
    if [ "$waited" -ge "$APT_LOCK_TIMEOUT" ]; then
      say "gave up after ${APT_LOCK_TIMEOUT}s: $holder still holds the package manager's lock; let it finish (or stop it), then run again (REINTEGRATE_APT_LOCK_TIMEOUT=SECONDS waits longer)" >&2
      return 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
  [ "$waited" -eq 0 ] || say "the package manager is free after ${waited}s"
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt_wait_locks
  # apt's own wait covers a lock taken between our check and its start.
  apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" update -qq
  apt_wait_locks
  apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" install -y -qq "$@" >/dev/null
}
