# Sourced by the launchers: restart a training job that ended for a reason outside the run.
#   ringwatt_with_restarts MAX BIN -- COMMAND…
# Runs COMMAND (which ends in `ringwatt train` and its options). When it fails and MAX restarts are
# not used up, asks `ringwatt resumable OUT` (OUT from the options' --out or --resume, else
# runs/latest): a rank died or hung, or a signal or preemption stopped the run after a checkpoint
# → runs COMMAND again with --resume OUT --restart-reason WHY, saying which restart and why (WHY:
# the rank mpirun saw die, where and by which signal, or the rank the watchdog found stuck, else
# the resumable rule's reason; the run records it in restarts.jsonl with what the fault cost); anything else (the run
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

ringwatt_fault_reason() {  # what the job's stderr ($1) says ended it: mpirun's dead rank, or the watchdog's stuck one
  local line
  line="$(grep -m1 -oE 'process rank [0-9]+ with PID [0-9]+ on node [^ ]+ exited on signal [0-9]+ \([^)]*\)' "$1" 2>/dev/null)" \
    && { echo "${line/ with PID 0/}"; return; }
  line="$(grep -m1 -oE 'rank [0-9]+: no progress for [^;]*' "$1" 2>/dev/null)" && { echo "$line"; return; }
  return 1
}

ringwatt_with_restarts() {
  local -  # options set here stay here
  set -o pipefail
  local max="$1" bin="$2"; shift 2
  [ "${1:-}" = "--" ] && shift
  case "$max" in ''|*[!0-9]*) echo "ringwatt: --max-restarts must be a whole number, got '$max'" >&2; return 2;; esac
  local out attempt=0 status why
  out="$(ringwatt_out_dir "$@")"
  local resume=() log
  log="$(mktemp "${TMPDIR:-/tmp}/ringwatt-job.XXXXXX")"
  trap 'rm -f "$log"; trap - RETURN' RETURN
  while :; do
    : >"$log"
    # The job's stderr goes to ours and to the log its fault is read from; with pipefail the
    # pipeline's status is the job's (tee succeeds), and tee has finished when it returns.
    { "$@" "${resume[@]}" 2>&1 1>&3 3>&- | tee "$log" >&2 3>&-; } 3>&1 && status=0 || status=$?
    [ "$status" -eq 0 ] && return 0
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
    why="${why#resume: }"
    local fault
    if fault="$(ringwatt_fault_reason "$log")"; then
      echo "ringwatt: restart $attempt of $max from the last checkpoint in $out: $why ($fault)" >&2
    else
      fault="$why"
      echo "ringwatt: restart $attempt of $max from the last checkpoint in $out: $why" >&2
    fi
    resume=(--resume "$out" --restart-reason "restart $attempt of $max: $fault (job status $status)")
  done
}
