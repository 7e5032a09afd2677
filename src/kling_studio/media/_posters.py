"""A poster per video: a small JPEG of its first frame, stored beside it as `<name>.poster.jpg`.

Posters are made when a video is saved, and on first use for videos saved before posters
existed. The path is derived from the video's, so the history needs no column for it.
"""

from __future__ import annotations

import base64
import logging
import os
import uuid
from pathlib import Path
from typing import Final

from ..pictures import jpeg_thumbnail

log = logging.getLogger("kling_studio")

POSTER_MAX_SIDE: Final = 320  # a 16:9 video gets a 320x180 poster of a few KB
POSTER_SUFFIX: Final = ".poster.jpg"


def poster_path_for(video: str | os.PathLike[str]) -> Path:
    """Where the poster of `video` lives (whether or not it is there yet)."""
    path = Path(video)
    return path.with_name(f"{path.stem}{POSTER_SUFFIX}")


def poster_jpeg(video: str | os.PathLike[str], max_side: int = POSTER_MAX_SIDE) -> bytes | None:
    """The first frame of `video` as a small JPEG, or None when it cannot be decoded."""
    import av

    try:
        with av.open(os.fspath(video)) as container:
            for frame in container.decode(video=0):
                return jpeg_thumbnail(frame.to_image(), max_side)  # type: ignore[no-untyped-call]
    except Exception as exc:  # a damaged file gets no poster; the caller shows none
        log.info("no poster from %s: %s", video, exc)
    return None


def ensure_poster(video: str | os.PathLike[str] | None, *, remake: bool = False) -> Path | None:
    """The poster of `video`, made now if missing (or if `remake`: the video was replaced);
    None without a video or a decodable frame.

    Written through a temporary file, so a reader never sees half a JPEG."""
    if video is None:
        return None
    path = poster_path_for(video)
    try:
        if not remake and path.is_file() and path.stat().st_size > 0:
            return path
        if not Path(video).is_file():
            return None
    except OSError:
        return None
    jpeg = poster_jpeg(video)
    if jpeg is None:
        return None
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        part.write_bytes(jpeg)
        os.replace(part, path)
    except OSError as exc:  # a read-only folder: no poster, but the video still plays
        log.info("could not save the poster of %s: %s", video, exc)
        return None
    finally:
        part.unlink(missing_ok=True)
    return path


def poster_data_url(video: str | os.PathLike[str] | None) -> str | None:
    """The poster of `video` as a `data:image/jpeg;base64,...` URL (made if missing)."""
    path = ensure_poster(video)
    if path is None:
        return None
    try:
        return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return None
