"""Synthetic clips whose measures are known: written with PyAV (H.264) from numpy frames."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageFilter

Frame = np.ndarray

SIZE = (320, 180)


def textured(seed: int = 1, size: tuple[int, int] = SIZE) -> Image.Image:
    """A picture with structure at every scale (blocks of noise, smoothed), like a photo."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    picture = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    fine = rng.integers(-25, 25, (size[1], size[0], 3))
    return Image.fromarray(
        np.clip(np.asarray(picture, dtype=np.int32) + fine, 0, 255).astype(np.uint8)
    )


def write_clip(path: Path, frames: Iterable[Image.Image], fps: int = 24) -> Path:
    """Encode the pictures as an H.264 MP4, nearly lossless (crf 12) so known answers hold."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = {"preset": "veryfast", "crf": "12"}
        first = True
        for i, picture in enumerate(frames):
            if first:
                stream.width, stream.height = picture.size
                first = False
            frame = av.VideoFrame.from_image(picture.convert("RGB"))
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def clip(path: Path, count: int, at: Callable[[int], Image.Image], fps: int = 24) -> Path:
    return write_clip(path, (at(i) for i in range(count)), fps)


def panning(
    picture: Image.Image, step_px: int, size: tuple[int, int] = SIZE
) -> Callable[[int], Image.Image]:
    """Frame i is `picture` (wider than `size`) seen through a window moved i * step_px right."""
    return lambda i: picture.crop((i * step_px, 0, i * step_px + size[0], size[1]))


def blurred(picture: Image.Image, radius: float) -> Image.Image:
    return picture.filter(ImageFilter.GaussianBlur(radius))
