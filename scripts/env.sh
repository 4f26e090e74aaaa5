# Sourced by the scripts: the environment every rank needs.
# One BLAS thread per rank (ranks are the parallelism); mpirun as root only where we are root.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export PATH="/opt/swift/usr/bin:$PATH"
# The default run's rank count: one rank per core (a rank is one BLAS thread), at least 2 so the
# all-reduce runs, at most 4 (Fashion-MNIST's 60 000 samples: more ranks only shorten the epoch).
ringwatt_default_ranks() {
  local cores; cores="$(nproc 2>/dev/null || echo 2)"
  echo $(( cores < 2 ? 2 : cores > 4 ? 4 : cores ))
}
