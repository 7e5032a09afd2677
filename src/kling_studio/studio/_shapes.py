"""The shapes the studio sends to its front end: the form, picture info, history rows."""

from __future__ import annotations

import base64
from typing import Any

from .. import contract as c
from ..errors import InputError
from ..history._records import TaskRecord
from ..models import VideoRequest
from ..pictures import Picture

VIDEO_CHUNK_BYTES = 4 * 1024 * 1024  # Tornado drops websocket messages over 10 MB
SLOTS = ("image", "image_tail")
FORM_FIELDS = (
    "prompt",
    "negative_prompt",
    "resolution",
    "duration",
    "generate_audio",
    "voice_ids",
    "multi_prompt",
)


def default_form() -> dict[str, Any]:
    return {
        "prompt": "",
        "negative_prompt": "",
        "resolution": c.DEFAULT_RESOLUTION,
        "duration": c.DEFAULT_DURATION,
        "generate_audio": False,
        "voice_ids": [],
        "multi_prompt": [],
    }


def check_slot(slot: str) -> None:
    if slot not in SLOTS:
        raise InputError(f"slot must be one of {SLOTS}", field="slot")


def picture_info(pic: Picture, slot: str, url: str | None = None) -> dict[str, Any]:
    """PictureInfo for the front end: size, format, a small thumb, and the broken rules."""
    try:
        thumb = "data:image/jpeg;base64," + base64.b64encode(pic.thumbnail_jpeg()).decode()
    except Exception:  # a picture Pillow can identify but not decode: no thumb
        thumb = None
    return {
        "name": pic.name,
        "source": "url" if url else "file",
        "url": url,
        "width": pic.width,
        "height": pic.height,
        "size": pic.size,
        "format": pic.format,
        "thumb": thumb,
        "problems": [p.message for p in pic.problems(slot)],
    }


def url_picture_info(url: str, slot: str) -> dict[str, Any]:
    return {
        "name": url.rsplit("/", 1)[-1],
        "source": "url",
        "url": url,
        "width": 0,
        "height": 0,
        "size": 0,
        "format": "",
        "thumb": None,
        "problems": [],
    }


def form_from_request(request: VideoRequest) -> dict[str, Any]:
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt or "",
        "resolution": request.effective_resolution,
        "duration": request.effective_duration,
        "generate_audio": bool(request.generate_audio),
        "voice_ids": list(request.voice_ids or []),
        "multi_prompt": [
            {"prompt": s.prompt, "duration": s.duration} for s in request.multi_prompt or []
        ],
    }


def history_row(record: TaskRecord) -> dict[str, Any]:
    """HistoryRow (docs/widget-protocol.md)."""
    return {
        "local_id": record.local_id,
        "task_id": record.task_id,
        "user": record.user,
        "status": record.status,
        "prompt": record.prompt[:500],
        "negative_prompt": record.negative_prompt,
        "resolution": record.resolution,
        "duration": record.duration,
        "generate_audio": record.generate_audio,
        "created": record.submitted_at.timestamp(),
        "finished": record.finished_at.timestamp() if record.finished_at else None,
        "elapsed": round(record.elapsed, 2),
        "error_code": record.error_code
        or ("create_outcome_unknown" if record.status == "unknown" else None),
        "error_message": record.error_message or record.unknown_reason or record.download_error,
        "has_video": record.has_video,
    }
