"""A past task's request, to run it again with changes (`Runner.request_from`, the remix)."""

from __future__ import annotations

from typing import Any

from ..history._records import TaskRecord
from ..models import VideoRequest

# Create-body names -> VideoRequest names, where they differ.
_FIELD_OF = {"image_url": "image", "image_tail_url": "image_tail"}
_IGNORED = {"model"}


def request_from_record(record: TaskRecord, **changes: Any) -> VideoRequest:
    payload = {"prompt": record.prompt, "model": record.model, **record.payload}
    return request_from_payload(payload, **changes)


def request_from_payload(payload: dict[str, Any], **changes: Any) -> VideoRequest:
    """The request a create body describes (pictures as its URLs); InputError if it breaks a
    rule or names a field kling-studio does not know."""
    VideoRequest.check_names(
        {_FIELD_OF.get(k, k): v for k, v in payload.items() if k not in _IGNORED}
    )
    fields: dict[str, Any] = {
        "prompt": payload.get("prompt"),
        "image": payload.get("image_url"),
        "image_tail": payload.get("image_tail_url"),
        "resolution": payload.get("resolution"),
        "duration": payload.get("duration"),
        "generate_audio": payload.get("generate_audio"),
        "negative_prompt": payload.get("negative_prompt"),
        "voice_ids": payload.get("voice_ids"),
        "multi_prompt": [
            {"prompt": s["prompt"], "duration": s["duration"]}
            for s in payload.get("multi_prompt") or []
        ]
        or None,
        "model": payload.get("model"),
    }
    fields.update(changes)
    return VideoRequest.build(**fields)
