"""The benchmarks run and report sane structure (tiny N, fast clock). No timing is asserted."""

from __future__ import annotations

import math

import pytest
from benchmarks.common import (
    format_table,
    parse_policy,
    percentile,
    policy_changes,
    scaled_policy,
)

from benchmarks import overhead, polling
from kling_studio.client._polling import PollPolicy


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)
    assert percentile([5.0], 95) == 5.0
    assert math.isnan(percentile([], 50))


def test_scaled_policy_scales_seconds_not_ratios() -> None:
    policy = scaled_policy(PollPolicy(), 0.1)
    assert policy.tail_max == pytest.approx(PollPolicy().tail_max * 0.1)
    assert policy.min_interval == pytest.approx(0.005)
    assert policy.max_interval == pytest.approx(3.0)
    assert policy.approach == PollPolicy().approach
    assert policy.tail(4.5) == pytest.approx(PollPolicy().tail(45.0) * 0.1)
    assert scaled_policy(PollPolicy(), 1.0) == PollPolicy()


def test_parse_policy_changes_named_fields_only() -> None:
    tuned = parse_policy("approach=0.3, first_look=0.7")
    assert policy_changes(tuned) == {"approach": 0.3, "first_look": 0.7}
    with pytest.raises(ValueError, match="not a PollPolicy field"):
        parse_policy("aproach=0.3")


def test_format_table_is_markdown() -> None:
    table = format_table(["a", "b"], [["x", 1.234], ["y", float("nan")]]).splitlines()
    assert table[0] == "| a | b    |"
    assert table[1] == "|---|------|"
    assert table[2] == "| x | 1.23 |"
    assert table[3].endswith("|    - |")


def test_polling_benchmark_runs_and_reports_every_strategy() -> None:
    tuned = parse_policy("approach=0.3")
    behaviours = ("silent",)  # a curve other than the default, through SimHost
    report = polling.run(behaviours=behaviours, tasks=3, time_scale=0.01, rounds=1, tuned=tuned)
    names = [s.name for s in polling.default_strategies(tuned)]
    assert list(report["behaviours"]) == list(behaviours)
    for entry in report["behaviours"].values():
        assert list(entry["strategies"]) == names
        assert set(entry["targets"]) == {"ours (default PollPolicy)", "ours (tuned)"}
        for row in entry["strategies"].values():
            assert row["tasks"] == row["completed"] == 3
            assert row["gets_mean"] >= 1
            assert 0 <= row["delay_p50_s"] <= row["delay_p95_s"] <= row["delay_max_s"]
            assert row["get_reduction_vs_1s"] > 0
            assert row["get_latency_p50_ms"] > 0
        assert entry["strategies"]["fixed 1 s"]["get_reduction_vs_1s"] == 1.0
        for target in entry["targets"].values():
            assert set(target) == {"get_reduction_vs_1s", "delay_p95"}
            assert all(isinstance(ok, bool) for ok in target.values())
    tasks = report["tasks"]
    assert len(tasks) == 3 * len(names) * len(behaviours)
    for task in tasks:
        assert isinstance(task["gets"], int) and task["gets"] >= 1
        assert task["status"] == "completed"
        assert task["delay"] >= 0
        assert task["duration"] > 0
    # The same seed gives every strategy the same true durations, on each curve.
    for behaviour in behaviours:
        planned = {
            name: sorted(
                t["planned"] for t in tasks if (t["behaviour"], t["strategy"]) == (behaviour, name)
            )
            for name in names
        }
        assert all(durations == planned[names[0]] for durations in planned.values())
    text = polling.render(report)
    assert "| behaviour" in text and "fewer GETs than 1 s" in text and "webhook: fewer" in text
    assert report["config"]["tuned"] == {"approach": 0.3}


def test_overhead_benchmark_runs_against_both_servers() -> None:
    report = overhead.run(requests=5, rounds=2)
    assert set(report["servers"]) == {"simulator", "fixed JSON"}
    for server in report["servers"].values():
        assert server["requests_per_side"] == 10
        assert server["client_median_s"] > 0 and server["raw_median_s"] > 0
        assert server["ratio"] > 0
        assert server["round_ratio_min"] <= server["round_ratio_median"]
        assert server["round_ratio_median"] <= server["round_ratio_max"]
    assert all(isinstance(ok, bool) for ok in report["targets"].values())
    assert "| server" in overhead.render(report)


def test_polling_offline_model_runs_on_a_virtual_clock() -> None:
    report = polling.run_offline(tasks=50, mix=True, rtt=0.02)
    assert report["config"]["mode"] == "offline"
    assert list(report["behaviours"]) == list(polling.BEHAVIOURS)
    for entry in report["behaviours"].values():
        assert all(row["tasks"] == row["completed"] == 50 for row in entry["strategies"].values())
    for task in report["tasks"]:
        assert isinstance(task["gets"], int) and task["gets"] >= 1
        assert task["delay"] >= 0
        if task["strategy"] == "fixed 1 s":  # a 1 s grid notices within 1 s and one round trip
            assert task["delay"] <= 1.0 + 0.02 + 1e-9
    # The same seed gives every strategy the same true durations here too.
    tasks = report["tasks"]
    for behaviour in polling.BEHAVIOURS:
        mine = [t for t in tasks if t["behaviour"] == behaviour]
        durations = {
            s: tuple(sorted(t["planned"] for t in mine if t["strategy"] == s))
            for s in {t["strategy"] for t in mine}
        }
        assert len(set(durations.values())) == 1
