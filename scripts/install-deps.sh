#!/usr/bin/env bash
# Installs what Ringwatt needs on Debian/Ubuntu. Idempotent: installs only what is missing.
#   Debian packages: Open MPI, OpenBLAS, zlib, pkg-config, Fashion-MNIST, iproute2 (emulated cluster)
#   Python packages: matplotlib (plots)
# Not root? It names the missing packages and exits non-zero; on clusters load MPI/BLAS modules instead.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_debs install-deps libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev pkg-config dataset-fashion-mnist iproute2 python3
if ! python3 -c 'import matplotlib' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check matplotlib \
    || { echo "install-deps: could not install matplotlib with pip (needed for the plots)" >&2; exit 1; }
fi
echo "install-deps: all dependencies present"
