#!/usr/bin/env bash
# N ranks of `ringwatt train` on this machine.
#   launch/local.sh N [ringwatt train options…]        e.g. launch/local.sh 4 --epochs 2 --out runs/local4
# More ranks than cores are allowed (--oversubscribe); each rank gets one BLAS thread.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
NP="${1:?usage: launch/local.sh N [ringwatt train options]}"; shift
source "$HERE/scripts/env.sh"
BIN="${RINGWATT_BIN:-$HERE/.build/release/ringwatt}"
[ -x "$BIN" ] || (cd "$HERE" && swift build -c release --product ringwatt >&2)
# Ranks see a pseudo-terminal under mpirun whatever our stdout is: tell them what it really is.
if [ -t 1 ]; then export RINGWATT_TTY=1; else export RINGWATT_TTY=0; fi
exec mpirun --oversubscribe -np "$NP" -x OPENBLAS_NUM_THREADS -x RINGWATT_TTY "$BIN" train "$@"
