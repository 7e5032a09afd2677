"""What a comparison showed, per axis of its grid (the parameters that differ: prompt,
resolution, duration, last frame, ...): each level's mean rating and rating count, the mean of
each measure of its videos, its credits, the best level per measure, and whether the ratings of
the levels differ by more than noise.

The test is a permutation test on the individual ratings (each person's rating of each task at
that level), so it assumes nothing about their distribution (ratings are 1..5, not normal):
with two levels, of the difference in mean rating (two-sided; exact when there are at most
EXACT_MAX ways to split the ratings, else PERMUTATIONS random ones); with more, of the spread of
the level means (the one-way ANOVA F statistic's numerator, between-level sum of squares). It is
only run when every level has at least MIN_RATINGS ratings; `significant` is p < ALPHA.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..history._measures import MEASURE_COLUMNS
from ..history._store import History
from ._measured import measured
from ._planfile import Plan, load_plan
from ._ratings import summaries

if TYPE_CHECKING:
    import pandas as pd

MIN_RATINGS: Final = 3  # per level, before any test is run
ALPHA: Final = 0.05
EXACT_MAX: Final = 20_000
PERMUTATIONS: Final = 10_000
TEST_NAME: Final = "permutation test of the ratings"
# Which way is better for each figure ("max": higher, "min": lower). Motion: more movement is
# better (image-to-video's common failure is a clip that hardly moves).
BETTER: Final[dict[str, str]] = {
    "rating_mean": "max",
    "first_frame_match": "max",
    "last_frame_match": "max",
    "motion": "max",
    "flicker": "min",
    "frozen_share": "min",
    "cuts": "min",
    "sharpness": "max",
    "text_alignment": "max",
    "aesthetic": "max",
    "credits": "min",
}


@dataclass(frozen=True)
class RatingTest:
    """Whether the levels' ratings differ by more than noise."""

    test: str
    statistic: float | None  # two levels: mean difference (first - second); more: between SS
    p_value: float | None
    significant: bool
    enough: bool  # every level had MIN_RATINGS ratings (else nothing was tested)
    exact: bool = False
    note: str = ""


@dataclass(frozen=True)
class Level:
    """One value of an axis and what its variants showed."""

    value: Any
    labels: list[str]
    rating_mean: float | None
    rating_count: int
    raters: int
    measures: dict[str, float | None]
    credits: float | None
    ratings: list[int] = field(repr=False, default_factory=list)


@dataclass(frozen=True)
class AxisSummary:
    """An axis of the grid: its levels, the best level per figure, the test of the ratings."""

    axis: str
    levels: list[Level]
    best: dict[str, Any]  # figure -> the best level's value (None on a tie or no data)
    test: RatingTest


@dataclass(frozen=True)
class CompareSummary:
    """`compare_summary(group_id)`: every axis of the comparison."""

    group_id: str
    title: str
    axes: list[AxisSummary]

    def __getitem__(self, axis: str) -> AxisSummary:
        for each in self.axes:
            if each.axis == axis:
                return each
        raise KeyError(f"{axis!r} is not an axis of this comparison; axes: {self.axis_names}")

    @property
    def axis_names(self) -> list[str]:
        return [a.axis for a in self.axes]

    def df(self) -> pd.DataFrame:
        """A row per (axis, level): ratings, measures, credits, and the axis's test."""
        import pandas as pd

        rows = []
        for each in self.axes:
            for level in each.levels:
                rows.append(
                    {
                        "axis": each.axis,
                        "level": _text(level.value),
                        "variants": ", ".join(level.labels),
                        "rating_mean": level.rating_mean,
                        "rating_count": level.rating_count,
                        **{n: level.measures.get(n) for n in MEASURE_COLUMNS},
                        "credits": level.credits,
                        "best_in": ", ".join(
                            n for n, v in each.best.items() if v is not None and v == level.value
                        ),
                        "p_value": each.test.p_value,
                        "significant": each.test.significant,
                    }
                )
        return pd.DataFrame(rows)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe (the widget's panel)."""
        out = asdict(self)
        for each in out["axes"]:
            for level in each["levels"]:
                level["value"] = _text(level["value"])
                level.pop("ratings", None)
            each["best"] = {k: (None if v is None else _text(v)) for k, v in each["best"].items()}
        return out


def compare_summary(history: History, group_id: str, *, measure: bool = True) -> CompareSummary:
    """Sum up a comparison per axis (see the module's text); measures are taken first for
    any video that has none yet (`measure=False`: only those kept already)."""
    return summarise_plan(history, load_plan(history, group_id), measure=measure)


def summarise_plan(history: History, plan: Plan, *, measure: bool = True) -> CompareSummary:
    """`compare_summary` of a plan in hand (e.g. the comparison on screen)."""
    ids = [e.local_id for e in plan.entries if e.local_id]
    everyone = summaries(history, list[str | None](ids))
    found = measured(history, ids) if measure else history.measures_of(ids)
    records = {i: history.get(i) for i in ids}
    axes = []
    for axis in plan.differing:
        groups: dict[str, list[Any]] = {}
        values: dict[str, Any] = {}
        for entry in plan.entries:
            value = entry.params.get(axis)
            key = _text(value)
            values.setdefault(key, value)
            groups.setdefault(key, []).append(entry)
        levels = []
        for key, entries in groups.items():
            ratings: list[int] = []
            raters: set[str] = set()
            figures: dict[str, list[float]] = {n: [] for n in MEASURE_COLUMNS}
            credits: list[float] = []
            for entry in entries:
                summary = everyone.get(entry.local_id) if entry.local_id else None
                if summary is not None:
                    ratings += summary.by_user.values()
                    raters |= set(summary.by_user)
                for name, number in (found.get(entry.local_id or "") or {}).items():
                    if name in figures and number is not None:
                        figures[name].append(float(number))
                record = records.get(entry.local_id) if entry.local_id else None
                if record is not None and record.credits_reserved is not None:
                    credits.append(float(record.credits_reserved))
            levels.append(
                Level(
                    value=values[key],
                    labels=[e.label for e in entries],
                    rating_mean=_mean(ratings),
                    rating_count=len(ratings),
                    raters=len(raters),
                    measures={n: _mean(v) for n, v in figures.items()},
                    credits=_mean(credits),
                    ratings=ratings,
                )
            )
        axes.append(AxisSummary(axis, levels, _best(levels), rating_test(levels)))
    return CompareSummary(plan.group_id, plan.title, axes)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _figure(level: Level, name: str) -> float | None:
    if name == "rating_mean":
        return level.rating_mean
    if name == "credits":
        return level.credits
    return level.measures.get(name)


def _best(levels: Sequence[Level]) -> dict[str, Any]:
    """The best level's value per figure; None when no level has it or two tie for best."""
    best: dict[str, Any] = {}
    for name, way in BETTER.items():
        scored = [(v, level) for level in levels if (v := _figure(level, name)) is not None]
        if not scored:
            continue
        top = max(v for v, _ in scored) if way == "max" else min(v for v, _ in scored)
        winners = [level for v, level in scored if math.isclose(v, top, rel_tol=1e-9)]
        best[name] = winners[0].value if len(winners) == 1 and len(scored) > 1 else None
    return best


def rating_test(levels: Sequence[Level] | Mapping[str, Sequence[int]]) -> RatingTest:
    """The permutation test of the module's text over each level's ratings."""
    groups = (
        [list(v) for v in levels.values()]
        if isinstance(levels, Mapping)
        else [list(level.ratings) for level in levels]
    )
    if len(groups) < 2:
        return RatingTest(TEST_NAME, None, None, False, False, note="one level only")
    fewest = min(len(g) for g in groups)
    if fewest < MIN_RATINGS:
        return RatingTest(
            TEST_NAME,
            None,
            None,
            False,
            False,
            note=f"not enough ratings: each level needs {MIN_RATINGS} (fewest has {fewest})",
        )
    statistic, p_value, exact = permutation_test(groups)
    return RatingTest(TEST_NAME, statistic, p_value, p_value < ALPHA, True, exact)


def permutation_test(groups: Sequence[Sequence[float]]) -> tuple[float, float, bool]:
    """(statistic, two-sided p-value, exact?) of the permutation test of the module's text."""
    import numpy as np

    pooled = np.array([x for g in groups for x in g], dtype=np.float64)
    sizes = [len(g) for g in groups]
    observed = _statistic(pooled, sizes)
    if len(groups) == 2 and math.comb(len(pooled), sizes[0]) <= EXACT_MAX:
        n, k = len(pooled), sizes[0]
        # Every way to pick the first group's ratings, all at once (at most EXACT_MAX rows).
        picks = np.fromiter(
            itertools.chain.from_iterable(itertools.combinations(range(n), k)), dtype=np.intp
        ).reshape(-1, k)
        first = pooled[picks].sum(axis=1)
        diffs = first / k - (pooled.sum() - first) / (n - k)
        count = int(np.sum(np.abs(diffs) >= abs(observed) - 1e-12))
        return float(observed), count / len(diffs), True
    rng = np.random.default_rng(0)  # the same table gives the same p-value every time
    shuffled = rng.permuted(np.tile(pooled, (PERMUTATIONS, 1)), axis=1)
    values = _statistics(shuffled, sizes)
    hits = int(np.sum(np.abs(values) >= abs(observed) - 1e-12))
    return float(observed), (hits + 1) / (PERMUTATIONS + 1), False


def _statistics(rows: Any, sizes: Sequence[int]) -> Any:
    """`_statistic` of each row of `rows` (one shuffled pooling per row), vectorised."""
    import numpy as np

    bounds = np.cumsum([0, *sizes])
    means = [rows[:, a:b].mean(axis=1) for a, b in itertools.pairwise(bounds)]
    if len(sizes) == 2:
        return means[0] - means[1]
    grand = rows.mean(axis=1)
    return sum(n * (m - grand) ** 2 for n, m in zip(sizes, means, strict=True))


def _statistic(pooled: Any, sizes: Sequence[int]) -> float:
    """Two groups: mean(first) - mean(second); more: the between-level sum of squares."""
    parts = []
    start = 0
    for size in sizes:
        parts.append(pooled[start : start + size])
        start += size
    if len(parts) == 2:
        return float(parts[0].mean() - parts[1].mean())
    grand = float(pooled.mean())
    return float(sum(len(p) * (float(p.mean()) - grand) ** 2 for p in parts))
