"""The player-latency benchmark's parts run and report sane structure (no browser, no timing
asserted): its cells compile, its completion clock reads a real simulator's task, its report
has both paths."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import player_latency as bench
from kling_studio import Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from ..conftest import make_picture


def test_the_cells_compile(tmp_path: Path) -> None:
    settings = bench.Settings(runs=1)
    compile(bench.setup_cell("http://127.0.0.1:1", "k", tmp_path / "h.db", settings), "s", "exec")
    compile(bench.baseline_cell(0), "b", "exec")
    assert "embed=True" in bench.baseline_cell(0)


def test_the_completion_clock_reads_the_simulators_moment(sim: Simulator, tmp_path: Path) -> None:
    clock = bench.CompletionClock(sim)
    studio = Studio(api_key=sim.api_key, base_url=sim.base_url, history=tmp_path / "h.db")
    try:
        studio.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
        studio.set_image(make_picture())
        before = time.time()
        record = studio.generate(prompt="tick", timeout=60)
        after = time.time()
    finally:
        studio.close()
    assert record.task_id is not None
    assert before <= clock.completed(record.task_id) <= after


def test_the_report_has_every_path() -> None:
    runs = {
        "route": [bench.Run(0.1, 0.3, p, 0.2, 0.3) for p in (0.5, 0.7, 0.6)],
        "websocket": [bench.Run(0.1, 0.3, p, 1.0, 1.0) for p in (1.0, 1.4, 1.2)],
        "baseline": [bench.Run(0.1, 0.3, p) for p in (2.0, 2.4, 2.2)],
    }
    summary = bench.summarize(runs)
    assert summary["route"]["p50"] == 0.6 and summary["baseline"]["runs"] == 3
    assert summary["route"]["saved_p50"] == 0.3 and summary["route"]["read_seek_p50"] == 0.3
    report = {
        "settings": bench.Settings(runs=3).__dict__,
        "video_bytes": 12_500_000,
        "runs": {k: [r.as_dict() for r in v] for k, v in runs.items()},
        "summary": summary,
    }
    text = bench.format_report(report)
    assert "route |" in text and "websocket |" in text and "baseline |" in text
    assert "websocket p50 / route p50 = 2.00x" in text
    assert "baseline p50 / route p50 = 3.67x" in text
    assert " 30% |" in text and " 100% |" in text  # the fractions of the file read
