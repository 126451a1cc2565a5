#!/usr/bin/env bash
# Build the documentation site in _docs/. With Quarto on PATH: nbdev_docs. Without it: an offline HTML site from the same
# nbdev-processed notebooks (scripts/build_docs.py: notebooks executed, nbconvert, local MathJax from Debian libjs-mathjax).
# Never starts an installer you did not ask for: it only apt-gets its own dependency libjs-mathjax (as root or with sudo),
# and with --browser-check Debian's chromium, then opens the site in headless Chromium (scripts/check_docs_browser.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${MR_NTK_VENV:-.venv}"
export PATH="$PWD/$VENV/bin:$PATH"
CHECK=0; [ "${1:-}" = "--browser-check" ] && CHECK=1

apt_install() {  # apt_install PACKAGE: install a Debian package when apt-get and root (or sudo) are there
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "[docs] installing Debian package $1"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "$1"
  else echo "[docs] cannot apt-get install $1 here (no apt-get, or neither root nor sudo)"; return 1; fi
}


if command -v quarto >/dev/null 2>&1; then
  nbdev_readme && nbdev_docs
  echo "[docs] site written to _docs/ by Quarto"
else
  python scripts/readme.py
  echo "[docs] Quarto not on PATH: building the offline HTML site (scripts/build_docs.py)"
  [ -f /usr/share/javascript/mathjax/MathJax.js ] || apt_install libjs-mathjax \
    || { echo "[docs] FAIL: MathJax missing: install Debian libjs-mathjax"; exit 1; }
  nice -n 10 python scripts/build_docs.py
  echo "[docs] open _docs/index.html in a browser (or: python -m http.server -d _docs)"
fi

if [ "$CHECK" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || apt_install chromium \
    || { echo "SKIPPED: browser check: no Chromium and none can be installed here"; exit 0; }
  python scripts/check_docs_browser.py
fi
