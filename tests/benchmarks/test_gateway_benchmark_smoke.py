"""The gateway benchmark runs end to end at a tiny size and reports its figures (no timing is
asserted; the budget and the creates are exact at any size)."""

from __future__ import annotations

import math

from benchmarks import gateway


def test_gateway_benchmark_reports_both_modes(postgres_url: str) -> None:
    result = gateway.run(students=2, tasks=1, time_scale=0.02, postgres_url=postgres_url)
    assert result["creates_upstream"] == result["tasks_started"] == 2
    assert result["budget_exact"] is True
    assert set(result["p95_ms"]) == {"get", "create"}
    assert all(not math.isnan(v) for v in result["upstream_gets_per_task"].values())
    assert result["requests"]["gateway"]["create"] >= 4  # the extra create of each, refused
    assert "upstream GETs per task" in gateway.table(result)
