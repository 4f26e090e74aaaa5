#!/usr/bin/env bash
# An emulated cluster on one machine: K hosts as network namespaces (rw-h0 … rw-hK-1) joined by a
# bridge in a switch namespace (rw-sw), each host's link shaped with tc tbf to --link-gbit.
# Open MPI enters a host through launch/netns-rsh (its rsh agent); TCP between hosts, shared
# memory between the ranks of one host.
#
#   launch/emucluster.sh up K [--link-gbit G]     create (replacing an earlier one)
#   launch/emucluster.sh down                     remove every namespace it made
#   launch/emucluster.sh status
#   launch/emucluster.sh run K RANKS_PER_HOST [--link-gbit G] -- ringwatt train options…
#                                                 up, train, down (also on error or Ctrl-C)
# Needs root (ip netns). Addresses 10.77.0.0/24 exist only inside these namespaces.
# The shaper's token bucket: RINGWATT_EMU_BURST (default 256kb) and RINGWATT_EMU_LATENCY (10ms),
# tc tbf's burst and latency. A smaller burst does not make the link more like a NIC here: at
# 16kb a 0.94 MB all-reduce between 2 hosts at 1 Gbit/s takes 19 ms instead of 7 (line rate).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX=rw
SUBNET=10.77.0
SWITCH=${PREFIX}-sw

hosts() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${PREFIX}-h[0-9]+$" || true; }

down() {
  for ns in $(hosts); do ip netns delete "$ns" 2>/dev/null || true; rm -rf "/tmp/ringwatt-emu-$ns" "/dev/shm/ringwatt-emu-$ns"; done
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$SWITCH" && ip netns delete "$SWITCH" 2>/dev/null || true
}

up() {
  local k="$1" gbit="$2"
  [ "$(id -u)" -eq 0 ] || { echo "emucluster: needs root for ip netns" >&2; exit 2; }
  [[ "$k" =~ ^[0-9]+$ ]] && [ "$k" -ge 1 ] && [ "$k" -le 64 ] || { echo "emucluster: K must be 1…64, got '$k'" >&2; exit 2; }
  [[ "$gbit" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "emucluster: --link-gbit must be a number, got '$gbit'" >&2; exit 2; }
  down
  ip netns add "$SWITCH"
  ip -n "$SWITCH" link add br0 type bridge
  ip -n "$SWITCH" link set br0 up
  ip -n "$SWITCH" link set lo up
  local rate; rate=$(awk -v g="$gbit" 'BEGIN { printf "%dmbit", g * 1000 }')
  for i in $(seq 0 $((k - 1))); do
    local ns=${PREFIX}-h$i
    ip netns add "$ns"
    ip link add "veth$i" netns "$ns" type veth peer name "port$i" netns "$SWITCH"
    ip -n "$ns" link set "veth$i" name eth0
    ip -n "$ns" addr add "$SUBNET.$((i + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip -n "$SWITCH" link set "port$i" master br0
    ip -n "$SWITCH" link set "port$i" up
    # Shape both directions of the link: the host's sends, and the switch's sends to the host.
    ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$rate" burst "${RINGWATT_EMU_BURST:-256kb}" latency "${RINGWATT_EMU_LATENCY:-10ms}"
    ip netns exec "$SWITCH" tc qdisc add dev "port$i" root tbf rate "$rate" burst "${RINGWATT_EMU_BURST:-256kb}" latency "${RINGWATT_EMU_LATENCY:-10ms}"
  done
  echo "emucluster: $k hosts (${PREFIX}-h0…${PREFIX}-h$((k - 1))) at ${gbit} Gbit/s on $SUBNET.0/24"
}

hostfile() {  # K RANKS_PER_HOST FILE
  : > "$3"
  for i in $(seq 0 $(($1 - 1))); do echo "${PREFIX}-h$i slots=$2" >> "$3"; done
}

cmd="${1:-}"; shift || true
case "$cmd" in
  up)
    k="${1:?usage: emucluster.sh up K [--link-gbit G]}"; shift
    gbit=1
    while [ $# -gt 0 ]; do case "$1" in --link-gbit) gbit="$2"; shift 2;; *) echo "unknown option $1" >&2; exit 2;; esac; done
    up "$k" "$gbit";;
  down) down; echo "emucluster: removed";;
  status) hosts; ip netns list | grep -qw "$SWITCH" && echo "$SWITCH" || true;;
  run)
    k="${1:?usage: emucluster.sh run K RANKS_PER_HOST [--link-gbit G] -- train options}"; per="${2:?}"; shift 2
    gbit=1
    max="${RINGWATT_MAX_RESTARTS:-0}"
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
      case "$1" in --link-gbit) gbit="$2"; shift 2;; --max-restarts) max="$2"; shift 2;; *) echo "unknown option $1" >&2; exit 2;; esac
    done
    [ "${1:-}" = "--" ] && shift
    trap down EXIT
    trap 'down; exit 130' INT TERM
    up "$k" "$gbit" >&2
    source "$HERE/scripts/env.sh"
    BIN="${RINGWATT_BIN:-$HERE/.build/release/ringwatt}"
    tmp=$(mktemp -d); hostfile "$k" "$per" "$tmp/hosts"
    if [ -t 1 ]; then export RINGWATT_TTY=1; else export RINGWATT_TTY=0; fi
    # All hosts share this machine's cores with the kernel's veth/bridge processing: ranks that spin
    # in MPI starve it (every message then waits for a 4 ms scheduler tick). Ours test and sleep.
    export RINGWATT_COMM_WAIT_US="${RINGWATT_COMM_WAIT_US:-50}"
    # Each wait tests for 200 µs (up to 1 ms while waits are short and fast) before it sleeps where the
    # machine's ranks have a core each (auto: small all-reduces 20× faster, overlap with small
    # buckets 2–5×; docs/measurements/comm-spin-xeon207.txt) and not where there are more
    # ranks than cores, where spinning made steps up to 2× slower (docs/measurements/comm-spin-epyc.txt).
    export RINGWATT_COMM_SPIN_US="${RINGWATT_COMM_SPIN_US:-auto}"
    # The link rate, for what records it (bench-allreduce --fit writes it beside α, β, γ).
    export RINGWATT_LINK_GBIT="$gbit"
    # mpirun runs inside host 0; every host (host 0 too) is entered through the rsh agent.
    # rtc_hwloc_vmhole none: Open MPI 4.1.4's daemons otherwise share their hwloc topology through
    # a shared-memory segment mapped at a guessed address, which crashed mpirun (SIGSEGV in
    # hwloc_shmem_topology_write) in about one launch in six here.
    # --bind-to none: every host's daemon sees this machine's cores, and Open MPI's default for two
    # ranks (one per core) would bind each host's first rank to core 0 — two hosts then share one core.
    source "$HERE/launch/restarts.sh"
    [ "${RINGWATT_SUBCOMMAND:-train}" = train ] || max=0
    set +e
    ringwatt_with_restarts "$max" "$BIN" -- ip netns exec ${PREFIX}-h0 mpirun --hostfile "$tmp/hosts" -np $((k * per)) --oversubscribe --bind-to none \
      --mca plm_rsh_agent "$HERE/launch/netns-rsh" --mca btl vader,tcp,self --mca rtc_hwloc_vmhole none \
      --mca btl_tcp_if_include "$SUBNET.0/24" --mca oob_tcp_if_include "$SUBNET.0/24" \
      -x OPENBLAS_NUM_THREADS -x RINGWATT_TTY -x RINGWATT_COMM_WAIT_US -x RINGWATT_COMM_SPIN_US -x RINGWATT_LINK_GBIT -x PATH \
      "$BIN" "${RINGWATT_SUBCOMMAND:-train}" "$@"
    rc=$?
    rm -rf "$tmp"
    exit $rc;;
  *) sed -n '2,13p' "$0"; exit 2;;
esac
