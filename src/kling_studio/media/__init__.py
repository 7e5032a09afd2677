"""Media work on saved videos with PyAV: posters, a video's last frame, joining clips, and
measures of a video (no model weights).

Each job has its own module, and PyAV is imported only inside the functions that use it, so
`import kling_studio` (and this package) never loads av.
"""

from ._frames import last_frame
from ._measures import MEASURE_NAMES, MEASURES_VERSION, Measures, measure_video
from ._posters import (
    POSTER_MAX_SIDE,
    ensure_poster,
    poster_data_url,
    poster_jpeg,
    poster_path_for,
)
from ._stitch import StitchedVideo, stitch_videos

__all__ = [
    "MEASURES_VERSION",
    "MEASURE_NAMES",
    "POSTER_MAX_SIDE",
    "Measures",
    "StitchedVideo",
    "ensure_poster",
    "last_frame",
    "measure_video",
    "poster_data_url",
    "poster_jpeg",
    "poster_path_for",
    "stitch_videos",
]
