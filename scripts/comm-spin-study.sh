#!/usr/bin/env bash
# Waits that test for a while before they sleep (--comm-spin-us) against waits that sleep at once,
# on the emulated cluster (root), interleaved: for each repeat, each spin in SPINS, overlap off
# (one bucket) then on (the trainer's 100 kB buckets), one training run; then the median step,
# the slowest rank's compute, the communication and what of it was exposed, and energy per sample.
#   MODEL=mlp SHAPE="1 2" LINK=10 SPINS="0 200" REPEATS=2 bash scripts/comm-spin-study.sh OUT
#   MODEL=gpt SHAPE="2 1" LINK=1 STEPS=20 bash scripts/comm-spin-study.sh OUT
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-runs/comm-spin-study}"
MODEL="${MODEL:-mlp}"; SHAPE=(${SHAPE:-1 2}); LINK="${LINK:-10}"; SPINS="${SPINS:-0 200}"; REPEATS="${REPEATS:-2}"
source "$HERE/scripts/lib.sh"
study_model comm-spin-study
source "$HERE/scripts/env.sh"
(cd "$HERE" && swift build -c release --product ringwatt >&2)
tag="$MODEL-${SHAPE[0]}x${SHAPE[1]}-g$LINK"
mkdir -p "$OUT"
for rep in $(seq 1 "$REPEATS"); do
  for spin in $SPINS; do
    for overlap in off on; do
      bucket=(); [ "$overlap" = off ] && bucket=(--bucket-mb 1000)
      RINGWATT_COMM_SPIN_US=$spin bash "$HERE/launch/emucluster.sh" run "${SHAPE[0]}" "${SHAPE[1]}" --link-gbit "$LINK" -- \
        "${TRAIN[@]}" --steps "$STEPS" --algorithm ring --quiet --overlap "$overlap" "${bucket[@]}" \
        --out "$OUT/$tag-spin$spin-$overlap-$rep" --overwrite >/dev/null
    done
  done
done
python3 - "$OUT" "$tag" $SPINS <<'PY'
import glob, json, statistics as st, sys
out, tag, spins = sys.argv[1], sys.argv[2], sys.argv[3:]
print(f"# {tag}: per run (repeats in order), medians over training iterations after the first; ms, J/sample")
for spin in spins:
    for overlap in ["off", "on"]:
        runs = []
        for d in sorted(glob.glob(f"{out}/{tag}-spin{spin}-{overlap}-*")):
            lines = [json.loads(l) for l in open(d + "/iterations.jsonl")]
            lines = [l for l in lines[1:] if l["eval_s"] == 0]
            m = lambda k: st.median(l[k] for l in lines)
            runs.append("step %.2f compute %.2f comm %.2f exposed %.2f J/sample %.6f" % (
                1e3 * m("seconds"), 1e3 * m("compute_max_s"), 1e3 * m("comm_s"), 1e3 * m("comm_exposed_s"), m("joules_per_sample")))
        print(f"{tag} spin {spin:>4} overlap {overlap:>3}: " + " | ".join(runs))
PY
