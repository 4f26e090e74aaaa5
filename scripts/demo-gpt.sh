#!/usr/bin/env bash
# The language model in one command: scripts/demo.sh with the default GPT (L 4, C 256, H 4, T 128)
# on Debian's fortunes for a few minutes (600 steps of 8 × 128 tokens per rank, one rank per core):
# the report with joules per token, and runs/demo-gpt/energy.png.
#   [RANKS=N] [STEPS=S] bash scripts/demo-gpt.sh [extra ringwatt train options…]
set -euo pipefail
OUT="${OUT:-runs/demo-gpt}" exec bash "$(dirname "$0")/demo.sh" --model gpt --steps "${STEPS:-600}" "$@"
