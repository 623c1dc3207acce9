#!/usr/bin/env bash
# Sets up cuas and runs its checks: ruff (lint) and the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/ruff check .
.venv/bin/python -m pytest -q -n auto --dist loadfile "$@"
