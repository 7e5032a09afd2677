"""A past task's request, to run it again with changes (`Runner.request_from`, the remix)."""

from __future__ import annotations

from typing import Any

from ..history._records import TaskRecord
from ..models import VideoRequest


def request_from_record(record: TaskRecord, **changes: Any) -> VideoRequest:
    payload = dict(record.payload)
    fields: dict[str, Any] = {
        "prompt": payload.get("prompt", record.prompt),
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
        "model": payload.get("model", record.model),
    }
    fields.update(changes)
    return VideoRequest.build(**fields)
