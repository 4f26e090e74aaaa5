#!/usr/bin/env bash
# Overlap on against off in the default training run (the demo's: Fashion-MNIST, 1 epoch, one rank
# per core unless RANKS is given), interleaved REPEATS times so machine noise hits both alike. Prints each run's exposed
# communication, total communication, compute and wall time, the medians, and checks that every
# run ends with the same weights (exit 1 if not). Extra options go to `ringwatt train`.
#   [REPEATS=5] bash scripts/overlap-study.sh [RANKS] [OUTDIR] [extra train options…]
#   e.g. bash scripts/overlap-study.sh 4 runs/overlap-np4   (4 ranks, oversubscribed on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
NP="${1:-$(ringwatt_default_ranks)}"; OUT="${2:-runs/overlap-np$NP}"; shift $(( $# > 2 ? 2 : $# ))
mkdir -p "$OUT"
swift build -c release --product ringwatt >/dev/null
for rep in $(seq 1 "${REPEATS:-5}"); do
  for mode in on off; do
    RINGWATT_TTY=0 bash launch/local.sh "$NP" --epochs "${EPOCHS:-1}" --overlap "$mode" --quiet \
      --out "$OUT/$mode-$rep" --overwrite "$@" >/dev/null
  done
done
python3 - "$OUT" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
rows = {"on": [], "off": []}
for d in sorted(glob.glob(f"{out}/o*-*")):
    mode = os.path.basename(d).split("-")[0]
    s = json.load(open(f"{d}/summary.json"))
    rows[mode].append((s["comm_exposed_s"], s["comm_s"], s["seconds_by_phase"]["compute"], s["wall_seconds"],
                       s["parameter_checksum"], len(s["comm_buckets_bytes"])))
print(f"{'overlap':8}{'exposed_s':>11}{'comm_s':>9}{'compute_s':>11}{'wall_s':>9}  checksum          buckets")
for mode in ("on", "off"):
    for r in rows[mode]:
        print(f"{mode:8}{r[0]:11.3f}{r[1]:9.3f}{r[2]:11.3f}{r[3]:9.3f}  {r[4]:17} {r[5]}")
print()
med = {m: [statistics.median(r[i] for r in rows[m]) for i in range(4)] for m in rows}
for m in ("on", "off"):
    print(f"median {m:4} exposed {med[m][0]:.3f} s  comm {med[m][1]:.3f} s  compute {med[m][2]:.3f} s  wall {med[m][3]:.3f} s")
pairs = list(zip(rows["on"], rows["off"]))
lower = sum(1 for a, b in pairs if a[0] < b[0])
print(f"exposed communication lower with overlap in {lower} of {len(pairs)} interleaved pairs; "
      f"median ratio on/off {med['on'][0] / med['off'][0]:.2f} (exposed), {med['on'][3] / med['off'][3]:.2f} (wall)")
sums = {r[4] for m in rows for r in rows[m]}
print("final weights identical in every run" if len(sums) == 1 else f"FINAL WEIGHTS DIFFER: {sorted(sums)}")
sys.exit(0 if len(sums) == 1 else 1)
PY
