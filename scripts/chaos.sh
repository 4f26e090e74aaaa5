#!/usr/bin/env bash
# Chaos: a training run whose ranks die (SIGKILL to a random rank, at random iterations, KILLS
# times) and then hang (SIGSTOP to a random rank, once), under launch/local.sh --max-restarts;
# it must finish by itself. Then checked against an uninterrupted run of the same job:
#   - the final weights are bit-identical (parameter_checksum);
#   - iterations.jsonl holds every iteration exactly once;
#   - every fault is in restarts.jsonl, with at most the checkpoint interval of iterations redone;
#   - the redone joules reported equal the sum of the redone iterations' measured energy
#     (iterations.redone.jsonl), and wasted = redone + the gaps charged at idle power;
#   - the hang was noticed by the watchdog and training resumed within --stall-seconds + a restart.
# Prints the figures (faults survived, iterations redone per fault, checkpoint write time per
# checkpoint, wasted energy, goodput) and writes them to OUT/chaos.txt; exits non-zero if a check fails.
#   bash scripts/chaos.sh [OUT] [RANKS] [STEPS] [KILLS] [MODEL]   defaults: runs/chaos 2 1000 5 mlp
#   CHECKPOINT_EVERY=100 STALL_SECONDS=10 SEED=… TIMEOUT=1200 (seconds, the whole run) to change them.
# Bounded: KILLS + 1 faults, TIMEOUT seconds; everything it starts is stopped on the way out.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-runs/chaos}"; RANKS="${2:-2}"; STEPS="${3:-1000}"; KILLS="${4:-5}"; MODEL="${5:-mlp}"
CKPT="${CHECKPOINT_EVERY:-100}"; STALL="${STALL_SECONDS:-10}"; SEED="${SEED:-$RANDOM}"; TIMEOUT="${TIMEOUT:-1200}"
source "$HERE/scripts/env.sh"
BIN="${RINGWATT_BIN:-$HERE/.build/release/ringwatt}"
[ -x "$BIN" ] || (cd "$HERE" && swift build -c release --product ringwatt >&2)
export RINGWATT_BIN="$BIN"
case "$MODEL" in
  mlp) JOB=(--steps "$STEPS");;
  gpt) JOB=(--model gpt --size tiny --steps "$STEPS");;
  *) echo "chaos.sh: MODEL is mlp or gpt, got '$MODEL'" >&2; exit 2;;
esac
JOB+=(--checkpoint-every "$CKPT" --flush-every 10 --stall-seconds "$STALL" --idle-seconds 0 --quiet)
for n in "$RANKS" "$STEPS" "$KILLS" "$CKPT"; do
  case "$n" in ''|*[!0-9]*|0) echo "chaos.sh: RANKS, STEPS, KILLS and CHECKPOINT_EVERY are positive whole numbers" >&2; exit 2;; esac
done
[ "$STEPS" -ge $((4 * CKPT)) ] || { echo "chaos.sh: STEPS ($STEPS) must be at least 4 checkpoint intervals ($CKPT)" >&2; exit 2; }
mkdir -p "$OUT"
REF="$OUT/reference" RUN="$OUT/run"

echo "chaos: $MODEL on $RANKS ranks, $STEPS steps, checkpoint every $CKPT; $KILLS kills and a hang (seed $SEED)"
echo "chaos: the uninterrupted run…"
mpirun --oversubscribe -np "$RANKS" -x OPENBLAS_NUM_THREADS "$BIN" train "${JOB[@]}" --out "$REF" --overwrite

# The faults: KILLS + 1 iterations, increasing, at least half a checkpoint interval apart.
mapfile -t TARGETS < <(python3 - "$SEED" "$KILLS" "$STEPS" "$CKPT" <<'EOF'
import random, sys
seed, kills, steps, ckpt = map(int, sys.argv[1:])
rng = random.Random(seed)
lo, hi, gap = ckpt // 2, steps - max(50, ckpt // 2), max(1, ckpt // 2)
while True:
    t = sorted(rng.sample(range(lo, hi), kills + 1))
    if all(b - a >= gap for a, b in zip(t, t[1:])):
        break
print("\n".join(map(str, t)))
EOF
)

rm -rf "$RUN"
setsid bash "$HERE/launch/local.sh" "$RANKS" --max-restarts $((KILLS + 1)) "${JOB[@]}" --out "$RUN" >"$OUT/launcher.log" 2>&1 &
LAUNCHER=$!
TIMER=""
cleanup() { kill -KILL -- "-$LAUNCHER" ${TIMER:+"-$TIMER"} 2>/dev/null || true; }
trap cleanup EXIT
# The time bound: a timer in its own process group (its sleep included), stopped with it.
setsid bash -c 'sleep "$1"; echo "chaos: TIMEOUT ($1 s): stopping the job" >&2; kill -KILL -- "-$2" 2>/dev/null' _ "$TIMEOUT" "$LAUNCHER" </dev/null >/dev/null &
TIMER=$!
disown "$TIMER"

count() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# This run's ranks: processes named ringwatt whose command line names the run directory.
rank_pids() { comm -12 <(pgrep -x ringwatt | sort) <(pgrep -f -- "--out $RUN" | sort); }
: >"$OUT/faults.log"
HANG_S=""
for i in "${!TARGETS[@]}"; do
  target="${TARGETS[$i]}"
  while [ "$(count "$RUN/iterations.jsonl")" -lt "$target" ]; do
    kill -0 "$LAUNCHER" 2>/dev/null || break 2
    sleep 0.02
  done
  mapfile -t pids < <(rank_pids)
  [ "${#pids[@]}" -gt 0 ] || break
  pid="${pids[RANDOM % ${#pids[@]}]}"
  signal=KILL; [ "$i" -eq "$KILLS" ] && signal=STOP
  at="$(count "$RUN/iterations.jsonl")"
  t0="$(date +%s.%N)"
  kill -"$signal" "$pid" 2>/dev/null || true
  echo "fault $((i + 1)): SIG$signal to pid $pid with $at iteration lines written" | tee -a "$OUT/faults.log"
  # The next fault comes after this one's restart has begun training (its record is written then).
  while [ "$(count "$RUN/restarts.jsonl")" -le "$i" ]; do
    kill -0 "$LAUNCHER" 2>/dev/null || break 2
    sleep 0.05
  done
  [ "$signal" = STOP ] && HANG_S="$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")"
done
status=0
wait "$LAUNCHER" || status=$?
kill -KILL -- "-$TIMER" 2>/dev/null || true
trap - EXIT
cat "$OUT/launcher.log" | grep -E '^ringwatt: (restart|not restarting|no restarts)' || true
[ "$status" -eq 0 ] || { echo "chaos: the job did not finish (status $status); see $OUT/launcher.log" >&2; exit 1; }

python3 - "$REF" "$RUN" "$KILLS" "$CKPT" "$STEPS" "$STALL" "${HANG_S:-nan}" "$MODEL" "$RANKS" "$SEED" "$BIN" <<'EOF' | tee "$OUT/chaos.txt"
import json, math, statistics, subprocess, sys
ref, run, kills, ckpt, steps, stall, hang, model, ranks, seed, binary = sys.argv[1:]
kills, ckpt, steps, stall, hang = int(kills), int(ckpt), int(steps), float(stall), float(hang)
summary = json.load(open(f"{run}/summary.json"))
reference = json.load(open(f"{ref}/summary.json"))
lines = [json.loads(l) for l in open(f"{run}/iterations.jsonl")]
redone = []
for l in open(f"{run}/iterations.redone.jsonl"):
    try: redone.append(json.loads(l))
    except ValueError: pass  # a line torn by the kill
records = [json.loads(l) for l in open(f"{run}/restarts.jsonl")]
faults = summary["faults"]
blas = summary["metadata"]["blas"]
cpu = summary["metadata"].get("cpu", "?")
failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok: failures.append(what)

print(f"# bash scripts/chaos.sh OUT {ranks} {steps} {kills} {model}   (SEED={seed}, checkpoint every {ckpt}, --stall-seconds {stall:g})")
print(f"# CPU: {cpu}; BLAS: {blas.get('core', '?')} ({blas.get('choice', '')}; {blas.get('config', '?')})")
check(summary["status"] == "complete", f"the run completed by itself ({summary['status']})")
check(summary["parameter_checksum"] == reference["parameter_checksum"],
      f"weights bit-identical to the uninterrupted run ({summary['parameter_checksum']} vs {reference['parameter_checksum']})")
check([l["iter"] for l in lines] == list(range(steps)), f"iterations.jsonl holds iterations 0..{steps - 1} exactly once ({len(lines)} lines)")
check(len(records) == kills + 1 == faults["restarts"], f"{len(records)} faults survived ({kills} kills + 1 hang), summary says {faults['restarts']}")
per_fault = [r["iterations_redone"] for r in records]
check(all(n <= ckpt for n in per_fault), f"iterations redone per fault {per_fault} ≤ the checkpoint interval {ckpt}")
redone_j = sum(l["energy_j"] for l in redone)
check(math.isclose(faults["redone_j"], redone_j, rel_tol=1e-9, abs_tol=1e-9),
      f"redone energy {faults['redone_j']:.6f} J = Σ energy_j of the {len(redone)} redone lines {redone_j:.6f} J")
check(faults["iterations_redone"] == len(redone) == sum(per_fault), f"{len(redone)} redone lines, as the records say")
gaps = sum(r["gap_j"] or 0 for r in records)
check(math.isclose(faults["wasted_j"], redone_j + gaps, rel_tol=1e-9), f"wasted {faults['wasted_j']:.3f} J = redone {redone_j:.3f} J + gaps {gaps:.3f} J")
check(math.isclose(faults["goodput"], steps / (steps + len(redone)), rel_tol=1e-12), f"goodput {faults['goodput']:.4f} = {steps} / ({steps} + {len(redone)})")
check(hang <= stall + 30, f"the hang was noticed and training resumed {hang:g} s after SIGSTOP (--stall-seconds {stall:g} + the restart)")
check("no progress" in records[-1]["reason"], f"the hang's restart names the watchdog: {records[-1]['reason']}")
# A checkpoint's write shows in the iteration after it, as the time its phases do not cover.
def residual(l):
    return l["seconds"] - sum(l[k] for k in ("idle_s", "data_s", "compute_s", "comm_exposed_s", "optimizer_s", "eval_s"))
writes = [residual(l) * 1e3 for l in lines + redone if residual(l) > 1e-7]  # every checkpoint a log line followed
print()
print(f"faults survived: {len(records)} ({kills} SIGKILL, 1 SIGSTOP)")
for r in records:
    gap = f"{r['gap_j']:.1f} J" if r.get("gap_j") is not None else "not charged"
    print(f"  restart {r['restart']}: from iteration {r['resumed_from_iteration']}, {r['iterations_redone']} redone "
          f"({r['redone_j']:.3f} J, {r['redone_s']:.3f} s), gap {r['gap_s']:.1f} s ({gap}): {r['reason']}")
print(f"iterations redone per fault: median {statistics.median(per_fault):g}, max {max(per_fault)} (checkpoint interval {ckpt})")
if writes:
    print(f"checkpoint write (the time of the iteration after it outside its phases, ends of --checkpoint-every and of epochs): median {statistics.median(writes):.2f} ms, max {max(writes):.2f} ms over {len(writes)}")
print(f"wasted: {faults['wasted_j']:.1f} J ({faults['redone_j']:.2f} J redone + {faults['gap_j']:.1f} J in {faults['gap_s']:.1f} s of gaps) "
      f"against {summary['energy_j']:.1f} J of useful training ({faults['wasted_j'] / summary['energy_j']:.0%}); goodput {faults['goodput']:.4f}")
print(f"energy source: {summary['energy_source']}")
sys.exit(1 if failures else 0)
EOF
