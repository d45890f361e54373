#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, for the docker runtime and its tests.
#
#   scripts/start-dockerd.sh
#
# Idempotent: does nothing when `docker version` already answers. Otherwise installs
# docker.io with apt when dockerd is missing, starts dockerd in the background without
# a bridge, iptables or NAT (containers use host networking; there is no systemd here),
# and waits up to 30 s for it to answer. Logs go to ${DATA_DIR:-./data}/dockerd.log
# (or /tmp/switchyard-dockerd.log when that folder cannot be created); the daemon's pid
# is written next to the log as dockerd.pid, so it can be stopped by its pid.
set -euo pipefail

say() { printf 'start-dockerd: %s\n' "$*"; }

if docker version >/dev/null 2>&1; then
  say "the Docker engine already answers; nothing to do"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "dockerd is not installed and apt-get is not available: install Docker Engine by hand" >&2
    exit 1
  fi
  say "dockerd is not installed: installing docker.io with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io
fi

log_dir="${DATA_DIR:-./data}"
if ! mkdir -p "$log_dir" 2>/dev/null || [ ! -w "$log_dir" ]; then
  log_dir=/tmp
  log_file="$log_dir/switchyard-dockerd.log"
  pid_file="$log_dir/switchyard-dockerd.pid"
else
  log_file="$log_dir/dockerd.log"
  pid_file="$log_dir/dockerd.pid"
fi

if pgrep -x dockerd >/dev/null 2>&1; then
  say "a dockerd process exists but does not answer yet; waiting for it"
else
  say "starting dockerd (no bridge, no iptables, no NAT); log: $log_file"
  nohup dockerd --bridge none --iptables=false --ip-masq=false >>"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
  say "dockerd pid $(cat "$pid_file") (written to $pid_file)"
fi

for _ in $(seq 1 300); do
  if docker version >/dev/null 2>&1; then
    say "the Docker engine answers: server $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
    exit 0
  fi
  sleep 0.1
done

say "dockerd did not answer within 30 s; last lines of $log_file:" >&2
tail -n 20 "$log_file" >&2 || true
exit 1
