"""The shapes the studio sends to its front end: the form, picture info, history rows."""

from __future__ import annotations

import base64
from pathlib import Path

from ..errors import InputError
from ..history._records import TaskRecord
from ..history._view import view
from ..media._posters import ensure_poster, poster_data_url
from ..models import VideoRequest
from ..pictures import Picture
from ._media_links import media_route
from ._protocol import Form, HistoryRow, PictureInfo, default_form

VIDEO_CHUNK_BYTES = 4 * 1024 * 1024  # Tornado drops websocket messages over 10 MB
SLOTS = ("image", "image_tail")
FORM_FIELDS = tuple(default_form())

__all__ = [
    "FORM_FIELDS",
    "SLOTS",
    "VIDEO_CHUNK_BYTES",
    "check_slot",
    "default_form",
    "form_from_request",
    "history_row",
    "picture_info",
    "url_picture_info",
]


def check_slot(slot: str) -> None:
    if slot not in SLOTS:
        raise InputError(f"slot must be one of {SLOTS}", field="slot")


def picture_info(pic: Picture, slot: str, url: str | None = None) -> PictureInfo:
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


def url_picture_info(url: str, slot: str) -> PictureInfo:
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


def form_from_request(request: VideoRequest) -> Form:
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


def poster_route(video: Path | None) -> str | None:
    """The media route of `video`'s poster (made now if missing), or None without one."""
    poster = ensure_poster(video) if video is not None else None
    return media_route(poster) if poster is not None else None


def history_row(record: TaskRecord, *, poster_routes: bool = False) -> HistoryRow:
    """HistoryRow (docs/widget-protocol.md). With `poster_routes`, the poster is named by its
    media route (the browser loads it when the tile is on screen) rather than sent as bytes,
    when this kernel's Jupyter server has the route."""
    seen = view(record)
    route = poster_route(record.video_path) if poster_routes and record.has_video else None
    return {
        "local_id": record.local_id,
        "task_id": record.task_id,
        "user": record.user,
        "status": seen.status,
        "prompt": record.prompt[:500],
        "negative_prompt": record.negative_prompt,
        "resolution": record.resolution,
        "duration": record.duration,
        "generate_audio": record.generate_audio,
        "created": record.submitted_at.timestamp(),
        "finished": record.finished_at.timestamp() if record.finished_at else None,
        "elapsed": round(record.elapsed, 2),
        "error_code": seen.error_code,
        "error_message": seen.error_message,
        "has_video": seen.video == "saved",
        # Made when the video was saved; rows older than posters get theirs here, once.
        "poster": poster_data_url(record.video_path) if record.has_video and not route else None,
        "poster_route": route,
        "stitched_from": record.stitched_from,
    }
