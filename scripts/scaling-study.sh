#!/usr/bin/env bash
# The scale-out study in one command, for either workload: at each link rate, sweep the emulated
# cluster (1, 2, 4 hosts, one rank each) through sweep.sh, fit the ring's cost model on 2 hosts
# there (bench-allreduce --fit), compare the runs, predict 1…N nodes with the error on every
# measured point, then plot (scripts/plot_scaling.py).
#   MODEL=mlp bash scripts/scaling-study.sh [OUT] [extra train options…]            (root)
#   MODEL=gpt STEPS=30 bash scripts/scaling-study.sh [OUT] [extra train options…]
# mlp (default): one epoch of the default MLP on Fashion-MNIST, batch 64 per rank, LINKS="1".
# gpt: STEPS steps of the default GPT, 8 × 128 tokens per rank, LINKS="1 10"; one bucket and no
#      overlap (what the cost model describes), plus at 4 hosts overlap on and a bf16 wire.
# Both train with the ring, the algorithm the model describes. Results in OUT/gG/.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
MODEL="${MODEL:-mlp}"
OUT="${1:-runs/scaling-$MODEL}"; shift || true
bash "$HERE/scripts/install-deps.sh" >&2
source "$HERE/scripts/env.sh"
(cd "$HERE" && swift build -c release --product ringwatt >&2)
BIN="$HERE/.build/release/ringwatt"
case "$MODEL" in
  mlp) LINKS="${LINKS:-1}"; BATCH=64; MAXN=1024
       TRAIN=(--algorithm ring); FIT=(--min-bytes 4096 --max-bytes 4194304 --iters 10);;
  gpt) LINKS="${LINKS:-1 10}"; BATCH=8; MAXN=64
       TRAIN=(--model gpt --steps "${STEPS:-30}" --eval-windows 32 --algorithm ring); FIT=(--min-bytes 65536 --max-bytes 16777216 --iters 5);;
  *) echo "scaling-study: MODEL must be mlp or gpt" >&2; exit 2;;
esac
for gbit in $LINKS; do
  dir="$OUT/g$gbit"
  if [ "$MODEL" = gpt ]; then
    bash "$HERE/scripts/sweep.sh" --mode emulated --nodes "1 2 4" --link-gbit "$gbit" --batch-size "$BATCH" --out "$dir" -- \
      "${TRAIN[@]}" --overlap off --bucket-mb 100 "$@"
    for variant in "overlap:--overlap on" "bf16:--overlap off --bucket-mb 100 --wire-dtype bf16"; do
      bash "$HERE/launch/emucluster.sh" run 4 1 --link-gbit "$gbit" -- --batch-size "$BATCH" "${TRAIN[@]}" ${variant#*:} \
        --out "$dir/n4-${variant%%:*}" --overwrite --quiet "$@" >&2
    done
  else
    bash "$HERE/scripts/sweep.sh" --mode emulated --nodes "1 2 4" --link-gbit "$gbit" --batch-size "$BATCH" --out "$dir" -- \
      "${TRAIN[@]}" "$@"
  fi
  RINGWATT_SUBCOMMAND=bench-allreduce bash "$HERE/launch/emucluster.sh" run 2 1 --link-gbit "$gbit" -- \
    --algorithms ring "${FIT[@]}" --factor 4 --fit "$dir/fit.json" > "$dir/bench-allreduce.txt"
  "$BIN" compare "$dir"/n1 "$dir"/n2 "$dir"/n4 --csv "$dir/compare.csv" | tee "$dir/compare.txt"
  # The emulated hosts share this machine's cores; a rank communicating keeps the share of a core the fit measured busy.
  "$BIN" predict --calibration "$dir/n1" --fit "$dir/fit.json" --shared-cores "$(nproc)" --comm-power measured --max-nodes "$MAXN" \
    --measured "$dir/n1" --measured "$dir/n2" --measured "$dir/n4" --csv "$dir/predict.csv" --errors "$dir/predict-errors.json" \
    | tee "$dir/predict.txt"
  # The sweep on one page, predictions beside the measurements.
  "$BIN" compare "$dir"/n1 "$dir"/n2 "$dir"/n4 --html "$dir/report.html" --predictions "$dir/predict-errors.json" | tail -n 1
done
python3 "$HERE/scripts/plot_scaling.py" "$OUT"
