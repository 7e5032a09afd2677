"""The ledger: what each task counts against a budget, and spend tables by day, user, settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final, Literal

from .. import contract as c

if TYPE_CHECKING:
    import pandas as pd

#: Statuses whose create provably made no task: nothing was reserved.
NOT_BILLED: Final = frozenset({"rejected"})
#: Results made on this machine and never sent (a stitch's model is "kling-studio/stitch").
LOCAL_MODEL_PREFIX: Final = "kling-studio/"

By = Literal["day", "user", "settings"]
BY: Final = ("day", "user", "settings")


def task_cost(
    status: str,
    credits_reserved: float | None,
    credits_estimate: float | None,
    unknown_task_credits: float,
) -> float:
    """Credits one journalled task counts for: FoxAPI's figure when it came, else the estimate
    made before sending, else the budget's stated default. Decided here once."""
    if status in NOT_BILLED:
        return 0.0
    if status == "failed" and c.FAILED_TASKS_REFUNDED:
        return 0.0
    if credits_reserved is not None:
        return float(credits_reserved)
    if credits_estimate is not None:
        return float(credits_estimate)
    return float(unknown_task_credits)


def spend_frame(
    rows: Iterable[Mapping[str, Any]],
    by: By | tuple[By, ...] = ("day", "user"),
    zone: tzinfo = UTC,
) -> pd.DataFrame:
    """One row per group: tasks, credits FoxAPI reported, credits still estimated. A `day` is
    a calendar day in `zone` (the history's budget zone: the day its budgets count).

    `rows` carry `submitted_at` (aware datetime), `user`, `status`, `credits_reserved`,
    `credits_estimate` and the billing settings (`settings`, a text)."""
    import pandas as pd

    keys = (by,) if isinstance(by, str) else tuple(by)
    bad = [k for k in keys if k not in BY]
    if bad:
        raise ValueError(f"spend can be grouped by {', '.join(BY)}; got {', '.join(bad)}")
    table = []
    for row in rows:
        status = str(row["status"])
        if status in NOT_BILLED:
            continue
        reported = row.get("credits_reserved")
        submitted: datetime = row["submitted_at"]
        table.append(
            {
                "day": submitted.astimezone(zone).date().isoformat(),
                "user": row.get("user") or "",
                "settings": row.get("settings") or "",
                "tasks": 1,
                "credits": float(reported) if reported is not None else 0.0,
                "estimated": 0.0
                if reported is not None
                else float(row.get("credits_estimate") or 0.0),
                "unreported": 0 if reported is not None else 1,
            }
        )
    columns = [*keys, "tasks", "credits", "estimated", "unreported"]
    if not table:
        empty = pd.DataFrame({k: pd.Series(dtype="string") for k in keys})
        for name, dtype in (
            ("tasks", "int64"),
            ("credits", "float64"),
            ("estimated", "float64"),
            ("unreported", "int64"),
        ):
            empty[name] = pd.Series(dtype=dtype)
        return empty[columns]
    df = pd.DataFrame(table)
    out = df.groupby(list(keys), sort=True, as_index=False)[
        ["tasks", "credits", "estimated", "unreported"]
    ].sum()
    for k in keys:
        out[k] = out[k].astype("string")
    return out[columns]
