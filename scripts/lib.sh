# Sourced by the install scripts: Debian packages that are missing, installed when we are root.
#   ensure_debs NAME PACKAGE…
ensure_debs() {
  local who="$1"; shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$who: missing Debian packages: ${missing[*]}" >&2
    echo "$who: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    echo "$who: (on a cluster, 'module load' your MPI and OpenBLAS instead and make sure pkg-config finds ompi-c and openblas)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The studies' workload (sourced by plan-study.sh and comm-spin-study.sh): for MODEL (gpt or mlp)
# sets TRAIN (the training arguments; the batch per rank BATCH unless given: 8 sequences, 64
# images), STEPS unless given, and FIT (bench-allreduce's sizes and calls for a fit covering the
# model's gradient).   study_model WHO
study_model() {
  case "${MODEL:-}" in
    gpt) STEPS="${STEPS:-20}"; TRAIN=(--model gpt --batch-size "${BATCH:-8}" --eval-windows 32); FIT=(--min-bytes 65536 --max-bytes 16777216 --iters 5);;
    mlp) STEPS="${STEPS:-300}"; TRAIN=(--batch-size "${BATCH:-64}"); FIT=(--min-bytes 4096 --max-bytes 4194304 --iters 10);;
    *) echo "$1: MODEL must be gpt or mlp" >&2; exit 2;;
  esac
}
