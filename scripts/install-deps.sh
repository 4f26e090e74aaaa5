#!/usr/bin/env bash
# Installs what Ringwatt needs on Debian/Ubuntu. Idempotent: installs only what is missing.
#   Debian packages: Open MPI, OpenBLAS, zlib, Fashion-MNIST, iproute2 (emulated cluster)
#   Python packages: matplotlib (plots)
# Not root? It names the missing packages and exits non-zero; on clusters load MPI/BLAS modules instead.
set -euo pipefail

DEBS=(libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev pkg-config dataset-fashion-mnist iproute2 python3)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]}" >&2
    echo "install-deps: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    echo "install-deps: (on a cluster, 'module load' your MPI and OpenBLAS instead and make sure pkg-config finds ompi-c and openblas)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python: matplotlib for the plots.
if ! python3 -c 'import matplotlib' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check matplotlib \
    || { echo "install-deps: could not install matplotlib with pip (plots will be unavailable)" >&2; exit 1; }
fi

echo "install-deps: all dependencies present"
