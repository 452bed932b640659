#!/usr/bin/env bash
# Make a Docker engine answer: use a running one; else, as root on Debian, install docker.io and
# start dockerd in the background; else stop and say what to install.
set -euo pipefail
say() { printf '[docker] %s\n' "$*"; }

if docker info >/dev/null 2>&1; then
  say "engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ]; then
    say "no Docker engine answers and this is not root on Debian: install Docker (docker.io or Docker Desktop), start it, and run again" >&2
    exit 1
  fi
  say "installing docker.io from Debian (apt-get) ..."
  # shellcheck source-path=SCRIPTDIR source=apt-lib.sh
  . "$(dirname "$0")/apt-lib.sh"
  apt_install docker.io
fi

if [ "$(id -u)" -ne 0 ]; then
  say "dockerd is installed but not running, and starting it needs root: start the docker service and run again" >&2
  exit 1
fi

# A dockerd killed hard (a stopped session, a crash) leaves its pid file behind, and a new dockerd refuses
# to start while it exists: remove it when no dockerd owns that pid any more.
pidfile=/var/run/docker.pid
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile" 2>/dev/null || true)
  if [ -z "$old" ] || [ "$(cat "/proc/$old/comm" 2>/dev/null)" != "dockerd" ]; then
    say "removing stale $pidfile (pid ${old:-none} is not a running dockerd)"
    rm -f "$pidfile"
  fi
fi

say "starting dockerd in the background (log: /var/log/dockerd.log) ..."
nohup dockerd >/var/log/dockerd.log 2>&1 &
daemon=$!
for i in $(seq 1 60); do
  if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
    say "engine up after ${i}s ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  kill -0 "$daemon" 2>/dev/null || break  # dockerd exited: no point waiting
  sleep 1
done
say "dockerd did not come up; last lines of /var/log/dockerd.log:" >&2
tail -n 20 /var/log/dockerd.log >&2 || true
exit 1
