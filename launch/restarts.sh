# Sourced by the launchers: restart a training job that ended for a reason outside the run.
#   ringwatt_with_restarts MAX BIN -- COMMAND…
# Runs COMMAND (which ends in `ringwatt train` and its options). When it fails and MAX restarts are
# not used up, asks `ringwatt resumable OUT` (OUT from the options' --out or --resume, else
# runs/latest): a rank died or hung, or a signal or preemption stopped the run after a checkpoint
# → runs COMMAND again with --resume OUT, saying which restart and why; anything else (the run
# ended normally, failed for a reason a restart meets again, has no checkpoint) → stops for good,
# saying why. MAX comes from the launcher's --max-restarts or RINGWATT_MAX_RESTARTS (default 0).
ringwatt_out_dir() {  # the run directory the train options name
  local out=runs/latest
  while [ $# -gt 0 ]; do
    case "$1" in
      --out|--resume) out="${2:-$out}"; shift 2 || break;;
      --out=*|--resume=*) out="${1#*=}"; shift;;
      *) shift;;
    esac
  done
  echo "$out"
}

ringwatt_was_preempted() {  # the run in $1 stopped on Slurm's warning (status preempted)
  [ -f "$1/summary.json" ] && grep -q '"status" : "preempted"' "$1/summary.json"
}

ringwatt_with_restarts() {
  local max="$1" bin="$2"; shift 2
  [ "${1:-}" = "--" ] && shift
  case "$max" in ''|*[!0-9]*) echo "ringwatt: --max-restarts must be a whole number, got '$max'" >&2; return 2;; esac
  local out attempt=0 status why
  out="$(ringwatt_out_dir "$@")"
  local resume=()
  while :; do
    if "$@" "${resume[@]}"; then return 0; else status=$?; fi
    [ "$attempt" -ge "$max" ] && { [ "$max" -gt 0 ] && echo "ringwatt: no restarts left ($max used); the job ended with status $status" >&2; return "$status"; }
    if ringwatt_was_preempted "$out"; then
      echo "ringwatt: not restarting here: the job was warned of preemption or its time limit (a requeued job resumes)" >&2
      return "$status"
    fi
    if ! why="$("$bin" resumable "$out" 2>&1)"; then
      echo "ringwatt: not restarting: ${why#do not resume: }" >&2
      return "$status"
    fi
    attempt=$((attempt + 1))
    echo "ringwatt: restart $attempt of $max from the last checkpoint in $out: ${why#resume: }" >&2
    resume=(--resume "$out")
  done
}
