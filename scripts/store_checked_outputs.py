"""Execute a notebook and keep the outputs of only the cells marked `# NBVAL_CHECK_OUTPUT`.

nbval (run with --nbval-lax) compares just those cells; every other cell is only run. Saving
no other output keeps widget state and machine-specific text out of the repository.
Usage: .venv/bin/python scripts/store_checked_outputs.py notebooks/01_quickstart.ipynb ...
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"


def main(paths: list[str]) -> None:
    os.environ.pop("FOXAPI_API_KEY", None)  # stored outputs come from the simulator, keyless
    os.environ.setdefault("KLING_STUDIO_HOME", tempfile.mkdtemp(prefix="kling-studio-nb-"))
    for name in paths:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        resources = {"metadata": {"path": str(path.parent)}}
        NotebookClient(nb, timeout=600, resources=resources).execute()
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if not cell.source.startswith(MARK):
                cell.outputs = []
                cell.execution_count = None
            cell.metadata = {}
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, path)
        print(f"stored checked outputs of {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
