#!/usr/bin/env bash
# Installs the trainers Ringwatt is compared against (scripts/bench-baselines.sh): Debian's
# PyTorch (CPU, gloo) and numpy + mpi4py, for the system interpreter /usr/bin/python3.
# Idempotent; not needed to build, test or use Ringwatt.
set -euo pipefail
DEBS=(python3-torch python3-mpi4py python3-numpy)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-baselines: missing Debian packages: ${missing[*]} (run as root: apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-baselines: python3-torch, python3-mpi4py, python3-numpy present for /usr/bin/python3"
