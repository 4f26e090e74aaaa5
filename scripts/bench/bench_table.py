#!/usr/bin/env python3
"""The all-reduce table of scripts/bench-allreduce.sh, from the CSV files a run of it left:
    python3 scripts/bench/bench_table.py runs/bench-allreduce-np2
Writes OUTDIR/table.md and prints it."""
import csv, glob, statistics, sys
from collections import defaultdict
out = sys.argv[1]
# run key -> {(algorithm, bytes): time_us}
runs = defaultdict(dict)
for f in sorted(glob.glob(f"{out}/default-*.csv") + glob.glob(f"{out}/forced-*.csv")):
    for r in csv.DictReader(open(f)):
        runs[f][(r["algorithm"], int(r["bytes"]))] = float(r["time_us"])
        ranks = r["ranks"]
# Time columns: each algorithm's median over the default launches. The forced launches serve the
# cross-check only: within each, Open MPI's ring forced through MCA against the same ring called
# directly (≈ 1.00 if the direct call is the algorithm MCA selects).
times = defaultdict(list)
for f, run in runs.items():
    if "/forced-" in f: continue
    for k, v in run.items(): times[k].append(v)
t = {k: statistics.median(v) for k, v in times.items()}
def ratio(a, b, n):
    """busbw(a)/busbw(b) = time(b)/time(a) within each run holding both: the median over those
    runs, and [lowest–highest] when there is more than one."""
    rs = [run[(b, n)] / run[(a, n)] for run in runs.values() if (a, n) in run and (b, n) in run]
    if not rs: return "-"
    spread = f" [{min(rs):.2f}–{max(rs):.2f}]" if len(rs) > 1 else ""
    return f"{statistics.median(rs):.2f}{spread}"
def tt(a, n):
    return f"{t[(a, n)]:.1f}" if (a, n) in t else "-"
sizes = sorted({n for (_, n) in t})
lines = [f"ranks {ranks}: time_us per call (median over launches); ratios are of busbw (> 1: ours faster), taken within each run: median [lowest–highest] over runs",
         "",
         "| bytes | ring | halving-doubling | recursive-doubling | auto | MPI default | MPI ring | ring / MPI default | ring / MPI ring | auto / MPI default | MCA-forced ring / MPI ring (own launch) |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for n in sizes:
    lines.append(f"| {n} | {tt('ring', n)} | {tt('halving-doubling', n)} | {tt('recursive-doubling', n)} | {tt('auto', n)} | "
                 f"{tt('mpi', n)} | {tt('mpi-ring', n)} | {ratio('ring', 'mpi', n)} | {ratio('ring', 'mpi-ring', n)} | "
                 f"{ratio('auto', 'mpi', n)} | {ratio('mpi-ring', 'mpi-forced-ring', n)} |")
open(f"{out}/table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
