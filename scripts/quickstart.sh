#!/usr/bin/env bash
# Sets up, then opens the quickstart notebook in JupyterLab. With no FOXAPI_API_KEY the studio
# runs on the built-in simulator. Extra arguments go to `jupyter lab` (e.g. --no-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
extra=()
# JupyterLab refuses to start as root unless told; containers and CI machines often are root.
if [ "$(id -u)" = "0" ]; then extra+=(--allow-root); fi
exec .venv/bin/jupyter lab notebooks/01_quickstart.ipynb "${extra[@]}" "$@"
