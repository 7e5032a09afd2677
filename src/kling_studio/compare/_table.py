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


from ._planfile import Entry, load_plan
from ._run import Comparison

log = logging.getLogger("kling_studio")

# --- the table --------------------------------------------------------------------------------


def compare_df(
    history: History, group_id: str, *, comparison: Comparison | None = None
) -> pd.DataFrame:
    """A row per variant: label, the differing parameters, status, timings, judgement, ids."""
    import pandas as pd

    if comparison is None or comparison.group_id != group_id:
        comparison = Comparison(history, load_plan(history, group_id))
    plan = comparison.plan
    rows = []
    for entry in plan.entries:
        record = history.get(entry.local_id) if entry.local_id else None
        seen = variant_view(comparison, entry, record)
        row: dict[str, Any] = {"label": entry.label}
        for name in plan.differing:
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
            "error_code": seen.error_code,
            "error_message": seen.error_message,
            "video": seen.video,
            "local_id": entry.local_id,
            "task_id": record.task_id if record else None,
            "video_path": str(record.video_path) if record and record.has_video else None,
            "request_hash": entry.hash,
        }
        rows.append(row)
    df = pd.DataFrame(rows, columns=["label", *plan.differing, *_COLUMN_DTYPES])
    for name, dtype in _COLUMN_DTYPES.items():
        if dtype == "datetime64[us, UTC]":
            df[name] = pd.to_datetime(df[name], utc=True).astype(dtype)  # type: ignore[call-overload]
        else:
            df[name] = df[name].astype(dtype)  # type: ignore[call-overload]
    df["label"] = df["label"].astype("string")
    return df


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
    "error_code": "string",
    "error_message": "string",
    "video": "string",
    "local_id": "string",
    "task_id": "string",
    "video_path": "string",
    "request_hash": "string",
}


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
) -> Path:
    """compare_df as CSV (written through a temporary file)."""
    df = compare_df(history, group_id, comparison=comparison)
    return write_frame(df, Path(path).expanduser(), "csv")
