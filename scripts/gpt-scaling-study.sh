#!/usr/bin/env bash
# Energy versus nodes for the GPT (L 4, C 256, H 4, T 128; 8 × 128 tokens per rank — weak scaling)
# on the emulated cluster: 1, 2, 4 hosts (one rank each) at 1 and 10 Gbit/s, the ring with one
# bucket and no overlap (the configuration the cost model describes), plus the same at 4 hosts with
# overlap on and with a bf16 wire. At each link rate: the ring's α, β, γ fitted on 2 hosts, and
# `predict` from the 1-host run, with its error at every measured point. Then the plot.
#   bash scripts/gpt-scaling-study.sh [OUT] [STEPS]            (root: network namespaces)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-runs/gpt-scaling}"; STEPS="${2:-30}"
bash "$HERE/scripts/install-deps.sh" >&2
source "$HERE/scripts/env.sh"
(cd "$HERE" && swift build -c release --product ringwatt >&2)
BIN="$HERE/.build/release/ringwatt"
mkdir -p "$OUT"
train() {  # HOSTS GBIT DIR [options…]
  local hosts="$1" gbit="$2" dir="$3"; shift 3
  echo "gpt-scaling: $hosts host(s) at $gbit Gbit/s → $dir" >&2
  bash "$HERE/launch/emucluster.sh" run "$hosts" 1 --link-gbit "$gbit" -- --model gpt --steps "$STEPS" --eval-windows 32 \
    --algorithm ring --out "$dir" --overwrite --quiet "$@" >&2
}
for gbit in 1 10; do
  for hosts in 1 2 4; do train "$hosts" "$gbit" "$OUT/g$gbit/n$hosts" --overlap off --bucket-mb 100; done
  train 4 "$gbit" "$OUT/g$gbit/n4-overlap" --overlap on
  train 4 "$gbit" "$OUT/g$gbit/n4-bf16" --overlap off --bucket-mb 100 --wire-dtype bf16
  RINGWATT_SUBCOMMAND=bench-allreduce bash "$HERE/launch/emucluster.sh" run 2 1 --link-gbit "$gbit" -- \
    --algorithms ring --min-bytes 65536 --max-bytes 16777216 --factor 4 --iters 5 --fit "$OUT/g$gbit/fit.json" \
    > "$OUT/g$gbit/bench-allreduce.txt"
  "$BIN" compare "$OUT/g$gbit"/n1 "$OUT/g$gbit"/n2 "$OUT/g$gbit"/n4 --csv "$OUT/g$gbit/compare.csv" > "$OUT/g$gbit/compare.txt"
  "$BIN" predict --calibration "$OUT/g$gbit/n1" --fit "$OUT/g$gbit/fit.json" --shared-cores "$(nproc)" --comm-power idle \
    --max-nodes 64 --measured "$OUT/g$gbit/n1" --measured "$OUT/g$gbit/n2" --measured "$OUT/g$gbit/n4" \
    --csv "$OUT/g$gbit/predict.csv" --errors "$OUT/g$gbit/predict-errors.json" | tee "$OUT/g$gbit/predict.txt"
done
python3 "$HERE/scripts/plot_gpt_scaling.py" "$OUT"
