"""Checks on a create body, written from docs/contract.md sections 1, 5 and 6 (not from our client).

``check_create`` returns the request with defaults filled in, or raises ``Invalid`` naming the
first offending field the way the API's 422 does (``param`` is a path like
``multi_prompt[2].duration``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

VIDEO_MODEL = "kling-v3-image-to-video"
VOICE_MODEL = "kling-video-create-voice"
MODELS = (VIDEO_MODEL, VOICE_MODEL)

MAX_PROMPT = 2500
RESOLUTIONS = ("720p", "1080p", "4k")
DURATIONS = (5, 10)
MAX_VOICES = 2
MAX_SEGMENTS = 6
MAX_SEGMENT_PROMPT = 512


@dataclass(eq=False)
class Invalid(Exception):
    message: str
    param: str
    code: str = "invalid_parameter"


def check_create(body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model", VIDEO_MODEL)
    if not isinstance(model, str):
        raise Invalid("model must be a string", "model")
    if model not in MODELS:
        raise Invalid(
            f"model {model!r} is not supported on this endpoint (try {VIDEO_MODEL!r})",
            "model",
            "model_not_found",
        )
    if model == VOICE_MODEL:
        return {"model": model, "voice_url": _url(body, "voice_url", required=True)}
    return _check_video(body)


def _check_video(body: dict[str, Any]) -> dict[str, Any]:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise Invalid("prompt is required and must be a non-empty string", "prompt")
    if len(prompt) > MAX_PROMPT:
        raise Invalid(f"prompt is {len(prompt)} characters; at most {MAX_PROMPT}", "prompt")

    resolution = body.get("resolution", "720p")
    if resolution not in RESOLUTIONS:
        raise Invalid(f"resolution must be one of {', '.join(RESOLUTIONS)}", "resolution")

    duration = body.get("duration", 5)
    if not _is_int(duration) or duration not in DURATIONS:
        raise Invalid("duration must be the integer 5 or 10", "duration")

    audio = body.get("generate_audio", False)
    if not isinstance(audio, bool):
        raise Invalid("generate_audio must be true or false", "generate_audio")

    negative = body.get("negative_prompt", "")
    if not isinstance(negative, str):
        raise Invalid("negative_prompt must be a string", "negative_prompt")

    return {
        "model": VIDEO_MODEL,
        "prompt": prompt,
        "image_url": _url(body, "image_url", required=True),
        "image_tail_url": _url(body, "image_tail_url", required=False),
        "resolution": resolution,
        "duration": duration,
        "generate_audio": audio,
        "negative_prompt": negative,
        "voice_ids": _voice_ids(body.get("voice_ids"), audio),
        "multi_prompt": _segments(body.get("multi_prompt"), duration),
    }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _url(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        need = "is required and must be" if required else "must be null or"
        raise Invalid(f"{name} {need} a URL string", name)
    if urlsplit(value).scheme not in ("http", "https"):
        raise Invalid(f"{name} must be a public http(s) URL", name)
    return value


def _voice_ids(value: object, audio: bool) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Invalid("voice_ids must be a list of voice id strings", "voice_ids")
    if len(value) > MAX_VOICES:
        raise Invalid(f"voice_ids holds {len(value)} ids; at most {MAX_VOICES}", "voice_ids")
    if value and not audio:
        raise Invalid("voice_ids requires generate_audio to be true", "voice_ids")
    return value


def _segments(value: object, duration: int) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SEGMENTS:
        message = f"multi_prompt must be a list of 1 to {MAX_SEGMENTS} segments"
        raise Invalid(message, "multi_prompt")
    segments: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        where = f"multi_prompt[{i}]"
        if not isinstance(item, dict):
            raise Invalid("each segment must be an object {index, prompt, duration}", where)
        index = item.get("index", i + 1)
        if not _is_int(index):
            raise Invalid("index must be an integer", f"{where}.index")
        prompt = item.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise Invalid("segment prompt is required", f"{where}.prompt")
        if len(prompt) > MAX_SEGMENT_PROMPT:
            raise Invalid(
                f"segment prompt is {len(prompt)} characters; at most {MAX_SEGMENT_PROMPT}",
                f"{where}.prompt",
            )
        seconds = item.get("duration")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 1:
            raise Invalid("segment duration must be an integer of at least 1", f"{where}.duration")
        segments.append({"index": index, "prompt": prompt, "duration": seconds})
    total = sum(s["duration"] for s in segments)
    if total != duration:
        raise Invalid(
            f"multi_prompt durations add up to {total} s but duration is {duration} s",
            "multi_prompt",
        )
    return segments
