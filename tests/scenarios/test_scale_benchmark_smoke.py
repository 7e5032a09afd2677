"""The scale benchmark's code runs (tiny N, fast clock) and reports every figure. No timing or
memory figure is asserted: that is what `python -m benchmarks.scale` is for."""

from __future__ import annotations

import pytest

from benchmarks import scale
from kling_studio.simulator import Simulator


@pytest.mark.parametrize("mode", scale.MODES)
def test_each_mode_follows_every_task(sim: Simulator, mode: str) -> None:
    sim.set_faults(None)
    result = scale.measure(mode, sim.base_url, sim.api_key, tasks=6, idle=0.05)
    assert result["mode"] == mode and result["tasks"] == 6
    assert result["statuses"] == {"completed": 6}
    for phase in ("idle", "all", "submit", "in_flight"):
        assert set(result["lag"][phase]) == {"p50_ms", "p99_ms", "max_ms", "n"}
    assert result["lag"]["all"]["n"] > 0
    assert result["rss_before_mb"] > 0
    if mode == "threads":
        assert result["threads"] > 6


def test_report_has_targets_and_a_table() -> None:
    report = scale.run(tasks=4, time_scale=0.01, modes=scale.MODES, in_process=True, idle=0.05)
    assert list(report["modes"]) == list(scale.MODES)
    assert set(report["targets"]) == {"asyncio", "runner"}
    for target in report["targets"].values():
        assert {"p99_lag_ok", "rss_ok", "p99_lag_vs_threads", "rss_vs_threads"} <= set(target)
    for mode, summary in report["modes"].items():
        assert summary["statuses"] == {"completed": 4} and summary["gets_per_task"] >= 1
        assert report["rounds"][mode][0]["requests"]["create"] == 4
    text = scale.table(report)
    assert "| asyncio" in text and "p99 lag" in text and "target <= 20" in text
