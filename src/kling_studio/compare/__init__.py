"""A/B comparisons: plan a grid of variants (`_plan`), keep the plan beside the history
(`_planfile`), run it (`_run`), judge it (`_ratings`), table it (`_table`), report it
(`_report`)."""

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
from ._ratings import rate
from ._report import THUMB_MAX_SIDE, export_html, picture_thumbnail, render_html, video_thumbnail
from ._run import Comparison, confirm_problem, count_reusable, reusable, run_grid
from ._table import compare_df, export_csv, variant_view

__all__ = [
    "CONFIRM_ABOVE",
    "DEFAULT_MAX_CONCURRENCY",
    "PARAM_NAMES",
    "THUMB_MAX_SIDE",
    "Comparison",
    "Entry",
    "Grid",
    "Plan",
    "Variant",
    "check_group_id",
    "compare_df",
    "confirm_problem",
    "count_reusable",
    "export_csv",
    "export_html",
    "identity_hash",
    "latest_group_id",
    "load_plan",
    "picture_thumbnail",
    "plan_grid",
    "rate",
    "render_html",
    "reusable",
    "run_grid",
    "save_plan",
    "variant_label",
    "variant_view",
    "video_thumbnail",
]
