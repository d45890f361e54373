#!/usr/bin/env bash
# Builds, WITHOUT a registry, the two base tags the project's Dockerfiles start from:
#
#   debian:bookworm-slim    Debian 12 from Debian's own packages: `debootstrap --variant=minbase
#                           bookworm` from the machine's apt mirror, then `docker import`. This is
#                           real Debian bookworm (a minbase, close to what the official slim image
#                           holds; apt caches and lists removed).
#   node:22-bookworm-slim   NOT the official Node 22 image: debian:bookworm-slim above plus THIS
#                           MACHINE's own Node.js (its node binary, npm and C headers, copied to
#                           /usr/local like the official image lays them out). Debian bookworm's
#                           own nodejs is 18, too old for Next 16 (which needs >= 20.9), and no
#                           registry is reachable here, so the host's Node (20.19 or newer, what
#                           the project already requires) is what the image gets. The image says
#                           so: label switchyard.local-base=true and switchyard.node-version, and
#                           `node -v` in it prints the host's version. On a machine with a
#                           registry, do not run this script: `docker compose build` pulls the
#                           real images.
#
# Usage: scripts/build-base-images.sh [--force] [--panel-deps]
#   --force        build again even when tags of the same content exist
#   --panel-deps   also switchyard/panel-deps:local: this checkout's node_modules (what `npm
#                  install` put there on this machine, for this same Node binary) under
#                  /deps/node_modules, for the panel's Dockerfile (DEPS_IMAGE), which then needs
#                  no npm registry. Without it the panel's image runs `npm install` itself.
#
# Idempotent and cached: each tag carries a content key (switchyard.base-key: the suite and
# mirror for Debian; the Debian image id, the node binary, npm and headers for Node). When the
# tag exists with the same key nothing is built (about a second). A tag that exists WITHOUT the
# switchyard.local-base label (a real image pulled from a registry) is never replaced.
# Needs root (debootstrap), docker, debootstrap (apt-get install debootstrap), node on PATH.
# Measured on 2 cores: 80 s from nothing (debootstrap 25-60 s), up to 4 minutes on a busy machine;
# about 2 s when everything is cached.
set -euo pipefail

say() { printf '[base-images] %s\n' "$*" >&2; }
die() { printf '[base-images] error: %s\n' "$*" >&2; exit 1; }

force=0
panel_deps=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --panel-deps) panel_deps=1 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) die "unknown option: $arg" ;;
  esac
done

DEBIAN_TAG="debian:bookworm-slim"
NODE_TAG="node:22-bookworm-slim"
DEPS_TAG="switchyard/panel-deps:local"
SUITE="bookworm"

for tool in docker debootstrap tar sha256sum node; do
  command -v "$tool" >/dev/null || die "needs $tool on PATH (debootstrap: apt-get install debootstrap)"
done
[[ $(id -u) -eq 0 ]] || die "debootstrap needs root"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "the Docker engine does not answer; start it first (scripts/start-dockerd.sh)"

# The machine's own Debian mirror (deb822 sources or the classic list), deb.debian.org otherwise.
mirror="$(
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } | awk '/^URIs:/ { print $2 }'
  { cat /etc/apt/sources.list 2>/dev/null || true; } | awk '$1 == "deb" && $2 !~ /^\[/ { print $2 }'
)"
mirror="$(printf '%s\n' "$mirror" | awk 'NF && !/security/ { print; exit }')"
mirror="${mirror:-http://deb.debian.org/debian}"

label_of() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

# 0: build it; 1: a tag with this key exists (or a foreign image: keep it)
needs_build() {
  local tag="$1" key="$2"
  docker image inspect "$tag" >/dev/null 2>&1 || return 0
  if [[ "$(label_of "$tag" switchyard.local-base)" != "true" ]]; then
    say "$tag exists and was not built by this script (a registry image?): keeping it"
    return 1
  fi
  if (( force == 0 )) && [[ "$(label_of "$tag" switchyard.base-key)" == "$key" ]]; then
    say "up to date: $tag ($(docker image inspect --format '{{.Id}}' "$tag" | cut -c8-19))"
    return 1
  fi
  return 0
}

# The image a tag named before it was rebuilt: removed afterwards when nothing uses it any
# more (no tag, no container), so rebuilds do not pile up untagged copies of hundreds of MB.
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
drop_old() {
  local old="$1" tag="$2"
  [[ -n "$old" && "$old" != "$(image_id "$tag")" ]] || return 0
  if [[ -z "$(docker image inspect --format '{{join .RepoTags ","}}' "$old" 2>/dev/null)" ]]; then
    docker rmi "$old" >/dev/null 2>&1 && say "removed the previous $tag (${old:7:12})" || true
  fi
}

work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-base.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# ── debian:bookworm-slim ──────────────────────────────────────────────────────────
debian_key="$(printf 'v1 %s %s minbase\n' "$SUITE" "$mirror" | sha256sum | cut -c1-16)"
if needs_build "$DEBIAN_TAG" "$debian_key"; then
  start=$(date +%s)
  old="$(image_id "$DEBIAN_TAG")"
  say "debootstrap --variant=minbase $SUITE from $mirror (about 25 s)"
  debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    die "debootstrap failed"
  }
  # what the official slim image leaves out: downloaded packages and package lists
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/tmp/"*
  printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$SUITE" "$mirror" "$SUITE" >"$work/rootfs/etc/apt/sources.list"
  say "importing $DEBIAN_TAG ($(du -sh "$work/rootfs" | cut -f1))"
  tar -C "$work/rootfs" --numeric-owner -c . | docker import \
    -c 'CMD ["bash"]' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'LABEL switchyard.local-base=true' \
    -c "LABEL switchyard.base-key=$debian_key" \
    -c "LABEL switchyard.base-source=\"debootstrap --variant=minbase $SUITE $mirror\"" \
    -m "debootstrap --variant=minbase $SUITE from $mirror (scripts/build-base-images.sh)" \
    - "$DEBIAN_TAG" >/dev/null
  rm -rf "$work/rootfs"
  drop_old "$old" "$DEBIAN_TAG"
  say "built $DEBIAN_TAG in $(($(date +%s) - start)) s"
fi

# ── node:22-bookworm-slim (the host's Node on that Debian) ────────────────────────
node_bin="$(readlink -f "$(command -v node)")"
node_version="$("$node_bin" -v)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "the host's node $node_version is too old: the panel needs >= 20.19 (Next 16 needs >= 20.9)"
node_prefix="$(dirname "$(dirname "$node_bin")")"
npm_dir="$node_prefix/lib/node_modules/npm"
[[ -f "$npm_dir/package.json" ]] || npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
[[ -f "$npm_dir/package.json" ]] || die "cannot find npm's folder next to $node_bin"
headers="$node_prefix/include/node"
[[ -f "$headers/node_api.h" ]] || die "no Node headers in $headers (node-gyp builds better-sqlite3 against them)"

debian_id="$(docker image inspect --format '{{.Id}}' "$DEBIAN_TAG")"
node_key="$(
  { echo "v1 $debian_id"; sha256sum "$node_bin" | cut -d' ' -f1
    node -p "require('$npm_dir/package.json').version"; sha256sum "$headers/node_version.h" | cut -d' ' -f1; } \
    | sha256sum | cut -c1-16
)"
if needs_build "$NODE_TAG" "$node_key"; then
  start=$(date +%s)
  old="$(image_id "$NODE_TAG")"
  ctx="$work/node"
  mkdir -p "$ctx/files/usr/local/bin" "$ctx/files/usr/local/lib/node_modules" "$ctx/files/usr/local/include"
  cp "$node_bin" "$ctx/files/usr/local/bin/node"
  cp -a "$npm_dir" "$ctx/files/usr/local/lib/node_modules/npm"
  cp -a "$headers" "$ctx/files/usr/local/include/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/files/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/files/usr/local/bin/npx"
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_TAG
COPY files/ /
LABEL switchyard.local-base=true \\
      switchyard.base-key=$node_key \\
      switchyard.node-version=$node_version \\
      switchyard.base-source="$DEBIAN_TAG + the build machine's own node $node_version (NOT the official node:22 image)"
ENV NODE_VERSION=${node_version#v}
CMD ["node"]
EOF
  say "building $NODE_TAG: $DEBIAN_TAG + this machine's node $node_version, npm $(node -p "require('$npm_dir/package.json').version"), headers"
  docker build -q -t "$NODE_TAG" "$ctx" >/dev/null
  got="$(docker run --rm "$NODE_TAG" node -v)"
  [[ "$got" == "$node_version" ]] || die "node in $NODE_TAG printed '$got', expected $node_version"
  docker run --rm "$NODE_TAG" npm -v >/dev/null || die "npm does not run in $NODE_TAG"
  drop_old "$old" "$NODE_TAG"
  say "built $NODE_TAG (node $got) in $(($(date +%s) - start)) s"
fi

# ── switchyard/panel-deps:local (this checkout's node_modules) ────────────────────
if (( panel_deps == 1 )); then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  modules="$root/node_modules"
  [[ -f "$modules/.package-lock.json" ]] || die "no $modules: run npm install first"
  (cd "$root" && node -e 'require("better-sqlite3")') || die "node_modules do not load with this node (npm install again)"
  sqlite_addon="$modules/better-sqlite3/build/Release/better_sqlite3.node"
  deps_key="$(
    { echo "v1"; sha256sum "$node_bin" "$root/package-lock.json" "$modules/.package-lock.json" | cut -d' ' -f1
      [[ -f "$sqlite_addon" ]] && sha256sum "$sqlite_addon" | cut -d' ' -f1; } | sha256sum | cut -c1-16
  )"
  if needs_build "$DEPS_TAG" "$deps_key"; then
    start=$(date +%s)
    old="$(image_id "$DEPS_TAG")"
    say "importing $DEPS_TAG from $modules ($(du -sh "$modules" | cut -f1))"
    tar -C "$root" --owner=0 --group=0 --numeric-owner --transform 's,^node_modules,deps/node_modules,S' -c node_modules \
      | docker import \
        -c 'LABEL switchyard.local-base=true' \
        -c "LABEL switchyard.base-key=$deps_key" \
        -c "LABEL switchyard.node-version=$node_version" \
        -m "node_modules of $root, installed on the build machine for node $node_version (scripts/build-base-images.sh --panel-deps)" \
        - "$DEPS_TAG" >/dev/null
    drop_old "$old" "$DEPS_TAG"
    say "built $DEPS_TAG in $(($(date +%s) - start)) s"
  fi
fi

docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' \
  | awk -v a="$DEBIAN_TAG" -v b="$NODE_TAG" -v c="$DEPS_TAG" '$1 == a || $1 == b || $1 == c' >&2
