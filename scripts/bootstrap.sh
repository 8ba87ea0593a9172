#!/usr/bin/env bash
# Create .venv and install the pinned requirements when they changed. Sourced by run.sh/test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "${PYTHON:-python3}" -m venv .venv
fi
stamp=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ "$(cat .venv/.deps-stamp 2>/dev/null || true)" != "$stamp" ]; then
  echo "==> installing Python packages (requirements-dev.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  echo "$stamp" > .venv/.deps-stamp
fi
export PATH="$ROOT/.venv/bin:$PATH"
export FLASK_APP=wsgi
