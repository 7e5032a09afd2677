"""Importing a client stays cheap: pydantic (the answer side, `kling_studio.tasks`) loads with
the first answer, and the history's, media's and pictures' libraries with their first use
(benchmarks/import_time.py measures the time)."""

from __future__ import annotations

import subprocess
import sys

import kling_studio.models as models
import kling_studio.tasks as tasks

HEAVY = ("pydantic", "pandas", "PIL", "av", "sqlalchemy", "numpy", "anywidget", "uvicorn")


def loaded_after(statement: str) -> list[str]:
    """The heavy libraries a fresh interpreter holds after `statement`."""
    code = f"import sys; {statement}; print(*[m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_the_clients_and_requests_loads_no_heavy_library() -> None:
    assert loaded_after("from kling_studio import AsyncClient, Client, VideoRequest") == []


def test_the_first_task_answer_brings_pydantic() -> None:
    loaded = loaded_after(
        "from kling_studio import Client, Task; Task.from_api({'id': 't1', 'status': 'pending'})"
    )
    assert loaded == ["pydantic"]


def test_models_still_hands_out_the_answer_side() -> None:
    for name in ("Task", "TaskError", "NotATask", "task_id_of", "replace_model"):
        assert getattr(models, name) is getattr(tasks, name)
    assert set(models.__all__) == {
        "NotATask",
        "PreparedRequest",
        "Segment",
        "Task",
        "TaskError",
        "VideoRequest",
        "request_hash",
    }
