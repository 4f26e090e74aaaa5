#!/usr/bin/env bash
# The language model in one command: install, build, train the default GPT (L 4, C 256, H 4, T 128)
# on Debian's fortunes on one rank per core for a few minutes (600 steps of 8 × 128 tokens per
# rank), print the report with joules per token, draw runs/demo-gpt/energy.png.
#   [RANKS=N] [STEPS=S] bash scripts/demo-gpt.sh [extra ringwatt train options…]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
source scripts/env.sh
swift build -c release --product ringwatt
OUT="${OUT:-runs/demo-gpt}"
RANKS="${RANKS:-$(ringwatt_default_ranks)}"
bash launch/local.sh "$RANKS" --model gpt --steps "${STEPS:-600}" --out "$OUT" --overwrite "$@"
python3 scripts/plot_run.py "$OUT"
