#!/usr/bin/env bash
# Ringwatt across real nodes with Open MPI and a hostfile (see launch/hostfile.example).
#   launch/cluster.sh HOSTFILE RANKS_PER_NODE [--max-restarts K] [ringwatt train options…]
# --max-restarts K (or RINGWATT_MAX_RESTARTS): resume after a dead or hung rank, up to K times.
# Every node needs the same ringwatt binary path (a shared file system, or the same build on each)
# and the data at the same --data path. Rank 0 writes --out on its own node.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
HOSTFILE="${1:?usage: launch/cluster.sh HOSTFILE RANKS_PER_NODE [train options]}"; PPN="${2:?ranks per node}"; shift 2
[ -r "$HOSTFILE" ] || { echo "cluster.sh: cannot read hostfile $HOSTFILE" >&2; exit 2; }
NODES=$(grep -cvE '^\s*(#|$)' "$HOSTFILE")
MAX="${RINGWATT_MAX_RESTARTS:-0}"
if [ "${1:-}" = --max-restarts ]; then MAX="${2:?--max-restarts needs a number}"; shift 2; fi
source "$HERE/scripts/env.sh"
source "$HERE/launch/restarts.sh"
BIN="${RINGWATT_BIN:-$HERE/.build/release/ringwatt}"
if [ -t 1 ]; then export RINGWATT_TTY=1; else export RINGWATT_TTY=0; fi
# --map-by ppr:N:node  N ranks on every node, filled node by node (rank r on node r / N)
# --bind-to core       each rank pinned to its own core: no migration, stable BLAS speed,
#                      and RAPL/hwmon read once per node by the node's first rank
# -x VAR               environment every rank needs: one BLAS thread each, the TTY hint,
#                      PATH/LD_LIBRARY_PATH so remote nodes find the same MPI and OpenBLAS
ringwatt_with_restarts "$MAX" "$BIN" -- mpirun --hostfile "$HOSTFILE" -np $((NODES * PPN)) --map-by ppr:"$PPN":node --bind-to core \
  -x OPENBLAS_NUM_THREADS=1 -x RINGWATT_TTY -x PATH -x LD_LIBRARY_PATH \
  "$BIN" train "$@"
