#!/usr/bin/env bash
# A real multi-node Docker Swarm on this one machine, for the swarm runtime and its tests.
#
#   scripts/swarm-bed.sh up|down|status|kill-node K|haproxy-image [TAG]
#
# up: N Docker engines (SWARM_BED_NODES, default 3, at most 9), each in a network namespace
#   of its own (<name>-n1 ... ), joined by veth pairs to a bridge the script creates
#   (<name>0, SWARM_BED_NET.1/24 on the host's end, e.g. 10.213.0.1), node K at
#   SWARM_BED_NET.(10+K). Each engine has its own data-root, exec-root (its own containerd),
#   pid file, config file and socket under SWARM_BED_DIR/nK; none touches the machine's main
#   dockerd. Node 1 runs `swarm init --advertise-addr`, the others `swarm join` as workers.
#   The images in SWARM_BED_IMAGES (default switchyard/replica:latest, taken from the main
#   engine with `docker save`) are loaded into every engine (no registry).
#   Writes SWARM_BED_DIR/bed.env (SWARM_MANAGER=unix://.../n1/docker.sock and the nodes) and
#   prints it. The nodes have no default route: they reach each other and the host's end of
#   the bridge, nothing else.
# down: stops the engines (by their pid files, then whatever still runs in the namespaces
#   the script made), unmounts what they left under SWARM_BED_DIR, deletes the namespaces,
#   the bridge and its links, and removes SWARM_BED_DIR. Safe to run when nothing is up.
# status: the namespaces, engines and `docker node ls` of the manager.
# kill-node K: a node going away: SIGKILL to everything in node K's namespace (its engine,
#   containerd, shims and tasks), nothing else; its namespace and folder stay until `down`.
# haproxy-image [TAG]: builds TAG (default switchyard/haproxy-bed:local) on the main engine without
#   a registry, from the host's haproxy and the libraries it links, so a balancer can run as a
#   container on a swarm overlay (add TAG to SWARM_BED_IMAGES to load it into the bed).
#
# Settings (environment): SWARM_BED_DIR (default <repo>/data/swarm-bed; keep it short, unix
# socket paths are limited to 107 bytes), SWARM_BED_NAME (default sybed: names of the
# namespaces and links), SWARM_BED_NET (default 10.213.0), SWARM_BED_NODES, SWARM_BED_IMAGES.
# Needs root, iproute2 (ip), util-linux (nsenter, unshare, findmnt), docker.io (dockerd 20.10).
# Kernel: veth, bridge and vxlan (overlay networks). No IPVS is needed: services use dnsrr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${SWARM_BED_DIR:-$root/data/swarm-bed}"
name="${SWARM_BED_NAME:-sybed}"
net="${SWARM_BED_NET:-10.213.0}"
nodes="${SWARM_BED_NODES:-3}"
images="${SWARM_BED_IMAGES:-switchyard/replica:latest}"
bridge="${name}0"

say() { printf 'swarm-bed: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ "$name" =~ ^[a-z][a-z0-9]{0,7}$ ]] || die "SWARM_BED_NAME must be 1-8 lower-case letters or digits (it names links of at most 15 bytes)"
[[ "$net" =~ ^(10|192\.168|172\.(1[6-9]|2[0-9]|3[01]))(\.[0-9]{1,3}){0,2}$ && "$net" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "SWARM_BED_NET must be the first three bytes of a private /24, e.g. 10.213.0"
[[ "$nodes" =~ ^[1-9]$ ]] || die "SWARM_BED_NODES must be 1..9"

ns_of() { echo "${name}-n$1"; }
addr_of() { echo "$net.$((10 + $1))"; }
sock_of() { echo "$dir/n$1/docker.sock"; }
dk() { local k="$1"; shift; docker -H "unix://$(sock_of "$k")" "$@"; }

need_tools() {
  [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, dockerd)"
  local t
  for t in ip nsenter unshare findmnt dockerd docker; do command -v "$t" >/dev/null || die "needs $t on PATH (scripts/ci-setup.sh installs it)"; done
}

check_kernel() {
  # What overlay networks need: veth, bridge, vxlan. Tried in a throw-away namespace.
  local probe="${name}-probe"
  ip netns del "$probe" 2>/dev/null || true
  ip netns add "$probe"
  local missing=()
  ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null || missing+=(veth)
  ip -n "$probe" link add b0 type bridge 2>/dev/null || missing+=(bridge)
  ip -n "$probe" link add v0 type vxlan id 4242 dstport 4789 2>/dev/null || missing+=(vxlan)
  ip netns del "$probe"
  ((${#missing[@]} == 0)) || die "the kernel lacks: ${missing[*]} (overlay networks need veth, bridge and vxlan)"
  [[ -e /proc/net/ip_vs ]] && say "kernel: veth, bridge, vxlan; IPVS present" || say "kernel: veth, bridge, vxlan; no IPVS (services must use endpoint mode dnsrr)"
}

wait_engine() {
  local k="$1" i
  for i in $(seq 1 600); do
    dk "$k" version >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$dir/n$k/docker.pid" 2>/dev/null || echo 0)" 2>/dev/null || [[ $i -lt 50 ]] || break
    sleep 0.1
  done
  say "engine n$k did not answer; last lines of $dir/n$k/dockerd.log:"
  tail -n 20 "$dir/n$k/dockerd.log" >&2 || true
  return 1
}

up() {
  need_tools
  if [[ -e "$dir/bed.env" ]] && dk 1 info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null | grep -qx active; then
    say "already up"; cat "$dir/bed.env"; return 0
  fi
  ip netns list | grep -q "^$(ns_of 1)\b" && { say "leftovers of an earlier bed: tearing them down first"; down; }
  check_kernel
  local start; start=$(date +%s.%N)
  mkdir -p "$dir"
  printf '{}\n' >"$dir/daemon.json"

  ip link add "$bridge" type bridge
  ip addr add "$net.1/24" dev "$bridge"
  ip link set "$bridge" up
  local k ns
  for k in $(seq 1 "$nodes"); do
    ns="$(ns_of "$k")"
    ip netns add "$ns"
    ip link add "${ns}h" type veth peer name eth0 netns "$ns"
    ip link set "${ns}h" master "$bridge" up
    ip -n "$ns" addr add "$(addr_of "$k")/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    mkdir -p "$dir/n$k/data" "$dir/n$k/exec"
    # nsenter --net only (not `ip netns exec`, which remounts /sys and hides the cgroups).
    # Its own exec-root gives it its own containerd; no docker0; iptables stay in its namespace.
    # A UTS namespace of its own too, so that each node has its own hostname (swarm node names).
    nsenter --net="/run/netns/$ns" unshare --uts setsid sh -c 'hostname "$0" && exec "$@"' "$ns" dockerd \
      --config-file "$dir/daemon.json" \
      --data-root "$dir/n$k/data" --exec-root "$dir/n$k/exec" --pidfile "$dir/n$k/docker.pid" \
      -H "unix://$(sock_of "$k")" --bridge none \
      >"$dir/n$k/dockerd.log" 2>&1 </dev/null &
  done
  for k in $(seq 1 "$nodes"); do wait_engine "$k" || { down; die "engine n$k did not start"; }; done
  say "engines answer ($(dk 1 version --format '{{.Server.Version}}'))"

  # images, saved once and loaded into every engine at the same time
  local tarball="$dir/images.tar"
  # shellcheck disable=SC2086
  docker save -o "$tarball" $images || { down; die "docker save $images failed (build the replica image first: scripts/build-replica-image.sh)"; }
  local pids=()
  for k in $(seq 1 "$nodes"); do dk "$k" load -q -i "$tarball" >/dev/null & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || { down; die "docker load failed"; }; done
  rm -f "$tarball"
  say "loaded into every engine: $images"

  dk 1 swarm init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):2377" >/dev/null
  local token; token="$(dk 1 swarm join-token -q worker)"
  for k in $(seq 2 "$nodes"); do
    dk "$k" swarm join --advertise-addr "$(addr_of "$k")" --listen-addr "$(addr_of "$k"):2377" --token "$token" "$(addr_of 1):2377" >/dev/null
  done
  local i ready=0
  for i in $(seq 1 300); do
    ready=$(dk 1 node ls --format '{{.Status}}' | grep -c '^Ready$' || true)
    [[ "$ready" -eq "$nodes" ]] && break
    sleep 0.1
  done
  [[ "$ready" -eq "$nodes" ]] || { dk 1 node ls >&2; down; die "only $ready of $nodes nodes are ready"; }

  {
    echo "SWARM_MANAGER=unix://$(sock_of 1)"
    echo "SWARM_BED_NODES=$nodes"
    for k in $(seq 1 "$nodes"); do
      echo "SWARM_BED_NODE_$k=$(ns_of "$k") $(addr_of "$k") unix://$(sock_of "$k") $(dk "$k" info --format '{{.Swarm.NodeID}}')"
    done
  } >"$dir/bed.env"
  say "up in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s: $nodes nodes ready"
  cat "$dir/bed.env"
}

down() {
  need_tools
  local k ns pid p
  for k in $(seq 1 9); do
    ns="$(ns_of "$k")"
    pid="$(cat "$dir/n$k/docker.pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/comm" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for k in $(seq 1 9); do
    pid="$(cat "$dir/n$k/docker.pid" 2>/dev/null || true)"
    [[ -n "$pid" ]] || continue
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # whatever is left in our namespaces (containerd, shims, tasks) was started by this bed
  for k in $(seq 1 9); do
    ns="$(ns_of "$k")"
    [[ -e "/run/netns/$ns" ]] || continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  done
  # mounts the engines left under our folder (overlay layers, shm, netns files), deepest first
  if [[ -d "$dir" ]]; then
    local m
    while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(findmnt -rn -o TARGET | awk -v d="$dir/" 'index($0, d) == 1' | sort -r)
  fi
  for k in $(seq 1 9); do
    ns="$(ns_of "$k")"
    ip link del "${ns}h" 2>/dev/null || true
    [[ -e "/run/netns/$ns" ]] && ip netns del "$ns"
  done
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$dir"
  say "down: engines stopped, namespaces and links deleted, $dir removed"
}

status() {
  local k ns state=0
  ip link show "$bridge" >/dev/null 2>&1 && say "bridge $bridge: $(ip -br addr show "$bridge" | awk '{print $3}')" || { say "bridge $bridge: absent"; state=1; }
  for k in $(seq 1 "$nodes"); do
    ns="$(ns_of "$k")"
    if [[ -e "/run/netns/$ns" ]]; then
      say "n$k: namespace $ns $(addr_of "$k"), engine $(dk "$k" info --format '{{.ServerVersion}} swarm {{.Swarm.LocalNodeState}}' 2>/dev/null || echo 'not answering')"
    else
      say "n$k: absent"; state=1
    fi
  done
  dk 1 node ls 2>/dev/null || state=1
  return "$state"
}

kill_node() {
  local k="${1:-}" ns p n=0
  [[ "$k" =~ ^[1-9]$ ]] || die "kill-node needs a node number"
  ns="$(ns_of "$k")"
  [[ -e "/run/netns/$ns" ]] || die "no namespace $ns"
  for p in $(ip netns pids "$ns"); do kill -KILL "$p" 2>/dev/null && n=$((n + 1)); done
  say "n$k: killed $n processes in $ns"
}

haproxy_image() {
  local tag="${1:-switchyard/haproxy-bed:local}" bin lib tmp
  bin="$(command -v haproxy)" || die "needs haproxy on PATH (apt-get install haproxy)"
  bin="$(readlink -f "$bin")"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/sybed-haproxy.XXXXXX")"
  mkdir -p "$tmp/usr/sbin" "$tmp/lib64" "$tmp/etc" "$tmp/tmp" "$tmp/cfg"
  chmod 1777 "$tmp/tmp"
  cp "$bin" "$tmp/usr/sbin/haproxy"
  while read -r lib; do
    mkdir -p "$tmp$(dirname "$lib")"
    cp -L "$lib" "$tmp$lib"
  done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' | sort -u)
  printf 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$tmp/etc/passwd"
  printf 'nogroup:x:65534:\n' >"$tmp/etc/group"
  tar -C "$tmp" --owner=0 --group=0 --numeric-owner -c . \
    | docker import -c 'ENTRYPOINT ["/usr/sbin/haproxy"]' -c 'USER 65534:65534' -m "haproxy $(haproxy -v | head -1 | awk '{print $3}') for the swarm bed" - "$tag" >/dev/null
  rm -rf "$tmp"
  say "built $tag"
}

case "${1:-}" in
  up) up ;;
  haproxy-image) haproxy_image "${2:-}" ;;
  kill-node) need_tools; kill_node "${2:-}" ;;
  down) down ;;
  status) status ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
