#!/usr/bin/env bash
# Installs what Ringwatt needs on Debian/Ubuntu. Idempotent: installs only what is missing.
#   Debian packages: Open MPI, OpenBLAS, zlib, pkg-config, Fashion-MNIST, the fortunes corpus (the
#   language model's default text), iproute2 (emulated cluster), slurm-wlm and munge (launch/slurm-local.sh, the
#   one-machine Slurm the Slurm test submits to), procps (pgrep: the tests find a live job's processes)
#   Python packages, for the python3 first on PATH (the one the scripts and tests run): matplotlib
#   (plots), pillow (the browser test reads its screenshots), numpy (the GPT's reference implementation), pandas and prometheus-client (the tests read
#   emissions.csv and metrics.prom with them, as users' tools do)
# Not root? It names the missing packages and exits non-zero; on clusters load MPI/BLAS modules instead.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_debs install-deps libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev pkg-config dataset-fashion-mnist fortunes iproute2 python3 procps \
  slurm-wlm munge
for pair in matplotlib:matplotlib PIL:pillow numpy:numpy pandas:pandas prometheus_client:prometheus-client; do
  module=${pair%%:*} package=${pair#*:}
  if ! python3 -c "import $module" 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check "$package" \
      || { echo "install-deps: could not install $package with pip for $(command -v python3)" >&2; exit 1; }
  fi
done
echo "install-deps: all dependencies present"
