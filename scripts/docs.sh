#!/usr/bin/env bash
# Build the documentation site. Needs Quarto (https://quarto.org) to render; without it, only pre-process notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${MR_NTK_VENV:-.venv}"
export PATH="$PWD/$VENV/bin:$PATH"
if command -v quarto >/dev/null 2>&1; then
  nbdev_readme
  nbdev_docs
  echo "[docs] site written to _docs/"
else
  python scripts/readme.py
  nbdev_proc_nbs
  echo "[docs] SKIPPED rendering: Quarto is not on PATH. Notebooks were pre-processed into _proc/ (nbdev_proc_nbs);"
  echo "       install Quarto (https://quarto.org/docs/get-started/) and rerun scripts/docs.sh to render the site."
fi
