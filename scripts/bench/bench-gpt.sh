#!/usr/bin/env bash
# Ringwatt's GPT against the same model in PyTorch (scripts/bench/baselines/torch_gpt.py: DDP, gloo, CPU,
# one thread per rank) — PyPI's current torch and Debian's 1.13 — interleaved round by round on this
# machine: same architecture, optimizer, batches (8 × 128 tokens per rank) and steps, launched by
# mpirun -np 1 and 2 (one rank per core).
# Tokens/s over the training steps, evaluation excluded, data loading included on both sides.
# Prints each side's BLAS first (Ringwatt's core; torch's BLAS build and the kernels threadpoolctl
# sees), then every round, then the medians, spreads and ratios. Asserts nothing.
#   [SIZE=standard|small] bash scripts/bench/bench-gpt.sh [ROUNDS] [STEPS]
# SIZE=small: L 6, C 384, H 6, T 256 (8 × 256 tokens per rank) on both sides.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/bench/install-baselines.sh --pypi-torch >/dev/null
source scripts/env.sh
swift build -c release --product ringwatt >/dev/null
ROUNDS="${1:-5}"; STEPS="${2:-40}"
case "${SIZE:-standard}" in
  standard) RW_SIZE=(); TORCH_SIZE=();;
  small) RW_SIZE=(--size small); TORCH_SIZE=(--layers 6 --channels 384 --heads 6 --context 256);;
  *) echo "bench-gpt: SIZE must be standard or small" >&2; exit 2;;
esac
echo "# size ${SIZE:-standard}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
grep -m1 "model name" /proc/cpuinfo | sed 's/^/# /'
echo "# ringwatt: BLAS $(.build/release/ringwatt doctor --workload gpt | sed -n 's/^blas *//p')"
for py in "$PWD/.baselines-venv/bin/python" /usr/bin/python3; do
  echo "# torch ($py): $(cd scripts/bench/baselines && "$py" -c 'import torch, common; print(torch.__version__, common.blas_description(), "|", common.torch_blas(torch))' 2>/dev/null || echo absent)"
done
echo "round np trainer tokens_per_s"
for round in $(seq 1 "$ROUNDS"); do
  for np in 1 2; do
    mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS .build/release/ringwatt train --model gpt "${RW_SIZE[@]}" --steps "$STEPS" \
      --eval-windows 8 --out "$tmp/rw" --overwrite --quiet >/dev/null
    rw=$(python3 scripts/bench/baselines/common.py throughput "$tmp/rw/summary.json")
    echo "$round $np ringwatt $rw"
    for py in "$PWD/.baselines-venv/bin/python" /usr/bin/python3; do
      name=$([ "$py" = /usr/bin/python3 ] && echo torch-debian || echo torch-pypi)
      # A fresh rendezvous port per launch: gloo's last one may still be in TIME_WAIT.
      tc=$(cd scripts/bench/baselines && MASTER_PORT=$((20000 + RANDOM % 20000)) mpirun --oversubscribe -np "$np" \
            -x OPENBLAS_NUM_THREADS -x MASTER_PORT "$py" torch_gpt.py "${TORCH_SIZE[@]}" --steps "$STEPS" --eval-windows 8 2>/dev/null \
            | sed -n 's/.*tokens_per_s=\([0-9]*\).*/\1/p' || true)
      [ -n "$tc" ] || { echo "bench-gpt: $name at np $np failed in round $round" >&2; continue; }
      echo "$round $np $name $tc"
    done
  done
done | tee "$tmp/rows"
python3 - "$tmp/rows" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line[0].isdigit()]
for np_ in ("1", "2"):
    get = lambda t: [float(r[3]) for r in rows if r[1] == np_ and r[2] == t]
    rw = get("ringwatt")
    print(f"np {np_}: ringwatt {statistics.median(rw):.0f} tokens/s ({min(rw):.0f}-{max(rw):.0f})")
    for name in ("torch-pypi", "torch-debian"):
        tc = get(name)
        rounds = {r[0] for r in rows if r[1] == np_ and r[2] == name}
        pairs = [(float(a[3]), float(b[3])) for a in rows for b in rows if a[0] == b[0] and a[0] in rounds
                 and a[1] == b[1] == np_ and a[2] == "ringwatt" and b[2] == name]
        ratios = [a / b for a, b in pairs]
        print(f"       {name} {statistics.median(tc):.0f} ({min(tc):.0f}-{max(tc):.0f}); ringwatt/{name} median "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) over {len(ratios)} interleaved rounds")
PY
