#!/usr/bin/env bash
# The language model in one command: scripts/demo.sh with the default GPT (L 4, C 256, H 4, T 128)
# on Debian's fortunes for a few minutes (600 steps of 8 × 128 tokens per rank, one rank per core):
# the report with joules per token, runs/demo-gpt/energy.png, and a short sample of what it writes.
#   [RANKS=N] [STEPS=S] bash scripts/demo-gpt.sh [extra ringwatt train options…]
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-runs/demo-gpt}"
OUT="$OUT" bash "$HERE/scripts/demo.sh" --model gpt --steps "${STEPS:-600}" "$@"
echo
echo "What it writes (ringwatt sample $OUT --length 300):"
"${RINGWATT_BIN:-$HERE/.build/release/ringwatt}" sample "$OUT" --length 300
