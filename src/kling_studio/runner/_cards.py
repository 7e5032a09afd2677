"""What the runner knows of each task it drives, and the small card it shows of it (the
widget's TaskCard, docs/widget-protocol.md)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from ..history._records import TaskRecord
from ..history._view import view
from ..media._posters import poster_data_url
from ._journal import HeldWrites

CARD_PROMPT_CHARS = 200


@dataclass
class Live:
    """What the runner knows of one task it is driving, for cards between history writes."""

    local_id: str
    prompt: str
    settings: dict[str, Any]
    status: str = "submitting"
    task_id: str | None = None
    progress: int = 0
    submitted: float = field(default_factory=time.time)
    started_mono: float = field(default_factory=time.monotonic)
    estimate: float | None = None
    error: dict[str, Any] | None = None
    has_video: bool = False
    poster: str | None = None  # a data: URL of the video's small JPEG poster
    finished: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    answered: asyncio.Event = field(default_factory=asyncio.Event)  # the create's outcome is in
    sent: bool = False  # the create left: from now on the task may exist and be paid for
    held: HeldWrites = field(default_factory=HeldWrites)  # history writes not taken yet

    def card(self) -> dict[str, Any]:
        """The widget's TaskCard (docs/widget-protocol.md): small, whatever the history size."""
        elapsed = (self.finished or time.time()) - self.submitted
        return {
            "local_id": self.local_id,
            "task_id": self.task_id,
            "status": self.status,
            "progress": self.progress,
            "prompt": self.prompt[:CARD_PROMPT_CHARS],
            "created": self.submitted,
            "elapsed": round(elapsed, 2),
            "remaining": self.remaining(elapsed),
            "error": self.error or self.held.error,
            "has_video": self.has_video,
            "poster": self.poster,
            "settings": self.settings,
        }

    def remaining(self, elapsed: float) -> float | None:
        if self.status not in ("pending", "processing"):
            return None
        if 0 < self.progress < 100:
            return round(elapsed * (100 - self.progress) / self.progress, 1)
        if self.estimate is not None:
            return round(max(0.0, self.estimate - elapsed), 1)
        return None


def live_from_record(record: TaskRecord) -> Live:
    """What the history knows of a task, as the runner's in-memory view of it."""
    seen = view(record)
    return Live(
        local_id=record.local_id,
        prompt=record.prompt,
        settings=settings_of(record.resolution, record.duration, record.generate_audio),
        status=seen.status,
        task_id=record.task_id,
        progress=record.progress,
        submitted=record.submitted_at.timestamp(),
        estimate=record.estimated_time,
        error=dict(seen.error) if seen.error else None,
        has_video=record.has_video,
        poster=poster_data_url(record.video_path) if record.has_video else None,
        finished=record.finished_at.timestamp() if record.finished_at else None,
    )


def card_from_record(record: TaskRecord) -> dict[str, Any]:
    """A card for a task the runner is not driving (from an earlier session)."""
    return live_from_record(record).card()


def settings_of(resolution: str | None, duration: int | None, audio: bool | None) -> dict[str, Any]:
    return {"resolution": resolution, "duration": duration, "generate_audio": bool(audio)}


def error_text(live: Live) -> str:
    return (live.error or {}).get("message") or "the task failed before it was sent"
