#!/usr/bin/env bash
# Installs the trainers Ringwatt is compared against (scripts/bench-baselines.sh, bench-gpt.sh, bench-blas.sh):
#   - Debian's PyTorch 1.13 (CPU, gloo), numpy + mpi4py and threadpoolctl, for /usr/bin/python3;
#   - numpy, mpi4py and threadpoolctl from PyPI (what `pip install numpy mpi4py` gives today: numpy
#     with its own OpenBLAS) in a virtual environment .baselines-venv/ (mpi4py builds against the
#     system's Open MPI);
#   - PyTorch from PyPI (about 5 GB with its CUDA libraries, unused here) in the same environment,
#     only with --pypi-torch.
# Idempotent; not needed to build, test or use Ringwatt.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_debs install-baselines python3-torch python3-mpi4py python3-numpy python3-threadpoolctl python3-venv
echo "install-baselines: python3-torch, python3-mpi4py, python3-numpy, python3-threadpoolctl present for /usr/bin/python3"
if ! .baselines-venv/bin/python -c 'import numpy, mpi4py, threadpoolctl' 2>/dev/null; then
  [ -x .baselines-venv/bin/python ] || /usr/bin/python3 -m venv .baselines-venv
  .baselines-venv/bin/pip install --quiet --disable-pip-version-check numpy mpi4py threadpoolctl \
    || { echo "install-baselines: pip could not install numpy, mpi4py and threadpoolctl into .baselines-venv" >&2; exit 1; }
fi
echo "install-baselines: PyPI numpy $(.baselines-venv/bin/python -c 'import numpy; print(numpy.__version__)') with mpi4py in .baselines-venv"
if [ "${1:-}" = "--pypi-torch" ]; then
  if ! .baselines-venv/bin/python -c 'import torch' 2>/dev/null; then
    .baselines-venv/bin/pip install --quiet --disable-pip-version-check torch \
      || { echo "install-baselines: pip could not install torch into .baselines-venv" >&2; exit 1; }
  fi
  echo "install-baselines: PyPI torch $(.baselines-venv/bin/python -c 'import torch; print(torch.__version__)') in .baselines-venv"
fi
