#!/usr/bin/env bash
# Sets up everything a developer or CI needs, idempotently: uv in .tools/, the locked Python
# environment in .venv/, the locked npm packages, and the widget bundle.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is required ($2)" >&2; exit 1; }; }
need python3 "Python 3.11 or newer"
need node "Node.js 20 or newer"
need npm "npm, which comes with Node.js"
python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"setup: Python 3.11 or newer is required, found {sys.version.split()[0]}")
PY

if [ ! -x .tools/bin/uv ]; then
  echo "setup: installing uv into .tools/"
  python3 -m venv .tools
  .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi

# npm first: the package build hook bundles js/ into src/kling_studio/studio/static/.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build >/dev/null

echo "setup: uv sync (locked)"
SKIP_JUPYTER_BUILDER=1 .tools/bin/uv sync --frozen --quiet
