#!/usr/bin/env bash
# What the BLAS core choice buys on this machine: bench-step with the library's own core
# (RINGWATT_BLAS_UPGRADE=off) and with the core Ringwatt chose, interleaved round by round, for
# the MLP (batch 64) and the GPT (8 x 128 tokens); prints each round's step times and the median
# ratio. On a CPU whose library already uses its widest vectors both sides run the same core.
# Prints figures; asserts nothing.
#   bash scripts/bench/bench-blas-choice.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
swift build -c release --product ringwatt >/dev/null
ROUNDS="${1:-3}"; B=.build/release/ringwatt
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
step() { sed -n 's/^training step *\([0-9.]*\) ms.*/\1/p'; }
grep -m1 "model name" /proc/cpuinfo | sed 's/^/# /'
for round in $(seq 1 "$ROUNDS"); do
  for model in mlp gpt; do
    args=(--batch-size 64 --rounds 3 --steps 100); [ "$model" = gpt ] && args=(--model gpt --rounds 2 --steps 2)
    lib=$(RINGWATT_BLAS_UPGRADE=off $B bench-step "${args[@]}" --sample-hz 0 | tee "$tmp/lib" | step)
    chosen=$($B bench-step "${args[@]}" --sample-hz 0 | tee "$tmp/chosen" | step)
    echo "$model $round $lib $chosen $(sed -n 2p "$tmp/lib" | sed 's/.*; BLAS //; s/, [0-9]* thread.*//') -> $(sed -n 2p "$tmp/chosen" | sed 's/.*; BLAS //; s/, [0-9]* thread.*//')" | tee -a "$tmp/rows"
  done
done
python3 - "$tmp/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for model in ("mlp", "gpt"):
    r = [float(x[2]) / float(x[3]) for x in rows if x[0] == model]
    print(f"{model}: step with the library's core / with the chosen core: median {statistics.median(r):.2f}x [{min(r):.2f}-{max(r):.2f}] over {len(r)} rounds")
PY
