#!/usr/bin/env bash
# Ringwatt's BLAS against numpy's, on exactly the cblas_sgemm calls of one training step (the
# MLP's at batch 64, the GPT's at 8 x 128 tokens): `ringwatt bench-gemm` times each distinct call
# in the core Ringwatt chose; scripts/bench/baselines/gemm_calls.py times the same calls through the
# OpenBLAS of PyPI's numpy (.baselines-venv) and of the python3 on PATH. Rounds interleave the
# sides; per side the step's products are the sum over calls of count x seconds per call. Prints
# each side's BLAS core (threadpoolctl for numpy), medians, spreads and Ringwatt's ratio.
# Prints figures; asserts nothing.
#   bash scripts/bench-blas.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/bench/install-baselines.sh >/dev/null
source scripts/env.sh
swift build -c release --product ringwatt >/dev/null
ROUNDS="${1:-5}"
RW=.build/release/ringwatt
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sides=("pypi-numpy:$PWD/.baselines-venv/bin/python")
# The python3 on PATH too, where its numpy runs another library than the environment's.
describe() { (cd scripts/bench/baselines && "$1" -c 'import numpy, common; print(common.blas_description())' 2>/dev/null); }
path_py=$(command -v python3 || true)
if [ -n "$path_py" ] && [ "$(describe "$path_py")" != "$(describe "$PWD/.baselines-venv/bin/python")" ]; then sides+=("path-numpy:$path_py"); fi
total() { python3 -c "import json, sys; print(sum(json.loads(l)['seconds'] * json.loads(l)['count'] for l in sys.stdin if l.startswith('{')))"; }
grep -m1 "model name" /proc/cpuinfo | sed 's/^/# /'
echo "# ringwatt: BLAS $($RW doctor | sed -n 's/^blas *//p')"
for side in "${sides[@]}"; do
  name=${side%%:*} py=${side#*:}
  echo "# $name ($py): $(describe "$py")"
done
for model in mlp gpt; do
  $RW bench-gemm --model "$model" --list > "$tmp/$model.calls"
  for round in $(seq 1 "$ROUNDS"); do
    echo "$model $round ringwatt $($RW bench-gemm --model "$model" | total)" >> "$tmp/rows"
    for side in "${sides[@]}"; do
      name=${side%%:*} py=${side#*:}
      echo "$model $round $name $(cd scripts/bench/baselines && "$py" gemm_calls.py "$tmp/$model.calls" 2>/dev/null | total)" >> "$tmp/rows"
    done
  done
done
python3 - "$tmp/rows" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for model in ("mlp", "gpt"):
    get = lambda side: {r[1]: float(r[3]) for r in rows if r[0] == model and r[2] == side}
    ours = get("ringwatt")
    print(f"{model}: one step's products, ringwatt {statistics.median(ours.values()) * 1e3:.3f} ms "
          f"[{min(ours.values()) * 1e3:.3f}-{max(ours.values()) * 1e3:.3f}]")
    for side in sorted({r[2] for r in rows if r[2] != "ringwatt"}):
        theirs = get(side)
        ratios = [theirs[k] / ours[k] for k in ours if k in theirs and ours[k] > 0]
        print(f"     {side} {statistics.median(theirs.values()) * 1e3:.3f} ms; sgemm rate ringwatt / {side}: median "
              f"{statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}] over {len(ratios)} interleaved rounds")
PY
