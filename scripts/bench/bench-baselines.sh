#!/usr/bin/env bash
# Ringwatt against the trainers users would otherwise pick, interleaved on this machine with the
# same model (784-256-128-10), data (Fashion-MNIST), per-rank batch, optimizer (SGD, momentum 0.9,
# constant learning rate 0.05, no weight decay) and mpirun -np N: numpy + mpi4py from Debian (the
# system OpenBLAS, as Ringwatt's library before its core choice) and from PyPI (numpy's own
# OpenBLAS, in .baselines-venv), PyTorch DDP
# (gloo, CPU, one thread per rank) from Debian and, when scripts/bench/install-baselines.sh --pypi-torch
# has made .baselines-venv, from PyPI. One epoch each; samples/s over the training loop with the
# batch gathering included and evaluation excluded (for Ringwatt: samples over the loop's phases
# less eval and checkpoint, from summary.json). Rounds interleave every trainer and rank count;
# the table gives each one's median and spread (min–max) and Ringwatt's ratio of medians. Last, the
# ceiling at one rank: numpy's whole step over its eight matrix products alone, timed interleaved
# in one process (baselines/gemm_ceiling.py) — no trainer calling this BLAS for those products
# can be further ahead of numpy than that. Every side's BLAS library and kernel set is printed
# first, so a comparison across different kernels cannot pass unnoticed.
# Prints figures; asserts nothing.
#   bash scripts/bench-baselines.sh [ROUNDS] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/bench/install-baselines.sh >/dev/null
source scripts/env.sh
swift build -c release --product ringwatt >/dev/null
ROUNDS="${1:-5}"; BATCH="${2:-64}"
PY=/usr/bin/python3
VENV_PY="$PWD/.baselines-venv/bin/python"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rows="$tmp/rows.tsv"
echo "model 784-256-128-10, batch $BATCH per rank, SGD momentum 0.9, lr 0.05 constant, no weight decay; $ROUNDS rounds"
grep -m1 "model name" /proc/cpuinfo | sed 's/^/# /'
echo "# ringwatt: BLAS $(.build/release/ringwatt doctor | sed -n 's/^blas *//p')"
for py in $PY "$VENV_PY"; do
  echo "# numpy ($py): $(cd scripts/bench/baselines && "$py" -c 'import numpy, common; print(common.blas_description())')"
  echo "# torch ($py): $(cd scripts/bench/baselines && "$py" -c 'import torch, common; print(common.blas_description(), "|", common.torch_blas(torch))' 2>/dev/null || echo absent)"
done
for round in $(seq 1 "$ROUNDS"); do
  for np in 1 2 4; do
    mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS .build/release/ringwatt train --epochs 1 --quiet \
      --batch-size "$BATCH" --lr 0.05 --momentum 0.9 --weight-decay 0 --schedule constant --warmup-steps 0 --idle-seconds 0 \
      --out "$tmp/rw" --overwrite >/dev/null
    rw=$($PY scripts/bench/baselines/common.py throughput "$tmp/rw/summary.json")
    printf "%s\t%s\t%s\t%s\n" "$round" "$np" ringwatt "$rw" | tee -a "$rows"
    nm=$(cd scripts/bench/baselines && mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS $PY numpy_mpi4py.py "$BATCH" \
          | sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p')
    printf "%s\t%s\t%s\t%s\n" "$round" "$np" numpy+mpi4py "$nm" | tee -a "$rows"
    nv=$(cd scripts/bench/baselines && mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS "$VENV_PY" numpy_mpi4py.py "$BATCH" \
          | sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p')
    printf "%s\t%s\t%s\t%s\n" "$round" "$np" numpy+mpi4py-pypi "$nv" | tee -a "$rows"
    # A fresh rendezvous port per run (a port still held from the previous run fails gloo's init);
    # a run that fails leaves its cell empty and is reported, rather than ending the benchmark.
    tc=$(cd scripts/bench/baselines && mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS -x MASTER_PORT=$((20000 + RANDOM % 20000)) \
          $PY torch_ddp.py "$BATCH" 2>"$tmp/err" | sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p') || true
    [ -n "$tc" ] || echo "torch-ddp-debian np $np failed: $(tail -1 "$tmp/err")" >&2
    printf "%s\t%s\t%s\t%s\n" "$round" "$np" torch-ddp-debian "$tc" | tee -a "$rows"
    if [ -x "$VENV_PY" ]; then
      tp=$(cd scripts/bench/baselines && mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS -x MASTER_PORT=$((20000 + RANDOM % 20000)) \
            "$VENV_PY" torch_ddp.py "$BATCH" 2>"$tmp/err" | sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p') || true
      [ -n "$tp" ] || echo "torch-ddp-pypi np $np failed: $(tail -1 "$tmp/err")" >&2
      printf "%s\t%s\t%s\t%s\n" "$round" "$np" torch-ddp-pypi "$tp" | tee -a "$rows"
    fi
  done
done
$PY - "$rows" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    _, np_, trainer, value = line.split("\t")
    if value.strip():
        runs[(int(np_), trainer)].append(float(value))
print(f"\n{'np':>3} {'trainer':<17} {'median samples/s':>17} {'min–max':>16} {'Ringwatt ×':>11}")
for np_ in sorted({k[0] for k in runs}):
    ours = statistics.median(runs[(np_, "ringwatt")])
    for (n, trainer), values in sorted(runs.items(), key=lambda kv: (kv[0][0], kv[0][1] != "ringwatt", kv[0][1])):
        if n != np_:
            continue
        m = statistics.median(values)
        ratio = "" if trainer == "ringwatt" else f"{ours / m:.2f}"
        print(f"{np_:>3} {trainer:<17} {m:>17.0f} {min(values):>7.0f}–{max(values):<8.0f} {ratio:>11}")
PY
for py in $PY "$VENV_PY"; do echo "ceiling with $py:"; (cd scripts/bench/baselines && "$py" gemm_ceiling.py "$BATCH"); done
