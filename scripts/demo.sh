#!/usr/bin/env bash
# The main job on a fresh machine: install, build, train the default MLP on Fashion-MNIST on one
# rank per core (2 to 4 ranks; RANKS=N to choose), print the energy report, draw the plots.
#   [RANKS=N] bash scripts/demo.sh [extra ringwatt train options…]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
source scripts/env.sh
swift build -c release --product ringwatt
OUT="${OUT:-runs/demo}"
RANKS="${RANKS:-$(ringwatt_default_ranks)}"
bash launch/local.sh "$RANKS" --epochs "${EPOCHS:-1}" --out "$OUT" --overwrite "$@"
python3 scripts/plot_run.py "$OUT"
# The run on one page (figures, plots, tables; self-contained): open it in a browser.
.build/release/ringwatt report "$OUT" --html | tail -n 1
