#!/usr/bin/env bash
# Does Ringwatt's GPT learn like PyTorch's? The same model, optimizer, schedule and batches
# (2 ranks × 8 × 128 tokens, STEPS steps, Debian's fortunes) in Ringwatt and in PyTorch from PyPI
# (scripts/bench/baselines/torch_gpt.py), then the validation loss of each on the same validation
# windows (all of them: --eval-windows 1986). Prints both and the difference. Asserts nothing.
#   bash scripts/compare-gpt-learning.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/bench/install-baselines.sh --pypi-torch >/dev/null
source scripts/env.sh
swift build -c release --product ringwatt >/dev/null
STEPS="${1:-600}"; WINDOWS=1986
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
mpirun --oversubscribe -np 2 -x OPENBLAS_NUM_THREADS .build/release/ringwatt train --model gpt --steps "$STEPS" \
  --eval-windows "$WINDOWS" --out "$out/rw" --quiet
rw=$(python3 -c "import json; s = json.load(open('$out/rw/summary.json')); print(s['test_loss'])")
tc=$(cd scripts/bench/baselines && MASTER_PORT=$((20000 + RANDOM % 20000)) mpirun --oversubscribe -np 2 -x OPENBLAS_NUM_THREADS \
      -x MASTER_PORT "$PWD/../../../.baselines-venv/bin/python" torch_gpt.py --steps "$STEPS" --eval-windows "$WINDOWS" \
      | tee /dev/stderr | sed -n 's/.*val_loss=\([0-9.]*\).*/\1/p')
python3 -c "
import math; rw, tc = $rw, $tc
print(f'after $STEPS steps at 2 ranks: ringwatt val loss {rw:.4f} nats ({rw / math.log(2):.3f} bits/byte), '
      f'pytorch {tc:.4f} ({tc / math.log(2):.3f}); difference {rw - tc:+.4f} nats')"
