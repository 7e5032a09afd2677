"""`kling-studio batch FILE.csv`, run as a real process against the simulator: templates and
empty cells, bad rows named by line (exit 2, nothing sent), budgets before the first create,
--dry-run, the result table, and a killed batch run again without paying twice."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_studio.config import history_path
from kling_studio.history import History
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .test_cli import CLI, api_requests, run


@pytest.fixture
def server(sim: Simulator) -> Iterator[Simulator]:
    sim.set_faults(None)
    yield sim
    sim.set_faults(None)


def creates(server: Simulator) -> int:
    return int(server.stats()["requests"].get("create", 0))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def frames(tmp_path: Path) -> Path:
    (tmp_path / "red.png").write_bytes(make_picture(640, 360, (200, 40, 40)))
    (tmp_path / "blue.png").write_bytes(make_picture(640, 360, (40, 40, 200)))
    return tmp_path


def test_a_batch_fills_templates_and_empty_cells_and_returns_the_table(
    server: Simulator, frames: Path, tmp_path: Path
) -> None:
    table = write_csv(
        tmp_path / "rows.csv",
        ["animal", "prompt", "image", "duration"],
        [
            ["fox", "", "red.png", "5"],  # prompt from --prompt, picture beside the CSV
            ["owl", "an {animal} at night", "", ""],  # image and duration from the line
            ["cat", "", "blue.png", "10"],
        ],
    )
    out = tmp_path / "results.csv"
    before = creates(server)
    done = run(
        "batch",
        str(table),
        "--prompt",
        "a {animal} in the snow",
        "--image",
        str(frames / "blue.png"),
        "--out",
        str(out),
        "--json",
        server=server,
    )
    assert done.returncode == 0, done.stderr
    assert creates(server) - before == 3
    rows = json.loads(done.stdout)
    assert [r["animal"] for r in rows] == ["fox", "owl", "cat"]
    assert all(r["status"] == "completed" and Path(r["video_path"]).is_file() for r in rows)
    assert all(r["task_id"].startswith("task-") and r["local_id"] for r in rows)
    assert all(r["motion"] is not None and r["first_frame_match"] is not None for r in rows)
    history = {r["local_id"]: r for r in json.loads(run("history", "--json").stdout)}
    prompts = [history[r["local_id"]]["prompt"] for r in rows]
    assert prompts == ["a fox in the snow", "an owl at night", "a cat in the snow"]
    assert [history[r["local_id"]]["duration"] for r in rows] == [5, 5, 10]
    with open(out, encoding="utf-8") as fh:
        written = list(csv.DictReader(fh))
    assert [r["animal"] for r in written] == ["fox", "owl", "cat"]
    assert {"local_id", "task_id", "status", "video_path", "credits", "flicker", "cuts"} <= set(
        written[0]
    )

    # The same table again: every row is reused, nothing is paid.
    again = run("batch", str(table), "--prompt", "a {animal} in the snow", "--image",
                str(frames / "blue.png"), "--json", server=server)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert creates(server) - before == 3
    assert [r["local_id"] for r in json.loads(again.stdout)] == [r["local_id"] for r in rows]


def test_bad_rows_are_each_named_by_line_and_nothing_is_sent(
    server: Simulator, frames: Path, tmp_path: Path
) -> None:
    table = write_csv(
        tmp_path / "bad.csv",
        ["prompt", "image", "duration", "resolution", "generate_audio"],
        [
            ["fine", "red.png", "5", "720p", "no"],
            ["a {colour} sky", "red.png", "5", "", ""],
            ["fine too", "missing.png", "seven", "", ""],
            ["", "red.png", "", "8k", "maybe"],
        ],
    )
    before = api_requests(server)
    done = run("batch", str(table), server=server)
    assert done.returncode == 2
    err = done.stderr
    assert "nothing was sent" in err
    assert "line 3: prompt: {colour} names no column" in err
    assert "line 4: duration: 'seven' is not a whole number" in err
    assert "line 5: generate_audio: 'maybe' is not yes or no" in err
    assert "line 2" not in err  # the good row is not named
    assert api_requests(server) == before
    # A picture that cannot be read, a resolution outside the contract: named too.
    table = write_csv(
        tmp_path / "bad2.csv",
        ["prompt", "image", "resolution"],
        [["a", "missing.png", ""], ["b", "red.png", "8k"]],
    )
    done = run("batch", str(table), server=server)
    assert done.returncode == 2
    assert "line 2: image:" in done.stderr and "line 3: resolution:" in done.stderr
    assert api_requests(server) == before


def test_the_whole_batch_is_held_to_the_budget_before_the_first_create(
    server: Simulator, frames: Path, tmp_path: Path
) -> None:
    table = write_csv(
        tmp_path / "three.csv",
        ["prompt", "image"],
        [[f"clip {i}", "red.png"] for i in range(3)],
    )
    before = api_requests(server)
    done = run("batch", str(table), "--budget", "tasks=2", server=server)
    assert done.returncode == 1
    assert "budget" in done.stderr.lower()
    assert api_requests(server) == before  # not even an upload

    dry = run("batch", str(table), "--dry-run", server=server)
    assert dry.returncode == 0, dry.stderr
    assert "line 2:" in dry.stdout and "line 4:" in dry.stdout
    assert "would send 3 task(s)" in dry.stdout and "nothing was sent" in dry.stdout
    refused = run("batch", str(table), "--dry-run", "--budget", "tasks=2", server=server)
    assert refused.returncode == 1 and "budget" in refused.stderr.lower()
    assert api_requests(server) == before


def test_a_killed_batch_run_again_pays_for_no_row_twice(frames: Path, tmp_path: Path) -> None:
    table = write_csv(
        tmp_path / "four.csv",
        ["prompt", "image"],
        [[f"slow clip {i}", "red.png"] for i in range(4)],
    )
    home = tmp_path / "home"
    with Simulator(time_scale=0.15, seed=11) as slow:
        env = dict(os.environ, FOXAPI_API_KEY=slow.api_key, FOXAPI_BASE_URL=slow.base_url)
        env["KLING_STUDIO_LEASE_SECONDS"] = "2"  # the killed run's tasks are adopted soon
        first = subprocess.Popen(
            [*CLI, "--home", str(home), "batch", str(table), "--max-concurrency", "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        with History(history_path(home)) as history:
            # Killed once two tasks are journalled with their ids (sent, answered, paid for).
            while time.monotonic() < deadline:
                if sum(r.task_id is not None for r in history.records()) >= 2:
                    break
                time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        sent_before = creates(slow)
        assert 2 <= sent_before < 4  # killed half-way: some rows sent, some not
        again = subprocess.run(
            [*CLI, "--home", str(home), "batch", str(table), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert again.returncode == 0, again.stderr
        rows = json.loads(again.stdout)
        assert [r["status"] for r in rows] == ["completed"] * 4
        assert creates(slow) == 4  # the rows sent before the kill were followed, not resent
        assert len({r["task_id"] for r in rows}) == 4
