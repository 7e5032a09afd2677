"""A/B comparisons: plan a grid of variants (`_plan`), keep the plan beside the history
(`_planfile`), run it (`_run`), judge it (`_ratings`), table it (`_table`), report it
(`_report`); the measures of its videos beside them (`_measured`), what it showed per axis
(`_summary`); a batch from a table (`_batchtable` reads and checks it, `_batch` runs it as a
comparison)."""

from ._batch import Batch, batch_result, plan_costs, run_batch, wait_batch
from ._batchtable import BatchRow, BatchTable, check_table
from ._blind import BlindView, all_rated, blind_order, blind_view
from ._measured import measured, with_measures
from ._plan import (
    CONFIRM_ABOVE,
    DEFAULT_MAX_CONCURRENCY,
    PARAM_NAMES,
    Grid,
    Variant,
    identity_hash,
    plan_grid,
    variant_label,
)
from ._planfile import Entry, Plan, check_group_id, latest_group_id, load_plan, save_plan
from ._ratings import Summary, rate, summaries, summarise
from ._report import THUMB_MAX_SIDE, export_html, picture_thumbnail, render_html, video_thumbnail
from ._run import Comparison, confirm_problem, count_reusable, reusable, run_grid
from ._summary import AxisSummary, CompareSummary, Level, RatingTest, compare_summary, rating_test
from ._table import compare_df, export_csv, variant_view

__all__ = [
    "CONFIRM_ABOVE",
    "DEFAULT_MAX_CONCURRENCY",
    "PARAM_NAMES",
    "THUMB_MAX_SIDE",
    "AxisSummary",
    "Batch",
    "BatchRow",
    "BatchTable",
    "BlindView",
    "CompareSummary",
    "Comparison",
    "Entry",
    "Grid",
    "Level",
    "Plan",
    "RatingTest",
    "Summary",
    "Variant",
    "all_rated",
    "batch_result",
    "blind_order",
    "blind_view",
    "check_group_id",
    "check_table",
    "compare_df",
    "compare_summary",
    "confirm_problem",
    "count_reusable",
    "export_csv",
    "export_html",
    "identity_hash",
    "latest_group_id",
    "load_plan",
    "measured",
    "picture_thumbnail",
    "plan_costs",
    "plan_grid",
    "rate",
    "rating_test",
    "render_html",
    "reusable",
    "run_batch",
    "run_grid",
    "save_plan",
    "summaries",
    "summarise",
    "variant_label",
    "variant_view",
    "video_thumbnail",
    "wait_batch",
    "with_measures",
]
