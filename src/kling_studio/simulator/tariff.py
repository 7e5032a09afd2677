"""How long a task takes and what it costs: the simulator's own guesses, kept in one place.

The contract gives one figure (``estimated_time: 45`` for a 5 s clip); the rest is invented and
only has to be plausible: longer clips and higher resolutions take longer and cost more.
"""

from __future__ import annotations

from typing import Any

from .validation import VOICE_MODEL

VIDEO_SECONDS_PER_CLIP_SECOND = 9.0  # 5 s -> 45 s, 10 s -> 90 s at time_scale 1
RESOLUTION_TIME = {"720p": 1.0, "1080p": 1.3, "4k": 2.2}
VOICE_SECONDS = 20.0

BASE_CREDITS = 10.0  # 720p, 5 s, no audio
RESOLUTION_CREDITS = {"720p": 1.0, "1080p": 1.5, "4k": 3.0}
AUDIO_CREDITS = 1.2  # the seed page: 4k billing is not affected by generate_audio / voice_ids
VOICE_CREDITS = 5


def estimated_seconds(request: dict[str, Any], time_scale: float) -> float:
    """Real (scaled) seconds a task is expected to take."""
    if request["model"] == VOICE_MODEL:
        return VOICE_SECONDS * time_scale
    clip: float = request["duration"] * VIDEO_SECONDS_PER_CLIP_SECOND
    return clip * RESOLUTION_TIME[request["resolution"]] * time_scale


def credits(request: dict[str, Any]) -> int:
    if request["model"] == VOICE_MODEL:
        return VOICE_CREDITS
    resolution: str = request["resolution"]
    amount: float = BASE_CREDITS * (request["duration"] / 5) * RESOLUTION_CREDITS[resolution]
    if request["generate_audio"] and resolution != "4k":
        amount *= AUDIO_CREDITS
    return round(amount)


def wire_seconds(seconds: float) -> int | float:
    """A number as the API shows it: an int when whole, else rounded to 2 decimals."""
    rounded = round(seconds, 2)
    return int(rounded) if rounded == int(rounded) else rounded
