#!/usr/bin/env bash
# From run directories to plots in one command: compare them, then draw energy vs nodes,
# speed-up and efficiency, and the power timeline per rank into OUT (PNG and SVG).
#   bash scripts/plot-runs.sh OUT RUN_DIR…
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:?usage: scripts/plot-runs.sh OUT RUN_DIR…}"; shift
[ $# -ge 1 ] || { echo "plot-runs: give at least one run directory" >&2; exit 2; }
mkdir -p "$OUT"
BIN="${RINGWATT_BIN:-$HERE/.build/release/ringwatt}"
[ -x "$BIN" ] || (cd "$HERE" && swift build -c release --product ringwatt >&2)
"$BIN" compare "$@" --csv "$OUT/compare.csv"
python3 "$HERE/scripts/plot_scaling.py" "$OUT"
