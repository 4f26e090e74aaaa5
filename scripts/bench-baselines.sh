#!/usr/bin/env bash
# Ringwatt against the trainers users would otherwise pick, interleaved on this machine with the
# same model (784-256-128-10), data (Fashion-MNIST), per-rank batch and mpirun -np N:
# PyTorch DDP (gloo, CPU, 1 thread per rank) and numpy + mpi4py. One epoch each, samples/s with
# data loading and evaluation excluded. Prints figures; asserts nothing.
#   bash scripts/bench-baselines.sh [ROUNDS] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-baselines.sh >/dev/null
source scripts/env.sh
swift build -c release --product ringwatt >/dev/null
ROUNDS="${1:-3}"; BATCH="${2:-64}"
PY=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf "%-6s %-3s %-14s %s\n" round np trainer samples_per_s
for round in $(seq 1 "$ROUNDS"); do
  for np in 1 2 4; do
    rw=$(mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS .build/release/ringwatt train --epochs 1 \
          --batch-size "$BATCH" --out "$tmp/rw" --overwrite | awk '/^throughput/ {print $2}')
    printf "%-6s %-3s %-14s %s\n" "$round" "$np" ringwatt "$rw"
    nm=$(cd scripts/baselines && mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS $PY numpy_mpi4py.py "$BATCH" \
          | sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p')
    printf "%-6s %-3s %-14s %s\n" "$round" "$np" numpy+mpi4py "$nm"
    tc=$(cd scripts/baselines && mpirun --oversubscribe -np "$np" -x OPENBLAS_NUM_THREADS $PY torch_ddp.py "$BATCH" 2>/dev/null \
          | sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p')
    printf "%-6s %-3s %-14s %s\n" "$round" "$np" torch-ddp "$tc"
  done
done
