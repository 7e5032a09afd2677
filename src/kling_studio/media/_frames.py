"""A video's last frame, decoded with PyAV (for "continue from this result")."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

# Seek this far before the end, then decode forward: the seek lands on the keyframe before it,
# so only the last GOP or so is decoded, not the whole clip.
TAIL_SECONDS = 2.0


def last_frame(video: str | os.PathLike[str]) -> Image:
    """The last frame of `video` as an RGB PIL image; ValueError when it has none."""
    import av

    path = os.fspath(video)
    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError("the file has no video stream")
        stream = container.streams.video[0]
        last = None
        if stream.duration and stream.time_base:
            end = (stream.start_time or 0) + stream.duration
            target = max(0, end - int(TAIL_SECONDS / stream.time_base))
            container.seek(target, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                last = frame
        if last is None:  # no index or a seek past the frames: read it all
            container.seek(0)
            for frame in container.decode(stream):
                last = frame
        if last is None:
            raise ValueError("the video has no frame that can be decoded")
        picture: Image = last.to_image()  # type: ignore[no-untyped-call]
        return picture.convert("RGB")
