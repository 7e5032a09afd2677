"""The history's record of one task, how its status moves, and its typed table form.

The statuses are `statuses.Status` (their order is the categorical order of `History.df()`).
Final (`TERMINAL`) records never change status again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .. import contract as c
from .._files import atomic_path
from ..media._posters import poster_path_for
from ..statuses import ACTIVE as _ACTIVE
from ..statuses import RECORD_STATUSES, Status
from ..statuses import SERVER_STATUSES as _SERVER
from ..statuses import TERMINAL as _TERMINAL

if TYPE_CHECKING:
    import pandas as pd

# The history's words (statuses.py holds the one vocabulary; these names are for the store).
STATUSES: Final = tuple(str(s) for s in RECORD_STATUSES)
SERVER_STATUSES: Final = frozenset(str(s) for s in _SERVER)
TERMINAL: Final = frozenset(str(s) for s in _TERMINAL)
ACTIVE: Final = frozenset(str(s) for s in _ACTIVE)
STITCHED_FROM: Final = "stitched_from"  # the `variant` key listing a stitched video's parts
# Progress order among the live statuses: a late answer never moves a record backwards.
_RANK: Final[dict[str, int]] = {
    Status.SUBMITTING: 0,
    Status.UNKNOWN: 0,
    Status.PENDING: 1,
    Status.PROCESSING: 2,
}


def server_status(status: str, progress: int) -> str:
    """Our status for what FoxAPI said; a word outside the contract means "still working"."""
    status = status.lower()
    if status in SERVER_STATUSES:
        return status
    return str(Status.PROCESSING if progress > 0 else Status.PENDING)


def next_status(current: str, reported: str) -> str:
    """The status to keep when `reported` arrives for a record that is `current`."""
    if current in TERMINAL:
        return current
    if reported in TERMINAL:
        return reported
    return reported if _RANK.get(reported, 0) >= _RANK.get(current, 0) else current


def check_statuses(status: str | list[str] | tuple[str, ...]) -> list[str]:
    """The statuses of a filter, refusing a misspelt one (it would silently match nothing)."""
    wanted = [status] if isinstance(status, str) else list(status)
    bad = [s for s in wanted if s not in STATUSES]
    if bad:
        raise ValueError(f"unknown status {', '.join(map(repr, bad))}; use {', '.join(STATUSES)}")
    return wanted


@dataclass(frozen=True)
class TaskRecord:
    """One task as the history knows it. Times are timezone-aware UTC datetimes."""

    local_id: str
    task_id: str | None
    status: str
    progress: int
    prompt: str
    negative_prompt: str | None
    resolution: str
    duration: int
    generate_audio: bool
    model: str
    request: dict[str, Any]
    payload: dict[str, Any]
    request_hash: str
    submitted_at: datetime
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    estimated_time: float | None
    credits_reserved: float | None
    video_url: str | None
    video_path: Path | None
    download_error: str | None
    url_expired: bool
    download_attempts: int
    error_code: str | None
    error_type: str | None
    error_message: str | None
    unknown_reason: str | None
    group_id: str | None
    variant: dict[str, Any] | None
    # The judgement of the History's user (History(user=...)); everyone's:
    # `History.judgements()` and `compare_df()`.
    rating: int | None
    winner: bool | None
    note: str | None
    raw: dict[str, Any] | None
    user: str | None = None  # who made it (History(user=...), see config.resolve_user)
    # The video store holds the video (history/_blobs.py): `video_file()` fetches it on first
    # play, on any member's machine.
    video_stored: bool = False
    # Why the store has not taken the video yet (it was down or refused the credentials): the
    # video waits on the machine that saved it, which uploads it when the store answers.
    store_error: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == "completed"

    @property
    def has_video(self) -> bool:
        return self.video_path is not None and self.video_path.is_file()

    @property
    def poster_path(self) -> Path | None:
        """The small JPEG poster beside the video (None until one exists; `media.ensure_poster`
        makes a missing one)."""
        if self.video_path is None:
            return None
        path = poster_path_for(self.video_path)
        return path if path.is_file() else None

    @property
    def stitched_from(self) -> list[str] | None:
        """The local ids of the clips a stitched video was joined from (None for a task)."""
        parts = (self.variant or {}).get(STITCHED_FROM)
        return [str(p) for p in parts] if isinstance(parts, list) else None

    @property
    def image(self) -> str:
        return str(self.request.get("image") or "")

    @property
    def image_tail(self) -> str | None:
        return self.request.get("image_tail") or None

    @property
    def elapsed(self) -> float:
        """Seconds from submit to finish; to now while live; to the last news when `unknown`."""
        if self.finished_at is not None:
            end = self.finished_at
        elif self.status in ACTIVE:
            end = datetime.now(tz=UTC)
        else:
            end = self.updated_at
        return max(0.0, (end - self.submitted_at).total_seconds())

    @property
    def queue_seconds(self) -> float | None:
        """Submit to the first `processing` seen (None if it was never seen processing)."""
        return _seconds(self.submitted_at, self.started_at)

    @property
    def run_seconds(self) -> float | None:
        """First `processing` seen to the end."""
        return _seconds(self.started_at, self.finished_at)

    @property
    def url_expires_at(self) -> datetime | None:
        """When FoxAPI's result URL stops working (24 hours after the task finished)."""
        if self.video_url is None or self.finished_at is None:
            return None
        return self.finished_at + timedelta(seconds=c.RESULT_URL_LIFETIME_S)

    def to_row(self) -> dict[str, Any]:
        """Every field, JSON-safe: datetimes as ISO 8601 UTC text, paths as text."""
        row: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Path):
                value = str(value)
            row[f.name] = value
        row["elapsed"] = self.elapsed
        row["queue_seconds"] = self.queue_seconds
        row["run_seconds"] = self.run_seconds
        return row


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


# --- The table form (History.df) ------------------------------------------------------------

# The measures of the video (history/_measures.py), <NA> until it is measured.
MEASURE_DTYPES: Final[dict[str, str]] = {
    "first_frame_match": "float64",
    "last_frame_match": "float64",
    "motion": "float64",
    "flicker": "float64",
    "frozen_share": "float64",
    "cuts": "Int64",
    "sharpness": "float64",
    "text_alignment": "float64",
    "aesthetic": "float64",
}

# Column -> dtype. "string" is pandas' nullable text; Int64/boolean are nullable too.
DATETIME: Final = "datetime64[us, UTC]"
FRAME_DTYPES: Final[dict[str, str]] = {
    "local_id": "string",
    "task_id": "string",
    "user": "string",
    "status": "category",  # CategoricalDtype(STATUSES, ordered=True), see frame()
    "shown_status": "string",  # what a person sees (history._view), as in every other view
    "progress": "Int64",
    "model": "string",
    "prompt": "string",
    "negative_prompt": "string",
    "resolution": "string",
    "duration": "Int64",
    "generate_audio": "bool",
    "image": "string",
    "image_tail": "string",
    "submitted_at": DATETIME,
    "created_at": DATETIME,
    "started_at": DATETIME,
    "finished_at": DATETIME,
    "updated_at": DATETIME,
    "elapsed": "float64",
    "queue_seconds": "float64",
    "run_seconds": "float64",
    "estimated_time": "float64",
    "credits_reserved": "float64",
    "video_url": "string",
    "video_path": "string",
    "download_error": "string",
    "url_expired": "bool",
    "video": "string",  # history._view.VideoState
    "error_code": "string",
    "error_message": "string",
    "unknown_reason": "string",
    "request_hash": "string",
    "group_id": "string",
    "variant": "string",  # JSON text, so that every export format can hold it
    "rating": "Int64",
    "winner": "boolean",
    "note": "string",
    **MEASURE_DTYPES,
}


def status_dtype() -> pd.CategoricalDtype:
    import pandas as pd

    return pd.CategoricalDtype(categories=list(STATUSES), ordered=True)


def frame(
    records: list[TaskRecord], measures: dict[str, dict[str, Any]] | None = None
) -> pd.DataFrame:
    """Records as a typed DataFrame (columns and dtypes: FRAME_DTYPES), one row per task, with
    the measures of their videos when given (by local id; `History.measures_of`)."""
    import pandas as pd

    found = measures or {}
    rows = [_frame_row(r) | _measure_cells(found.get(r.local_id)) for r in records]
    df = pd.DataFrame(rows, columns=list(FRAME_DTYPES))
    for name, dtype in FRAME_DTYPES.items():
        if name == "status":
            df[name] = df[name].astype(status_dtype())
        elif dtype == DATETIME:
            df[name] = pd.to_datetime(df[name], utc=True).astype(DATETIME)
        else:
            df[name] = df[name].astype(dtype)  # type: ignore[call-overload]
    return df


def _measure_cells(stored: dict[str, Any] | None) -> dict[str, Any]:
    return {name: (stored or {}).get(name) for name in MEASURE_DTYPES}


def _frame_row(r: TaskRecord) -> dict[str, Any]:
    from ._view import view  # _view imports this module

    seen = view(r)
    return {
        "local_id": r.local_id,
        "task_id": r.task_id,
        "user": r.user,
        "status": r.status,
        "shown_status": str(seen.status),
        "progress": r.progress,
        "model": r.model,
        "prompt": r.prompt,
        "negative_prompt": r.negative_prompt,
        "resolution": r.resolution,
        "duration": r.duration,
        "generate_audio": r.generate_audio,
        "image": r.image,
        "image_tail": r.image_tail,
        "submitted_at": r.submitted_at,
        "created_at": r.created_at,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "updated_at": r.updated_at,
        "elapsed": r.elapsed,
        "queue_seconds": r.queue_seconds,
        "run_seconds": r.run_seconds,
        "estimated_time": r.estimated_time,
        "credits_reserved": r.credits_reserved,
        "video_url": r.video_url,
        "video_path": str(r.video_path) if r.video_path is not None else None,
        "download_error": r.download_error,
        "url_expired": r.url_expired,
        "video": seen.video,
        "error_code": seen.error_code,
        "error_message": seen.error_message,
        "unknown_reason": r.unknown_reason,
        "request_hash": r.request_hash,
        "group_id": r.group_id,
        "variant": json.dumps(r.variant, ensure_ascii=False) if r.variant is not None else None,
        "rating": r.rating,
        "winner": r.winner,
        "note": r.note,
    }


EXPORT_FORMATS: Final = {"csv": "csv", "parquet": "parquet", "pq": "parquet", "json": "json"}


def write_frame(df: pd.DataFrame, path: Path, format: str | None = None) -> Path:
    """Write a frame as CSV, Parquet or JSON records (ISO dates) through a temporary file, so a
    failed export never leaves a half-written file under the final name."""
    key = (format or path.suffix).lower().lstrip(".")
    kind = EXPORT_FORMATS.get(key)
    if kind is None:
        raise ValueError(
            f"cannot export to {key or 'a file without extension'!r}: use .csv, .parquet or .json "
            "(or pass format=)"
        )
    with atomic_path(path) as part:
        if kind == "csv":
            df.to_csv(part, index=False)
        elif kind == "parquet":
            df.to_parquet(part, index=False, engine="pyarrow")
        else:
            df.to_json(part, orient="records", date_format="iso", date_unit="us", force_ascii=False)
    return path
