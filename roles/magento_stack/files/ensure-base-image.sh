#!/usr/bin/env bash
# Make the local base image debian:bookworm-slim exist. Paths, in order:
#   present  - already in the engine;
#   pulled   - only when REINTEGRATE_BASE_PULL=1 (a laptop with a registry); never tried otherwise, so
#              an offline machine sends no traffic to a registry it cannot reach;
#   built    - debootstrap --variant=minbase bookworm, imported with `docker import`.
set -euo pipefail
IMAGE="${REINTEGRATE_BASE_IMAGE:-debian:bookworm-slim}"
MIRROR="${REINTEGRATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
say() { printf '[base-image] %s\n' "$*"; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "path: present ($IMAGE already in the engine)"
  exit 0
fi

if [ "${REINTEGRATE_BASE_PULL:-0}" = "1" ]; then
  say "trying to pull $IMAGE (REINTEGRATE_BASE_PULL=1) ..."
  if timeout 120 docker pull -q "$IMAGE" >/dev/null 2>&1; then
    say "path: pulled"
    exit 0
  fi
  say "pull failed; building offline instead"
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    say "debootstrap is missing and installing it needs root: apt-get install debootstrap, or set REINTEGRATE_BASE_PULL=1 where a registry answers" >&2
    exit 1
  fi
  say "installing debootstrap (apt-get) ..."
  # shellcheck source-path=SCRIPTDIR source=apt-lib.sh
  . "$(dirname "$(readlink -f "$0")")/apt-lib.sh"
  apt_install debootstrap
fi

root=$(mktemp -d /tmp/reintegrate-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
say "debootstrap --variant=minbase bookworm from $MIRROR (about 1-2 minutes) ..."
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || {
  say "debootstrap failed; last lines:" >&2; tail -n 20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# What makes an image "slim": no apt lists, docs or man pages.
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/cache/apt/*.bin
say "importing into the engine as $IMAGE ..."
tar -C "$root" -c . | docker import -c 'CMD ["bash"]' - "$IMAGE" >/dev/null
say "path: built offline in $(( $(date +%s) - start ))s"
