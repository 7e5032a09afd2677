"""The import-time benchmark runs and reports sane structure (one round). No timing is asserted."""

from __future__ import annotations

from benchmarks import import_time


def test_import_time_benchmark_reports_medians_and_ratios() -> None:
    report = import_time.run(rounds=1, statements={"import kling_studio": "import kling_studio"})
    rows = report["rows"]
    assert set(rows) == {"import httpx", "import kling_studio"}
    assert rows["import httpx"]["ratio"] == 1.0
    assert all(row["median_ms"] > 0 for row in rows.values())
    assert all(isinstance(ok, bool) for ok in report["targets"].values())
    assert "| `import kling_studio` |" in import_time.render(report)


def test_a_fresh_interpreter_times_the_statement_only() -> None:
    assert (
        0 <= import_time.time_once("pass") < import_time.time_once("import time; time.sleep(0.05)")
    )
