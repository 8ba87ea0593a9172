#!/usr/bin/env bash
# Install everything and check the code as CI does: ruff's rules and ruff's format.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ruff check .
ruff format --check .
