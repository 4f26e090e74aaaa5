#!/usr/bin/env bash
# Installs the trainers Ringwatt is compared against (scripts/bench-baselines.sh): Debian's
# PyTorch (CPU, gloo) and numpy + mpi4py, for the system interpreter /usr/bin/python3.
# Idempotent; not needed to build, test or use Ringwatt.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_debs install-baselines python3-torch python3-mpi4py python3-numpy
echo "install-baselines: python3-torch, python3-mpi4py, python3-numpy present for /usr/bin/python3"
