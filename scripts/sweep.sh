#!/usr/bin/env bash
# Runs `ringwatt train` over node counts, each run into its own directory OUT/nN.
#   scripts/sweep.sh [--mode emulated|local] [--nodes "1 2 4"] [--ranks-per-node R] [--link-gbit G]
#                    [--scaling weak|strong] [--global-batch B] [--out DIR] [-- train options…]
# weak:   every rank keeps --batch-size (default 64): more nodes, bigger global batch, fewer steps.
# strong: the global batch B (default 256) is split over the ranks: per-rank batch B / ranks.
# emulated: each node is a network namespace on this machine (launch/emucluster.sh, root needed);
# local: all ranks on this machine (node count = 1, ranks = nodes × ranks-per-node).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
MODE=emulated; NODES="1 2 4"; RPN=1; GBIT=1; SCALING=weak; GLOBAL=256; OUT=runs/sweep; BATCH=64
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE="$2"; shift 2;; --nodes) NODES="$2"; shift 2;; --ranks-per-node) RPN="$2"; shift 2;;
    --link-gbit) GBIT="$2"; shift 2;; --scaling) SCALING="$2"; shift 2;; --global-batch) GLOBAL="$2"; shift 2;;
    --batch-size) BATCH="$2"; shift 2;; --out) OUT="$2"; shift 2;; --) shift; break;;
    *) echo "sweep: unknown option $1 (see the header of $0)" >&2; exit 2;;
  esac
done
case "$MODE" in emulated|local) ;; *) echo "sweep: --mode must be emulated or local" >&2; exit 2;; esac
case "$SCALING" in weak|strong) ;; *) echo "sweep: --scaling must be weak or strong" >&2; exit 2;; esac
[ -x "$HERE/.build/release/ringwatt" ] || (cd "$HERE" && swift build -c release --product ringwatt >&2)
mkdir -p "$OUT"
for n in $NODES; do
  ranks=$((n * RPN))
  if [ "$SCALING" = strong ]; then
    b=$((GLOBAL / ranks)); [ "$b" -ge 1 ] || { echo "sweep: global batch $GLOBAL < $ranks ranks" >&2; exit 2; }
  else b=$BATCH; fi
  echo "sweep: $n node(s) × $RPN rank(s), batch $b per rank ($SCALING scaling) → $OUT/n$n" >&2
  if [ "$MODE" = emulated ]; then
    bash "$HERE/launch/emucluster.sh" run "$n" "$RPN" --link-gbit "$GBIT" -- \
      --batch-size "$b" --out "$OUT/n$n" --overwrite --quiet "$@"
  else
    bash "$HERE/launch/local.sh" "$ranks" --batch-size "$b" --out "$OUT/n$n" --overwrite --quiet "$@"
  fi
done
# The sweep on one page (table, energy and time against nodes): OUT/report.html.
dirs=(); for n in $NODES; do dirs+=("$OUT/n$n"); done
"$HERE/.build/release/ringwatt" compare "${dirs[@]}" --html "$OUT/report.html" | tail -n 1
