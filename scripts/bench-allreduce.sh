#!/usr/bin/env bash
# Our all-reduce algorithms against Open MPI's MPI_Allreduce, as nccl-tests would: one run with
# Open MPI's default tuned rules (ours and theirs in the same run), one with its ring forced
# (--mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4), merged into one
# table with busbw ratios. The two launches alternate REPEATS times (default 3) and each size keeps
# the median, since the forced ring cannot share a run with the rest. Also fits the ring's cost
# model (alpha, beta, gamma).
#   [ITERS=40] [REPEATS=3] bash scripts/bench-allreduce.sh [RANKS] [OUTDIR] [extra bench-allreduce options]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
NP="${1:-2}"; OUT="${2:-runs/bench-allreduce-np$NP}"; shift $(( $# > 2 ? 2 : $# ))
mkdir -p "$OUT"
swift build -c release --product ringwatt >/dev/null
BIN=.build/release/ringwatt
for rep in $(seq 1 "${REPEATS:-3}"); do
  mpirun --oversubscribe -np "$NP" "$BIN" bench-allreduce --iters "${ITERS:-40}" --csv "$OUT/default-$rep.csv" \
    --fit "$OUT/fit-$rep.json" "$@" > "$OUT/default-$rep.txt"
  mpirun --oversubscribe -np "$NP" --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4 \
    "$BIN" bench-allreduce --iters "${ITERS:-40}" --algorithms mpi --csv "$OUT/mpi-ring-$rep.csv" "$@" > "$OUT/mpi-ring-$rep.txt"
done
cp "$OUT/fit-1.json" "$OUT/fit.json"
python3 - "$OUT" <<'PY'
import csv, glob, statistics, sys
from collections import defaultdict
out = sys.argv[1]
rows = [r for f in sorted(glob.glob(f"{out}/default-*.csv") + glob.glob(f"{out}/mpi-ring-*.csv")) for r in csv.DictReader(open(f))]
times = defaultdict(list)
for r in rows:
    times[(r["algorithm"], int(r["bytes"]))].append(float(r["time_us"]))
t = {k: statistics.median(v) for k, v in times.items()}
p = int(rows[0]["ranks"])
bw = {k: (k[1] / (v * 1e-6) / 1e9) * (2 * (p - 1) / p) for k, v in t.items()}
sizes = sorted({int(r["bytes"]) for r in rows})
ranks = rows[0]["ranks"]
lines = [f"ranks {ranks}: time_us per algorithm (median of the repeats); ratios are of busbw (> 1: ours faster)", "",
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
