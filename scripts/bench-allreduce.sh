#!/usr/bin/env bash
# Our all-reduce algorithms against Open MPI's MPI_Allreduce, as nccl-tests would: one run with
# Open MPI's default tuned rules (ours and theirs in the same run), one with its ring forced
# (--mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4), merged into one
# table with busbw ratios. Also fits the ring's cost model (alpha, beta, gamma).
#   bash scripts/bench-allreduce.sh [RANKS] [OUTDIR] [extra bench-allreduce options]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
NP="${1:-2}"; OUT="${2:-runs/bench-allreduce-np$NP}"; shift $(( $# > 2 ? 2 : $# ))
mkdir -p "$OUT"
swift build -c release --product ringwatt >/dev/null
BIN=.build/release/ringwatt
mpirun --oversubscribe -np "$NP" "$BIN" bench-allreduce --iters "${ITERS:-40}" --csv "$OUT/default.csv" \
  --fit "$OUT/fit.json" "$@" > "$OUT/default.txt"
mpirun --oversubscribe -np "$NP" --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4 \
  "$BIN" bench-allreduce --iters "${ITERS:-40}" --algorithms mpi --csv "$OUT/mpi-ring.csv" "$@" > "$OUT/mpi-ring.txt"
python3 - "$OUT" <<'PY'
import csv, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/default.csv"))) + list(csv.DictReader(open(f"{out}/mpi-ring.csv")))
bw = {(r["algorithm"], int(r["bytes"])): float(r["busbw_GBps"]) for r in rows}
t = {(r["algorithm"], int(r["bytes"])): float(r["time_us"]) for r in rows}
sizes = sorted({int(r["bytes"]) for r in rows})
ranks = rows[0]["ranks"]
lines = [f"ranks {ranks}: time_us per algorithm; ratios are of busbw (> 1: ours faster)", "",
         "| bytes | ring | halving-doubling | recursive-doubling | auto | MPI default | MPI ring | ring / MPI default | ring / MPI ring | auto / MPI default |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
def ratio(a, b, n):
    return f"{bw[(a, n)] / bw[(b, n)]:.2f}" if bw.get((b, n)) else "-"
def tt(a, n):
    return f"{t[(a, n)]:.1f}" if (a, n) in t else "-"
for n in sizes:
    lines.append(f"| {n} | {tt('ring', n)} | {tt('halving-doubling', n)} | {tt('recursive-doubling', n)} | {tt('auto', n)} | "
                 f"{tt('mpi', n)} | {tt('mpi-ring', n)} | {ratio('ring', 'mpi', n)} | {ratio('ring', 'mpi-ring', n)} | {ratio('auto', 'mpi', n)} |")
open(f"{out}/table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "fit: $(cat "$OUT/fit.json" | tr -d '\n ')"
