#!/usr/bin/env bash
# Sets up, then runs every check and test: lint, type checks, vitest, pytest (simulator over
# loopback, real kernels, nbval notebooks, and the real-browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== ruff"; .venv/bin/ruff check .
echo "== ruff format"; .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== tsc"; npx --no-install tsc --noEmit
echo "== vitest"; npx --no-install vitest run
echo "== pytest"
exec .venv/bin/pytest "$@"
