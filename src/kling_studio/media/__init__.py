"""Media work on saved videos with PyAV: posters, a video's last frame, and joining clips.

Each job has its own module, and PyAV is imported only inside the functions that use it, so
`import kling_studio` (and this package) never loads av.
"""

from ._frames import last_frame
from ._posters import (
    POSTER_MAX_SIDE,
    ensure_poster,
    poster_data_url,
    poster_jpeg,
    poster_path_for,
)
from ._stitch import StitchedVideo, stitch_videos

__all__ = [
    "POSTER_MAX_SIDE",
    "StitchedVideo",
    "ensure_poster",
    "last_frame",
    "poster_data_url",
    "poster_jpeg",
    "poster_path_for",
    "stitch_videos",
]
