# Sourced by the scripts: the environment every rank needs.
# One BLAS thread per rank (ranks are the parallelism); mpirun as root only where we are root.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export PATH="/opt/swift/usr/bin:$PATH"
