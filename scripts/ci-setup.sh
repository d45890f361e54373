#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (as root) to run Switchyard's whole test suite:
#   1. system packages: chromium (browser tests), haproxy, nginx, docker.io, and the
#      build tools better-sqlite3 compiles with (python3, make, g++)
#   2. npm install with the committed lockfile (not npm ci: see docs, RECIPES)
#   3. the unprivileged user process replicas run as (REPLICA_USER, default
#      switchyard-replica): a panel running as root never starts a replica as root
#   4. a Docker engine (scripts/start-dockerd.sh) and the replica image
#      (scripts/build-replica-image.sh), each when the script exists
# Idempotent: installed packages are not installed again, npm install on an
# up-to-date tree is quick, and both Docker scripts do nothing when already done.
# Prints the time each phase took. .ci/run calls this, then `npm test`.
#
#   scripts/ci-setup.sh [--system-only] [--fresh-images]
#
#   --system-only   everything but npm install (npm test's pretest)
#   --fresh-images  remove every switchyard/replica image first, so the image is built
#                   from nothing (.ci/run: a first-run bug cannot hide behind leftovers)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '[ci-setup] %s\n' "$*"; }
die() { printf '[ci-setup] error: %s\n' "$*" >&2; exit 1; }

declare -a timings=()
phase() {
  local name="$1" start took
  shift
  start=$(date +%s.%N)
  say "── $name"
  "$@"
  took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  timings+=("$(printf '%-16s %7s s' "$name" "$took")")
  say "   $name: $took s"
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "needs root (or sudo) for: $*"
  fi
}

# Packages the tests need. chromium: e2e tests (playwright-core drives /usr/bin/chromium);
# haproxy, nginx: engine tests; docker.io: docker runtime tests; procps, iproute2, psmisc:
# process and port inspection; python3, make, g++: node-gyp builds better-sqlite3;
# fonts-dejavu-core: readable screenshots; git: the scripts' checks; docker-compose (1.29) and
# debootstrap: the compose stack's test (scripts/build-base-images.sh builds the base images).
# prometheus: tests/e2e/prometheus.test.ts scrapes a real panel with it (and runs the Grafana dashboard's queries).
# util-linux (nsenter, unshare, findmnt) with iproute2 and docker.io: scripts/swarm-bed.sh, the multi-node Swarm
# of tests/integration/runtime-swarm.test.ts (the kernel must have veth, bridge and vxlan; IPVS is not needed).
APT_PACKAGES=(
  chromium haproxy nginx docker.io ca-certificates openssl
  procps iproute2 psmisc stress-ng util-linux
  python3 make g++
  fonts-dejavu-core git
  prometheus
  docker-compose debootstrap
)

check_machine() {
  command -v node >/dev/null 2>&1 || die "node is not installed: install Node.js 20.19 or newer (with headers in /usr/include/node) first"
  local v
  v="$(node -p 'process.versions.node')"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "node $v is too old: Switchyard needs >= 20.19"
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
  say "node $v, npm $(npm -v 2>/dev/null), $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown OS}"), $(nproc) cores"
}

apt_packages() {
  local missing=()
  local p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "all system packages are installed: ${APT_PACKAGES[*]}"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
}

npm_install() {
  [[ -f package-lock.json ]] || die "package-lock.json is missing: the lockfile must be committed"
  local before
  before="$(sha256sum package-lock.json | cut -d' ' -f1)"
  # npm ci refuses this lockfile (no darwin/win32 swc builds in the registry); npm install
  # with the committed lockfile installs the same tree and leaves the lockfile as it is.
  npm install --no-audit --no-fund
  if [[ "$(sha256sum package-lock.json | cut -d' ' -f1)" != "$before" ]]; then
    say "warning: npm install changed package-lock.json; commit the lockfile that matches package.json"
  fi
  node -e 'require("better-sqlite3")' || die "better-sqlite3 did not build (needs python3, make, g++ and node headers)"
}

# A panel running as root starts process replicas as REPLICA_USER (lib/runtime/replica-user.ts)
# and refuses to start them while it does not exist; its HAProxy's workers run as ENGINE_USER
# (lib/engines/engine-user.ts). Both as the panel reads them.
system_user() {
  local what="$1" name="$2"
  if getent passwd "$name" >/dev/null 2>&1; then
    say "$what user $name exists (uid $(id -u "$name"))"
    return
  fi
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
    say "warning: no root: not creating the $what user $name (a panel that is not root runs them as itself)"
    return
  fi
  say "creating the $what user $name"
  as_root useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$name"
}

replica_user() {
  system_user replica "${REPLICA_USER:-switchyard-replica}"
  system_user engine "${ENGINE_USER:-switchyard-engine}"
}

docker_engine() {
  if [[ -f scripts/start-dockerd.sh ]]; then
    bash scripts/start-dockerd.sh
  else
    say "no scripts/start-dockerd.sh: not starting a Docker engine"
  fi
}

remove_replica_images() {
  if ! docker version >/dev/null 2>&1; then
    die "--fresh-images: no Docker engine answers"
  fi
  local images
  images="$(docker image ls --format '{{.Repository}}:{{.Tag}}' | awk -F: '$1 == "switchyard/replica" || $1 ~ /^sy-replica-/ { print }')"
  if [[ -z "$images" ]]; then
    say "no switchyard/replica images on this machine"
    return
  fi
  say "removing: $(echo "$images" | paste -sd' ')"
  # shellcheck disable=SC2086
  docker rmi -f $images >/dev/null
}

replica_image() {
  if [[ ! -f scripts/build-replica-image.sh ]]; then
    say "no scripts/build-replica-image.sh: skipping the replica image"
  elif ! docker version >/dev/null 2>&1; then
    say "warning: no Docker engine answers: skipping the replica image (docker runtime tests will say why they skip)"
  else
    bash scripts/build-replica-image.sh
  fi
}

# --system-only: everything but npm install (npm test's pretest uses this, so `npm test`
# works on a fresh machine after `npm install`; each step is quick when already done)
system_only=false
fresh_images=false
for arg in "$@"; do
  case "$arg" in
    --system-only) system_only=true ;;
    --fresh-images) fresh_images=true ;;
    *) die "unknown option: $arg" ;;
  esac
done

total_start=$(date +%s)
phase "check machine" check_machine
phase "system packages" apt_packages
$system_only || phase "npm install" npm_install
phase "replica user" replica_user
phase "docker engine" docker_engine
$fresh_images && phase "remove images" remove_replica_images
phase "replica image" replica_image

say "── setup done in $(($(date +%s) - total_start)) s"
for t in "${timings[@]}"; do say "   $t"; done
