"""What a person sees of a history record: the status word, the error, the state of the video.

Every view takes it from here: the studio's cards and history rows, the comparison's cells and
table, the CLI's lines and the history's DataFrame. So a completed task whose video link died
reads `completed`, `video_expired` and `expired` everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypedDict

from ..statuses import ShownStatus, Status, shown
from ._records import TaskRecord

VideoState = Literal["saved", "remote", "expired", "failed", "none"]
VIDEO_STATES: Final[tuple[VideoState, ...]] = ("saved", "remote", "expired", "failed", "none")

# Error codes kling-studio gives when FoxAPI gave none (FoxAPI's own codes pass through).
CODE_OUTCOME_UNKNOWN: Final = "create_outcome_unknown"
CODE_VIDEO_EXPIRED: Final = "video_expired"
CODE_DOWNLOAD_FAILED: Final = "download_failed"


class ErrorInfo(TypedDict):
    """An error as the front end receives it (`error` of a card or a comparison cell)."""

    code: str | None
    message: str


@dataclass(frozen=True)
class RecordView:
    """One record as every view shows it."""

    status: ShownStatus
    error_code: str | None
    error_message: str | None
    video: VideoState

    @property
    def error(self) -> ErrorInfo | None:
        """`{code, message}` for the front end, or None when nothing went wrong."""
        if self.error_code is None and self.error_message is None:
            return None
        return {"code": self.error_code, "message": self.error_message or ""}

    def line(self) -> str:
        """`status`, or `status: code: message` (the CLI's words)."""
        parts = [p for p in (self.error_code, self.error_message) if p]
        return ": ".join([self.status, *parts])


def view(record: TaskRecord) -> RecordView:
    """The one translation of a record into what a person sees."""
    code, message = _error(record)
    return RecordView(
        status=shown(record.status), error_code=code, error_message=message, video=_video(record)
    )


def not_started(status: str, message: str | None = None) -> RecordView:
    """A comparison variant without a record: `queued`, `not_sent`, or refused before journalling
    (`failed`, with the reason)."""
    return RecordView(
        status=shown(status),
        error_code="not_sent" if message else None,
        error_message=message,
        video="none",
    )


def _error(record: TaskRecord) -> tuple[str | None, str | None]:
    if record.status == Status.UNKNOWN:
        return CODE_OUTCOME_UNKNOWN, record.unknown_reason or ""
    if record.error_code or record.error_message:
        return record.error_code, record.error_message or ""
    if record.download_error:
        code = CODE_VIDEO_EXPIRED if record.url_expired else CODE_DOWNLOAD_FAILED
        return code, record.download_error
    return None, None


def _video(record: TaskRecord) -> VideoState:
    if record.has_video:
        return "saved"
    if record.url_expired:
        return "expired"
    if record.download_error:
        return "failed"
    if record.video_url:
        return "remote"
    return "none"
