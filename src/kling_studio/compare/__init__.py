"""A/B comparisons: plan a grid of variants, run it, rate the results, table and report them."""

from ._core import (
    Comparison,
    Grid,
    Plan,
    Variant,
    compare_df,
    export_csv,
    export_html,
    load_plan,
    plan_grid,
    rate,
    render_html,
    run_grid,
)

__all__ = [
    "Comparison",
    "Grid",
    "Plan",
    "Variant",
    "compare_df",
    "export_csv",
    "export_html",
    "load_plan",
    "plan_grid",
    "rate",
    "render_html",
    "run_grid",
]
