#!/usr/bin/env bash
# N ranks of `ringwatt train` on this machine.
#   launch/local.sh N [--max-restarts K] [ringwatt train options…]   e.g. launch/local.sh 4 --epochs 2 --out runs/local4
# More ranks than cores are allowed (--oversubscribe); each rank gets one BLAS thread.
# --max-restarts K (or RINGWATT_MAX_RESTARTS=K; default 0): when a rank dies or hangs, or a signal
# stops the job, resume from the last checkpoint up to K times (launch/restarts.sh says when not).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
NP="${1:?usage: launch/local.sh N [--max-restarts K] [ringwatt train options]}"; shift
MAX="${RINGWATT_MAX_RESTARTS:-0}"
if [ "${1:-}" = --max-restarts ]; then MAX="${2:?--max-restarts needs a number}"; shift 2; fi
source "$HERE/scripts/env.sh"
source "$HERE/launch/restarts.sh"
BIN="${RINGWATT_BIN:-$HERE/.build/release/ringwatt}"
[ -x "$BIN" ] || (cd "$HERE" && swift build -c release --product ringwatt >&2)
# Ranks see a pseudo-terminal under mpirun whatever our stdout is: tell them what it really is.
if [ -t 1 ]; then export RINGWATT_TTY=1; else export RINGWATT_TTY=0; fi
ringwatt_with_restarts "$MAX" "$BIN" -- mpirun --oversubscribe -np "$NP" -x OPENBLAS_NUM_THREADS -x RINGWATT_TTY "$BIN" train "$@"
