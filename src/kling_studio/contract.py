"""The FoxAPI contract in one place: limits, wire names, and each decision on an open question.

Every number here comes from docs/contract.md (sections 1 and 6). Each open question of section 7 is
decided exactly once below, so that a fact learned later is a one-line change.
"""

from __future__ import annotations

from typing import Final

from .statuses import SERVER_TERMINAL

DEFAULT_BASE_URL: Final = "https://api.foxapi.cc"
CREATE_PATH: Final = "/v1/videos/generations"
TASK_PATH: Final = "/v1/tasks/{task_id}"
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
# Data URLs are not documented as accepted: local pictures are always uploaded first, and a
# data: URL given as a picture is refused before anything is sent (pictures.py reads this).
DATA_URLS_ACCEPTED: Final = False
# 429 may or may not carry Retry-After: honour it when present, else back off exponentially.
RETRY_AFTER_MAX_S: Final = 60.0
# No cancel endpoint is documented: kling-studio offers none (no code sends a cancel; stopping a
# comparison only stops starting its queued variants).
# Statuses: the seed's four, plus `cancelled` from an older version of the page (statuses.py).
TERMINAL_STATUSES: Final = SERVER_TERMINAL
# Failed tasks: error.code values are not listed anywhere; we pass them through unchanged.
# ...except that a failure saying the picture could not be fetched is recognised (by these
# codes, or a message matching this pattern): its upload is forgotten, so a retry re-uploads.
PICTURE_FETCH_FAILED_CODES: Final = frozenset({"image_fetch_failed", "image_download_failed"})
PICTURE_FETCH_FAILED_PATTERN: Final = (
    r"(fetch|download|retriev|access|load|read)\w*\b.{0,40}\b(image|picture|frame)"
    r"|(image|picture|frame)\w*\b.{0,40}\b(fetch|download|retriev|access|load|read)"
)
# Upload URLs: their lifetime is not documented. An uploaded picture's URL is reused for at most
# this long (well inside the 24 hours result URLs last), then the picture is uploaded again.
UPLOAD_URL_REUSE_S: Final = 3600.0
# ...and since how long FoxAPI keeps an upload is not documented (the simulator's can be
# minutes), a cached link older than this is first asked whether it still answers (a HEAD with
# 200), else the picture is uploaded again: a dead link costs a paid create that fails with
# image_fetch_failed, a HEAD costs nothing.
UPLOAD_URL_CHECK_AFTER_S: Final = 60.0
# Task ids: the seed shows `task-unified-<created>-<8 chars>`; the format is not promised, so any
# printable text is accepted (a space is sent as %20) except what would change the meaning of
# GET /v1/tasks/{task_id}: a paid task whose odd id is refused is a task nobody follows. The id
# must stay one path segment: `.` and `..` are path steps (`/v1/tasks/..` is `/v1`), and
# blanks name nothing.
TASK_ID_PATTERN: Final = r"(?!\.{1,2}\Z)(?!\s*\Z)[^\x00-\x1f\x7f/\\?#%]{1,200}"
TASK_ID_RULE: Final = (
    "a task id is one path segment: not blank, not '.' or '..', at most 200 characters, "
    "without / \\ ? # % or control characters"
)
# A task just created may not be readable yet on every server behind the API: a 404 for it
# within this many seconds of its create is taken as transient and the client asks again.
NOT_FOUND_GRACE_S: Final = 30.0
# A download larger than this cannot be a Kling video (a 10 s 4K clip is around 100 MB).
MAX_VIDEO_BYTES: Final = 1024 * 1024 * 1024
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
