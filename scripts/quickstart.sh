#!/usr/bin/env bash
# Sets up, then opens the quickstart notebook in JupyterLab. With no FOXAPI_API_KEY the studio
# runs on the built-in simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/jupyter lab notebooks/01_quickstart.ipynb "$@"
