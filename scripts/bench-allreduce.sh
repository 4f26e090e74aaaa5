#!/usr/bin/env bash
# Our all-reduce algorithms against Open MPI's, as nccl-tests would. Each default launch times, in
# the same run and interleaved: ours (ring, halving-doubling, recursive doubling, auto),
# MPI_Allreduce with Open MPI's default tuned rules ('mpi') and Open MPI's ring called directly
# ('mpi-ring', the algorithm --mca coll_tuned_allreduce_algorithm 4 selects). Ratios are taken
# within each run and the table keeps their median over REPEATS launches (default 5). A second
# launch per repeat forces Open MPI's ring through MCA ('mpi-forced-ring') as a cross-check that
# the direct call is the same algorithm. Also fits the ring's cost model (alpha, beta, gamma).
#   [ITERS=40] [REPEATS=5] bash scripts/bench-allreduce.sh [RANKS] [OUTDIR] [extra bench-allreduce options]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
NP="${1:-2}"; OUT="${2:-runs/bench-allreduce-np$NP}"; shift $(( $# > 2 ? 2 : $# ))
mkdir -p "$OUT"
swift build -c release --product ringwatt >/dev/null
BIN=.build/release/ringwatt
for rep in $(seq 1 "${REPEATS:-5}"); do
  mpirun --oversubscribe -np "$NP" "$BIN" bench-allreduce --iters "${ITERS:-40}" --csv "$OUT/default-$rep.csv" \
    --fit "$OUT/fit-$rep.json" "$@" > "$OUT/default-$rep.txt"
  mpirun --oversubscribe -np "$NP" --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4 \
    "$BIN" bench-allreduce --iters "${ITERS:-40}" --algorithms mpi,mpi-ring --csv "$OUT/forced-$rep.csv" "$@" > "$OUT/forced-$rep.txt"
done
cp "$OUT/fit-1.json" "$OUT/fit.json"
python3 - "$OUT" <<'PY'
import csv, glob, statistics, sys
from collections import defaultdict
out = sys.argv[1]
# run key -> {(algorithm, bytes): time_us}
runs = defaultdict(dict)
for f in sorted(glob.glob(f"{out}/default-*.csv") + glob.glob(f"{out}/forced-*.csv")):
    for r in csv.DictReader(open(f)):
        runs[f][(r["algorithm"], int(r["bytes"]))] = float(r["time_us"])
        ranks = r["ranks"]
times = defaultdict(list)
for run in runs.values():
    for k, v in run.items(): times[k].append(v)
t = {k: statistics.median(v) for k, v in times.items()}
def ratio(a, b, n):
    """busbw(a)/busbw(b) = time(b)/time(a) within each run holding both; the median over those runs."""
    rs = [run[(b, n)] / run[(a, n)] for run in runs.values() if (a, n) in run and (b, n) in run]
    return f"{statistics.median(rs):.2f}" if rs else "-"
def tt(a, n):
    return f"{t[(a, n)]:.1f}" if (a, n) in t else "-"
sizes = sorted({n for (_, n) in t})
lines = [f"ranks {ranks}: time_us per call (median over launches); ratios are of busbw (> 1: ours faster), taken within each run, median over runs",
         "",
         "| bytes | ring | halving-doubling | recursive-doubling | auto | MPI default | MPI ring | ring / MPI default | ring / MPI ring | auto / MPI default | MPI forced ring (own launch) |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for n in sizes:
    lines.append(f"| {n} | {tt('ring', n)} | {tt('halving-doubling', n)} | {tt('recursive-doubling', n)} | {tt('auto', n)} | "
                 f"{tt('mpi', n)} | {tt('mpi-ring', n)} | {ratio('ring', 'mpi', n)} | {ratio('ring', 'mpi-ring', n)} | "
                 f"{ratio('auto', 'mpi', n)} | {tt('mpi-forced-ring', n)} |")
open(f"{out}/table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "fit: $(cat "$OUT/fit.json" | tr -d '\n ')"
