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
cd "$(dirname "$0")/../.."
source scripts/env.sh
NP="${1:-2}"; OUT="${2:-runs/bench-allreduce-np$NP}"; shift $(( $# > 2 ? 2 : $# ))
mkdir -p "$OUT"
swift build -c release --product ringwatt >/dev/null
BIN=.build/release/ringwatt
# Ranks pinned round-robin to cores (rank r on core r mod cores), also when there are more ranks
# than cores: unpinned oversubscribed ranks migrate, and whole launches then ran 1.5–2.5× slower
# at random. Open MPI binds this way by itself only up to one rank per core.
PIN=(--map-by core --bind-to core:overload-allowed)
for rep in $(seq 1 "${REPEATS:-5}"); do
  mpirun --oversubscribe -np "$NP" "${PIN[@]}" "$BIN" bench-allreduce --iters "${ITERS:-40}" --csv "$OUT/default-$rep.csv" \
    --fit "$OUT/fit-$rep.json" "$@" > "$OUT/default-$rep.txt"
  mpirun --oversubscribe -np "$NP" "${PIN[@]}" --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4 \
    "$BIN" bench-allreduce --iters "${ITERS:-40}" --algorithms mpi,mpi-ring --csv "$OUT/forced-$rep.csv" "$@" > "$OUT/forced-$rep.txt"
done
cp "$OUT/fit-1.json" "$OUT/fit.json"
python3 scripts/bench/bench_table.py "$OUT"
echo "fit: $(cat "$OUT/fit.json" | tr -d '\n ')"
