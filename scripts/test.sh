#!/usr/bin/env bash
# The test command: installs what is missing, builds the release binary the end-to-end tests run
# under mpirun, then runs every test (unit tests in-process, end-to-end tests under mpirun -np 1…4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The report test opens pages in headless Chromium (only the tests need it).
source scripts/lib.sh
ensure_debs test.sh chromium
source scripts/env.sh
swift build -c release --product ringwatt
swift build --build-tests
export RINGWATT_BIN="$PWD/.build/release/ringwatt"
# What every figure below depends on: the CPU and the BLAS core (chosen and cached here once per
# machine, before the tests time anything).
"$RINGWATT_BIN" doctor
if [ $# -gt 0 ]; then exec swift test --skip-build "$@"; fi
# In-process tests first, then the end-to-end ones: the fixture tests time counters against a
# writer thread and should not share the two cores with mpirun jobs. The trainer's in-process
# energy test (a meter that follows the ranks' phases, fitted back) runs on its own: suites run in
# parallel, and another suite's threads on the same two cores would blur the phases it times.
swift test --skip-build --skip EndToEndTests --skip TrainerTests
swift test --skip-build --filter TrainerTests
swift test --skip-build --filter EndToEndTests
