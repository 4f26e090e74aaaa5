#!/usr/bin/env bash
# The scale-out study in one command: sweep the emulated cluster (1, 2, 4 hosts at 1 Gbit/s, one
# rank each), fit the ring's cost model there, compare the runs, predict 1…1024 nodes, and plot.
#   bash scripts/scaling-study.sh [OUT] [extra train options…]       (root: network namespaces)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-runs/scaling}"; shift || true
bash "$HERE/scripts/install-deps.sh" >&2
source "$HERE/scripts/env.sh"
(cd "$HERE" && swift build -c release --product ringwatt >&2)
BIN="$HERE/.build/release/ringwatt"
GBIT="${LINK_GBIT:-1}"
# Train with the ring, the algorithm the model describes.
bash "$HERE/scripts/sweep.sh" --mode emulated --nodes "1 2 4" --link-gbit "$GBIT" --out "$OUT" -- --algorithm ring "$@"
# α, β, γ on the same emulated links (2 hosts).
RINGWATT_SUBCOMMAND=bench-allreduce bash "$HERE/launch/emucluster.sh" run 2 1 --link-gbit "$GBIT" -- \
  --algorithms ring --min-bytes 4096 --max-bytes 4194304 --factor 4 --iters 10 --fit "$OUT/fit.json" > "$OUT/bench-allreduce.txt"
"$BIN" compare "$OUT"/n1 "$OUT"/n2 "$OUT"/n4 --csv "$OUT/compare.csv" | tee "$OUT/compare.txt"
# The emulated hosts share this machine's cores, and ranks there wait sleeping (emucluster.sh).
"$BIN" predict --calibration "$OUT/n1" --fit "$OUT/fit.json" --shared-cores "$(nproc)" --comm-power idle \
  --measured "$OUT/n1" --measured "$OUT/n2" --measured "$OUT/n4" --csv "$OUT/predict.csv" --errors "$OUT/predict-errors.json" \
  | tee "$OUT/predict.txt"
python3 "$HERE/scripts/plot_scaling.py" "$OUT"
