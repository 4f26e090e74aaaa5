#!/usr/bin/env bash
# The main job on a fresh machine: install, build, train the default MLP on Fashion-MNIST on
# 4 ranks (oversubscribed where there are fewer cores), print the energy report, draw the plots.
#   bash scripts/demo.sh [extra ringwatt train options…]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
source scripts/env.sh
swift build -c release --product ringwatt
OUT="${OUT:-runs/demo}"
RANKS="${RANKS:-4}"
bash launch/local.sh "$RANKS" --epochs "${EPOCHS:-1}" --out "$OUT" --overwrite "$@"
python3 scripts/plot_run.py "$OUT"
