#!/usr/bin/env bash
# Set up mr_ntk on a fresh machine (Debian-like, Python >= 3.10, no GPU needed, no internet beyond package registries):
#   1. Fashion-MNIST from Debian's `dataset-fashion-mnist` (the offline default source task),
#   2. a virtual environment in .venv with torch and mr_ntk (editable, with the dev tools).
# Environment overrides: MR_NTK_VENV (venv folder), PYTHON (interpreter), MR_NTK_TORCH (torch pip spec).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${MR_NTK_VENV:-.venv}"
PY="${PYTHON:-python3}"
TORCH_SPEC="${MR_NTK_TORCH:-torch==2.14.1 torchvision==0.29.1}"
FMNIST=/usr/share/datasets/fashion-mnist

if [ -f "$FMNIST/train-images-idx3-ubyte.gz" ]; then
  echo "[setup] Fashion-MNIST found in $FMNIST"
elif command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "[setup] installing Debian package dataset-fashion-mnist"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dataset-fashion-mnist
else
  echo "[setup] WARNING: cannot apt-get install dataset-fashion-mnist here: Fashion-MNIST (the offline default source)"
  echo "        is not installed. Put the four *-ubyte.gz files in a folder and pass it as get_dataset(..., root=FOLDER)"
  echo "        or, for the experiment notebook, papermill ... -p data_root FOLDER."
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q $TORCH_SPEC
"$VENV/bin/python" -m pip install -q -e ".[dev]"
"$VENV/bin/python" -c "import mr_ntk, torch; print(f'[setup] mr_ntk {mr_ntk.__version__} ready, torch {torch.__version__}, cuda available: {torch.cuda.is_available()}')"
# nbdev's hooks: Jupyter's save hook cleans notebooks as Lab saves them (settings.ini: jupyter_hooks = True; it edits
# ~/.jupyter/jupyter_*_config.py), git's merge driver resolves notebook conflicts. Not in CI, which edits no notebook.
[ -n "${CI:-}" ] || (PATH="$PWD/$VENV/bin:$PATH" nbdev_install_hooks)
