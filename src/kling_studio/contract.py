"""The FoxAPI contract in one place: limits, wire names, and each decision on an open question.

Every number here comes from CONTRACT.md (sections 1 and 6). Each open question of section 7 is
decided exactly once below, so that a fact learned later is a one-line change.
"""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://api.foxapi.cc"
CREATE_PATH: Final = "/v1/videos/generations"
TASK_PATH: Final = "/v1/tasks/{task_id}"
UPLOAD_BASE64_PATH: Final = "/v1/files/upload/base64"
UPLOAD_STREAM_PATH: Final = "/v1/files/upload/stream"

MODEL_IMAGE_TO_VIDEO: Final = "kling-v3-image-to-video"
MODEL_CREATE_VOICE: Final = "kling-video-create-voice"

# Section 1 (the seed).
PROMPT_MAX_CHARS: Final = 2500
# The seed sets no limit for negative_prompt; Kling's own API uses the prompt's.
NEGATIVE_PROMPT_MAX_CHARS: Final = 2500
RESOLUTIONS: Final = ("720p", "1080p", "4k")
DURATIONS: Final = (5, 10)
DEFAULT_RESOLUTION: Final = "720p"
DEFAULT_DURATION: Final = 5
VOICES_MAX: Final = 2

# Section 5: a voice is made from one speaker's recording in one of these formats.
VOICE_AUDIO_EXTENSIONS: Final = (".mp3", ".ogg", ".wav", ".m4a", ".aac")

# Section 6 (Kling's own limits, applied before sending).
PICTURE_FORMATS: Final = ("JPEG", "PNG")
PICTURE_MAX_BYTES: Final = 10 * 1024 * 1024
PICTURE_MIN_SIDE: Final = 300
ASPECT_MIN: Final = 1 / 2.5
ASPECT_MAX: Final = 2.5
SEGMENTS_MIN: Final = 1
SEGMENTS_MAX: Final = 6
SEGMENT_PROMPT_MAX_CHARS: Final = 512
SEGMENT_MIN_SECONDS: Final = 1

# Result URLs die after 24 hours (section 2).
RESULT_URL_LIFETIME_S: Final = 24 * 3600

# --- Decisions on the open questions of section 7 -------------------------------------------
# multi_prompt items: Kling's schema names them {index, prompt, duration}; we send all three,
# index counting from 1 and duration as an integer.
MULTI_PROMPT_SENDS_INDEX: Final = True
MULTI_PROMPT_INDEX_BASE: Final = 1
# Data URLs are not documented as accepted: local pictures are always uploaded first.
DATA_URLS_ACCEPTED: Final = False
# 429 may or may not carry Retry-After: honour it when present, else back off exponentially.
RETRY_AFTER_MAX_S: Final = 60.0
# No cancel endpoint is documented: kling-studio offers none.
CANCEL_SUPPORTED: Final = False
# Statuses: the seed's four, plus `cancelled` from an older version of the page.
TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "cancelled"})
ACTIVE_STATUSES: Final = frozenset({"pending", "processing"})
# Failed tasks: error.code values are not listed anywhere; we pass them through unchanged.
# Whether a failed task's credits are refunded is unknown: they count against budgets until the
# server reports otherwise (a later `usage.credits_reserved` replaces the figure).
FAILED_TASKS_REFUNDED: Final = False
# The seed page: 4k is billed without regard to generate_audio and voice_ids.
BILLING_IGNORES_AUDIO_AT: Final = frozenset({"4k"})


def rules_for_front_end() -> dict[str, object]:
    """The limits the widget's front end checks with, so both sides share one source of truth."""
    return {
        "prompt_max": PROMPT_MAX_CHARS,
        "negative_prompt_max": NEGATIVE_PROMPT_MAX_CHARS,
        "segment_prompt_max": SEGMENT_PROMPT_MAX_CHARS,
        "segments_max": SEGMENTS_MAX,
        "segment_min_seconds": SEGMENT_MIN_SECONDS,
        "voices_max": VOICES_MAX,
        "resolutions": list(RESOLUTIONS),
        "durations": list(DURATIONS),
        "picture_formats": list(PICTURE_FORMATS),
        "picture_max_bytes": PICTURE_MAX_BYTES,
        "picture_min_side": PICTURE_MIN_SIDE,
        "aspect_min": ASPECT_MIN,
        "aspect_max": ASPECT_MAX,
    }
