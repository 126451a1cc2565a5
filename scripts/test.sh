#!/usr/bin/env bash
# Run the whole offline test suite: notebooks (nbdev_test, skipping cells flagged slow/gpu/notest) then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${MR_NTK_VENV:-.venv}"
export PATH="$PWD/$VENV/bin:$PATH"
export MPLBACKEND=Agg
echo "[test] nbdev_test"
nbdev_test --timing
echo "[test] pytest"
pytest -q tests
