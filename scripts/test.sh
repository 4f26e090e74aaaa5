#!/usr/bin/env bash
# The test command: installs what is missing, builds the release binary the end-to-end tests run
# under mpirun, then runs every test (unit tests in-process, end-to-end tests under mpirun -np 1…4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
source scripts/env.sh
swift build -c release --product ringwatt
swift build --build-tests
RINGWATT_BIN="$PWD/.build/release/ringwatt" swift test --skip-build "$@"
