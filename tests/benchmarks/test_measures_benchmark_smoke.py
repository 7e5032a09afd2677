"""The measures benchmark runs and reports sane structure (a short clip, one round; no timing
is asserted)."""

from __future__ import annotations

from benchmarks import measures


def test_the_measures_benchmark_reports_both_sides() -> None:
    result = measures.run(rounds=1, resolution="720p", duration=5)
    assert result["frames"] > 0 and result["bytes"] > 0
    assert result["download_loopback_s"] > 0 and result["measure_s"] > 0
    assert result["measure_cpu_s"] > 0 and result["break_even_mbit"] > 0
    assert set(result["links"]) == {"50 Mbit/s", "100 Mbit/s"}
    assert "Mbit/s" in measures.report(result)
