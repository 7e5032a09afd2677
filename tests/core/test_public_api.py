"""The public surface: `kling_studio.__all__` exactly, every name importable, and every import the
README and the notebooks show still working (as httpx's tests/test_exported_members.py does)."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kling_studio

ROOT = Path(__file__).resolve().parents[2]

PUBLIC = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "Client",
    "ConfigurationError",
    "CreateOutcomeUnknown",
    "DownloadError",
    "History",
    "HistoryError",
    "InputError",
    "InsufficientQuotaError",
    "KlingStudioError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PollPolicy",
    "PreparedRequest",
    "RateLimitError",
    "Segment",
    "ServerError",
    "ServiceUnavailableError",
    "Simulator",
    "Studio",
    "Task",
    "TaskError",
    "TaskFailed",
    "TransportError",
    "UnprocessableEntityError",
    "VideoExpiredError",
    "VideoRequest",
    "WaitTimeout",
]


def test_all_is_pinned() -> None:
    assert kling_studio.__all__ == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_imports(name: str) -> None:
    value = getattr(kling_studio, name)
    assert getattr(value, "__name__", name) == name
    assert name in dir(kling_studio)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Clinet'"):
        kling_studio.Clinet  # noqa: B018


def _documented_imports() -> set[str]:
    """Every import of kling_studio in the README's Python blocks and the notebooks' code."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sources = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        sources += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    found = set()
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    for text in sources:
        code = "\n".join(line for line in text.splitlines() if line.lstrip()[:1] not in "%!")
        tree = compile(code, "<documented>", "exec", flags=flags)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(name.startswith("kling_studio") for name in names):
                found.add(ast.unparse(node))
    return found


def test_the_readme_and_notebook_imports_still_work() -> None:
    lines = _documented_imports()
    assert "from kling_studio import Client" in lines
    # One fresh interpreter runs them all, as a reader's kernel would.
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(sorted(lines))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_import_kling_studio_leaves_the_heavy_libraries_unloaded() -> None:
    code = (
        "import sys, kling_studio; "
        "print([m for m in ('httpx', 'pydantic', 'pandas', 'anywidget', 'uvicorn') "
        "if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert importlib.import_module("kling_studio").Client.__name__ == "Client"
