"""Restart: a process SIGKILLed with 20 tasks in flight; `kling-studio resume` in a new process
finishes 20 of 20, videos on disk, and nothing is created twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kling_studio.history._store import History
from kling_studio.simulator import Simulator

from ..history.test_resume import kill_with_tasks_in_flight
from ..server_counts import route_counts

TASKS = 20


@pytest.fixture
def sim20() -> Simulator:
    # 10 s clips take ~5 s here: all 20 are surely in flight when the child dies.
    with Simulator(time_scale=0.06, seed=20) as s:
        yield s  # type: ignore[misc]


def test_sigkill_with_20_in_flight_then_resume(sim20: Simulator, tmp_path: Path) -> None:
    started = time.monotonic()
    kill_with_tasks_in_flight(TASKS, tmp_path, sim20)
    killed_at = time.monotonic() - started
    at_kill = sim20.stats()
    assert at_kill["creates_accepted"] == TASKS
    assert at_kill["tasks"].get("completed", 0) == 0  # none had finished when it died

    history = History()
    journal = history.records()
    assert len(journal) == TASKS
    assert {r.status for r in journal} <= {"pending", "processing"}
    assert all(r.task_id for r in journal)  # every create's answer was journalled

    env = dict(os.environ, FOXAPI_API_KEY=sim20.api_key, FOXAPI_BASE_URL=sim20.base_url)
    done = subprocess.run(
        [sys.executable, "-m", "kling_studio", "resume", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == TASKS
    assert Counter(r["status"] for r in rows) == {"completed": TASKS}

    records = history.records()
    assert len(records) == TASKS
    for record in records:
        assert record.status == "completed", record
        assert record.video_path is not None and record.video_path.is_file(), record
        assert record.video_path.parent == history.videos_dir
        assert record.video_path.read_bytes()[4:8] == b"ftyp"
    assert len({r.video_path for r in records}) == TASKS

    # Resuming created nothing: 20 creates in all, each answered once.
    after = sim20.stats()
    assert len(sim20.created_tasks()) == TASKS
    assert route_counts(after)["create"] == route_counts(at_kill)["create"] == TASKS
    print(
        f"RESTART 20: killed after {killed_at:.1f} s with {TASKS} in flight; resumed "
        f"{TASKS}/{TASKS} completed with videos in {time.monotonic() - started:.1f} s total; "
        f"creates {len(sim20.created_tasks())}; requests {route_counts(after)}"
    )
