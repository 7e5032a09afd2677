"""compare_summary: per axis of a grid, each level's ratings, measures and credits, the best
level per figure, and the permutation test of the ratings (exact p-values checked by hand)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kling_studio import AsyncClient
from kling_studio import compare as cmp
from kling_studio.compare._summary import permutation_test
from kling_studio.history._store import History
from kling_studio.runner import Runner

from .test_compare import base
from .test_judging_together import parts  # noqa: F401 (ada's runner on a SQLite history)


def test_two_levels_get_the_exact_two_sided_p_value() -> None:
    # 4 fives against 4 ones: only 2 of the C(8,4) = 70 splits are as extreme.
    statistic, p, exact = permutation_test([[5, 5, 5, 5], [1, 1, 1, 1]])
    assert exact and statistic == 4.0 and p == pytest.approx(2 / 70)
    # 3 against 3 can never get below 2 / C(6,3) = 0.1: enough raters to test, not to tell.
    result = cmp.rating_test({"a": [5, 5, 5], "b": [1, 1, 1]})
    assert result.enough and result.p_value == pytest.approx(0.1) and not result.significant
    same = cmp.rating_test({"a": [3, 4, 2, 5], "b": [5, 2, 4, 3]})
    assert same.enough and same.p_value == pytest.approx(1.0) and not same.significant


def test_too_few_ratings_are_not_tested() -> None:
    result = cmp.rating_test({"a": [5, 5], "b": [1, 1, 1, 1]})
    assert not result.enough and result.p_value is None and not result.significant
    assert "each level needs 3" in result.note


def test_three_levels_use_the_spread_of_their_means_reproducibly() -> None:
    groups = {"a": [5, 5, 4, 5, 5], "b": [1, 2, 1, 1, 2], "c": [3, 3, 3, 2, 3]}
    first, again = cmp.rating_test(groups), cmp.rating_test(groups)
    assert first.p_value == again.p_value  # a fixed seed: the same table, the same answer
    assert first.significant and first.p_value is not None and first.p_value < 0.01
    flat = cmp.rating_test({"a": [3, 4, 3], "b": [4, 3, 3], "c": [3, 3, 4]})
    assert not flat.significant


async def test_a_summary_per_axis_with_ratings_measures_credits_and_the_test(
    parts: tuple[Runner, AsyncClient],  # noqa: F811
    tmp_path: Path,
) -> None:
    runner, client = parts
    grid = cmp.plan_grid(base(), prompts=["a calm lake", "a stormy sea"], durations=[5, 10])
    comparison = await cmp.run_grid(runner, client, grid)
    await asyncio.wait_for(comparison.wait(), 60)
    # Four raters: every ten-second clip 5 or 4, every five-second clip 1 or 2.
    for user in ("ada", "bob", "cy", "dee"):
        with History(tmp_path / "h.sqlite3", user=user) as history:
            for entry in comparison.entries:
                long = entry.params["duration"] == 10
                rating = (5 if user < "c" else 4) if long else (1 if user < "c" else 2)
                cmp.rate(history, entry.local_id or "", rating=rating)

    summary = cmp.compare_summary(runner.history, comparison.group_id)
    assert summary.axis_names == ["prompt", "duration"]
    duration = summary["duration"]
    five, ten = duration.levels
    assert (five.value, ten.value) == (5, 10)
    assert five.rating_count == ten.rating_count == 8 and ten.raters == 4
    assert ten.rating_mean == pytest.approx(4.5) and five.rating_mean == pytest.approx(1.5)
    assert duration.best["rating_mean"] == 10
    assert duration.test.enough and duration.test.significant
    assert duration.test.p_value is not None and duration.test.p_value < 0.01
    prompt = summary["prompt"]
    assert prompt.test.enough and not prompt.test.significant  # each prompt got the same mix
    assert prompt.best["rating_mean"] is None  # a tie names no best level
    for level in (*duration.levels, *prompt.levels):
        assert level.measures["motion"] is not None and level.measures["flicker"] is not None
        assert level.credits is not None and level.credits > 0
    # Ten seconds reserve more credits than five: the cheaper level is the best on credits.
    assert ten.credits is not None and five.credits is not None and ten.credits > five.credits
    assert duration.best["credits"] == 5

    table = summary.df()
    assert list(table["axis"]) == ["prompt", "prompt", "duration", "duration"]
    assert "rating_mean" in str(table.loc[table["level"] == "10", "best_in"].iloc[0])
    as_json = summary.to_json()
    assert as_json["axes"][1]["best"]["rating_mean"] == "10"


async def test_a_summary_with_one_rater_says_it_cannot_tell(
    parts: tuple[Runner, AsyncClient],  # noqa: F811
) -> None:
    runner, client = parts
    comparison = await cmp.run_grid(runner, client, cmp.plan_grid(base(), durations=[5, 10]))
    await asyncio.wait_for(comparison.wait(), 60)
    a, b = (e.local_id or "" for e in comparison.entries)
    cmp.rate(runner.history, a, rating=5)
    cmp.rate(runner.history, b, rating=1)
    test = cmp.compare_summary(runner.history, comparison.group_id)["duration"].test
    assert not test.enough and not test.significant and test.p_value is None
