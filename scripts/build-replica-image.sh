#!/usr/bin/env bash
# Builds the replica image (switchyard/replica:latest by default) WITHOUT a registry:
# the host's node binary, every shared library it links (same paths), and
# replica/server.js go into a folder that is imported as a one-layer image.
# (replica/Dockerfile does the same from node:20-slim where a registry is reachable.)
#
# Usage: scripts/build-replica-image.sh [--force] [IMAGE]
#   IMAGE   tag to create, default switchyard/replica:latest
#   --force import again even when an image of the same content exists
# Prints the image id on stdout (progress goes to stderr).
# Idempotent: the content (node, libraries, server.js, settings) is hashed and the
# image also tagged IMAGE_REPO:src-HASH; when that tag exists nothing is imported.
set -euo pipefail

force=0
image=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "unknown option: $arg" >&2; exit 2 ;;
    *) image="$arg" ;;
  esac
done
image="${image:-switchyard/replica:latest}"
repo="${image%:*}"
[[ "$image" == *:* && "${image##*/}" == *:* ]] || repo="$image"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server_js="$root/replica/server.js"
[[ -f "$server_js" ]] || { echo "missing $server_js" >&2; exit 1; }

for tool in docker ldd tar sha256sum readlink; do
  command -v "$tool" >/dev/null || { echo "needs $tool on PATH" >&2; exit 1; }
done
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || {
  echo "the Docker engine does not answer (docker version failed); start dockerd first" >&2
  exit 1
}

node_path="$(command -v node || true)"
[[ -n "$node_path" ]] || { echo "needs node on PATH" >&2; exit 1; }
node_real="$(readlink -f "$node_path")"

# Libraries: every absolute path ldd prints ("x => /path (addr)" and "/path (addr)").
mapfile -t libs < <(ldd "$node_real" | awk '
  $2 == "=>" && $3 ~ /^\// { print $3; next }
  $1 ~ /^\// { print $1 }
' | sort -u)
(( ${#libs[@]} > 0 )) || { echo "ldd $node_real listed no libraries (a static node is fine, but this looks wrong)" >&2; exit 1; }
if ldd "$node_real" | grep -q "not found"; then
  echo "ldd $node_real: some libraries are not found:" >&2
  ldd "$node_real" | grep "not found" >&2
  exit 1
fi

# Image settings. BIND_HOST stays 127.0.0.1 (the app's default): the runtime sets
# it; with a bridge network pass -e BIND_HOST=0.0.0.0 and publish on 127.0.0.1.
changes=(
  'CMD ["/usr/bin/node","/app/server.js"]'
  'ENV PORT=8080'
  'ENV ADMIN_PORT=9090'
  'ENV NODE_ENV=production'
  'ENV PATH=/usr/bin:/bin'
  'WORKDIR /app'
  'EXPOSE 8080 9090'
  'USER 65534:65534'
)

hash="$(
  {
    sha256sum "$node_real" "${libs[@]}" "$server_js" | awk '{ print $1 }'
    printf '%s\n' "${libs[@]}" "${changes[@]}"
  } | sha256sum | cut -c1-16
)"
content_tag="$repo:src-$hash"

if (( force == 0 )) && docker image inspect "$content_tag" >/dev/null 2>&1; then
  echo "up to date: $content_tag" >&2
  docker tag "$content_tag" "$image"
  docker image inspect --format '{{.Id}}' "$image"
  exit 0
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-replica-image.XXXXXX")"
trap 'rm -rf "$dir"' EXIT

mkdir -p "$dir/usr/bin" "$dir/app" "$dir/tmp" "$dir/lib64" "$dir/etc"
chmod 1777 "$dir/tmp"
cp "$node_real" "$dir/usr/bin/node"
chmod 0755 "$dir/usr/bin/node"
for lib in "${libs[@]}"; do
  # Same path as on the host, as a regular file (symlinks resolved); the dynamic
  # loader finds them in its built-in directories (there is no ld.so.cache).
  mkdir -p "$dir$(dirname "$lib")"
  cp -L "$lib" "$dir$lib"
done
cp "$server_js" "$dir/app/server.js"
chmod 0644 "$dir/app/server.js"
printf 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$dir/etc/passwd"
printf 'nogroup:x:65534:\n' >"$dir/etc/group"

# A quick check that the copied tree runs before it becomes an image: the loader
# in the folder, libraries from the folder only.
loader="$(printf '%s\n' "${libs[@]}" | grep -m1 '/ld-linux' || true)"
if [[ -n "$loader" ]]; then
  libpath="$(printf '%s\n' "${libs[@]}" | xargs -n1 dirname | sort -u | sed "s|^|$dir|" | paste -sd:)"
  "$dir$loader" --library-path "$libpath" "$dir/usr/bin/node" -e 'process.exit(0)' || {
    echo "the copied node does not run from $dir" >&2
    exit 1
  }
fi

change_args=()
for c in "${changes[@]}"; do change_args+=(-c "$c"); done
echo "importing $image from $dir ($(du -sh "$dir" | cut -f1))" >&2
tar -C "$dir" --owner=0 --group=0 --numeric-owner -c . \
  | docker import "${change_args[@]}" -m "switchyard replica, node $("$node_real" --version)" - "$content_tag" >/dev/null
docker tag "$content_tag" "$image"
# Drop the content tags of earlier builds (an image still used by a container stays).
# (No pipeline of greps here: under pipefail a grep that matches nothing fails the
# script, which is exactly the first build on a fresh machine.)
while read -r old; do
  if [[ "$old" == "$repo:src-"* && "$old" != "$content_tag" ]]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
done < <(docker image ls --format '{{.Repository}}:{{.Tag}}' "$repo")
docker image inspect --format '{{.Id}}' "$image"
