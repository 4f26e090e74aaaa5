#!/usr/bin/env bash
# Installs the trainers Ringwatt is compared against (scripts/bench-baselines.sh, scripts/bench-gpt.sh):
#   - Debian's PyTorch 1.13 (CPU, gloo) and numpy + mpi4py, for the system interpreter /usr/bin/python3;
#   - PyTorch from PyPI (what `pip install torch` gives today; about 5 GB with its CUDA libraries,
#     unused here) in a virtual environment .baselines-venv/, only with --pypi-torch.
# Idempotent; not needed to build, test or use Ringwatt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_debs install-baselines python3-torch python3-mpi4py python3-numpy python3-venv
echo "install-baselines: python3-torch, python3-mpi4py, python3-numpy present for /usr/bin/python3"
if [ "${1:-}" = "--pypi-torch" ]; then
  if ! .baselines-venv/bin/python -c 'import torch' 2>/dev/null; then
    python3 -m venv .baselines-venv
    .baselines-venv/bin/pip install --quiet --disable-pip-version-check torch numpy \
      || { echo "install-baselines: pip could not install torch into .baselines-venv" >&2; exit 1; }
  fi
  echo "install-baselines: PyPI torch $(.baselines-venv/bin/python -c 'import torch; print(torch.__version__)') in .baselines-venv"
fi
