"""A comparison as a DataFrame (and CSV): a row per variant."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..history._records import TaskRecord, write_frame
from ..history._store import History
from ..history._view import RecordView, not_started, view

if TYPE_CHECKING:
    import pandas as pd


from ._blind import blind_view
from ._measured import with_measures
from ._planfile import Entry, load_plan
from ._ratings import summaries
from ._run import Comparison

log = logging.getLogger("kling_studio")

# --- the table --------------------------------------------------------------------------------


def compare_df(
    history: History,
    group_id: str,
    *,
    comparison: Comparison | None = None,
    blind: bool = False,
) -> pd.DataFrame:
    """A row per variant: label, the differing parameters, status, timings, judgements, ids.

    Judgements: `rating`, `winner`, `note` are the current user's (`history.user`);
    `rating_mean` and `rating_count` sum up everyone's ratings; then one `rating_by_<user>`
    column per person who rated any variant (alphabetical, Int64, <NA> where they did not rate
    it). The `rating_by_` namespace holds only raters, so no user name (not even "mean" or
    "count") can land on a computed column.

    Then a column per measure of the video (`first_frame_match` ... `sharpness`, see
    docs/measures.md; measured now if it was saved before measures existed).

    `blind=True`: until the current user has rated every variant, the rows come in an order of
    their own for this user and comparison, `label` is a neutral A, B, ... in that order, and
    the parameter columns are left out (see `_blind.py`); once all are rated, the plain table.
    """
    import pandas as pd

    if comparison is None or comparison.group_id != group_id:
        comparison = Comparison(history, load_plan(history, group_id))
    plan = comparison.plan
    records = {e.local_id: history.get(e.local_id) for e in plan.entries if e.local_id}
    shown = blind_view(
        plan.entries, records, user=history.user, group_id=plan.group_id, blind=blind
    )
    differing = plan.differing if shown.revealed else []
    everyone = summaries(history, [e.local_id for e in plan.entries])
    raters = sorted({user for s in everyone.values() for user in s.by_user})
    rows = []
    for entry in shown.entries:
        record = records.get(entry.local_id) if entry.local_id else None
        summary = everyone.get(entry.local_id) if entry.local_id else None
        seen = variant_view(comparison, entry, record)
        row: dict[str, Any] = {"label": shown.labels[entry.label]}
        for name in differing:
            value = entry.params.get(name)
            row[name] = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value
        row |= {
            "status": seen.status,
            "reused": entry.reused,
            "progress": record.progress if record else 0,
            "submitted_at": record.submitted_at if record else None,
            "finished_at": record.finished_at if record else None,
            "elapsed": record.elapsed if record else None,
            "queue_seconds": record.queue_seconds if record else None,
            "run_seconds": record.run_seconds if record else None,
            "rating": record.rating if record else None,
            "winner": bool(record.winner) if record else False,
            "note": (record.note or "") if record else "",
            "rating_mean": summary.mean if summary else None,
            "rating_count": summary.count if summary else 0,
            "error_code": seen.error_code,
            "error_message": seen.error_message,
            "video": seen.video,
            "local_id": entry.local_id,
            "task_id": record.task_id if record else None,
            "video_path": str(record.video_path) if record and record.has_video else None,
            "request_hash": entry.hash,
        }
        for user in raters:
            row[rater_column(user)] = summary.by_user.get(user) if summary else None
        rows.append(row)
    per_rater = {rater_column(user): "Int64" for user in raters}
    dtypes = _COLUMN_DTYPES | per_rater
    df = pd.DataFrame(rows, columns=["label", *differing, *dtypes])
    for name, dtype in dtypes.items():
        if dtype == "datetime64[us, UTC]":
            df[name] = pd.to_datetime(df[name], utc=True).astype(dtype)  # type: ignore[call-overload]
        else:
            df[name] = df[name].astype(dtype)  # type: ignore[call-overload]
    df["label"] = df["label"].astype("string")
    return with_measures(df, history)


_COLUMN_DTYPES: Final[dict[str, str]] = {
    "status": "string",
    "reused": "bool",
    "progress": "Int64",
    "submitted_at": "datetime64[us, UTC]",
    "finished_at": "datetime64[us, UTC]",
    "elapsed": "float64",
    "queue_seconds": "float64",
    "run_seconds": "float64",
    "rating": "Int64",
    "winner": "bool",
    "note": "string",
    "rating_mean": "float64",
    "rating_count": "Int64",
    "error_code": "string",
    "error_message": "string",
    "video": "string",
    "local_id": "string",
    "task_id": "string",
    "video_path": "string",
    "request_hash": "string",
}


RATER_PREFIX: Final = "rating_by_"  # per-rater columns; no computed column starts with it


def rater_column(user: str) -> str:
    """The column of one rater's ratings in `compare_df` (and its CSV)."""
    return f"{RATER_PREFIX}{user}"


def variant_view(comparison: Comparison, entry: Entry, record: TaskRecord | None) -> RecordView:
    """A variant as its cell and its row show it: its record's view (`history._view`), or
    `queued` / `not_sent` / `failed` for a variant that has no record (yet)."""
    if record is None:
        return not_started(comparison.status(entry), comparison.error(entry))
    return view(record)


def export_csv(
    history: History,
    group_id: str,
    path: str | os.PathLike[str],
    *,
    comparison: Comparison | None = None,
    blind: bool = False,
) -> Path:
    """compare_df as CSV (written through a temporary file)."""
    target = history.refuse_owned_path(path, "comparison table")
    df = compare_df(history, group_id, comparison=comparison, blind=blind)
    return write_frame(df, target, "csv")
