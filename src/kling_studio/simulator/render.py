"""A real H.264 MP4 per task: small, fast, and recognisably made from the task's pictures.

With a tail picture the clip crossfades from the first picture into the last one (with a slight
zoom), so the first frame is the first picture and the last frame is the tail; without one it is
a slow pan/zoom over the first picture. The prompt (or the current multi-prompt segment) is
written along the bottom. Renders are cached by content, so identical requests share one file.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from array import array
from concurrent.futures import Future
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

from . import drawing
from .pictures import Picture

RENDER_VERSION = "1"  # bump when the look changes, so a kept data_dir is not reused stale
SAMPLE_RATE = 44100
TONE_HZ = 220  # a whole number of cycles per second, so one second of samples loops cleanly
TONE_LEVEL = 0.05

BITRATES = ("small", "realistic")
# "realistic": the size Kling delivers for the resolution asked, at 24 fps and a real clip's bit
# rate (a 10 s 1080p clip is ~12 MB), for measuring what big downloads and players do. Frames are
# drawn small and scaled up by swscale (drawing 1080p with Pillow is slow); x264's CBR mode pads
# the smooth pictures with filler data up to the bit rate, so the file has a real clip's size.
REALISTIC_SHORT_SIDE = {"720p": 720, "1080p": 1080, "4k": 2160}
REALISTIC_KBPS = {"720p": 5_000, "1080p": 10_000, "4k": 25_000}
REALISTIC_FPS = 24
REALISTIC_DRAW_SIDE = 640


@dataclass(frozen=True)
class RenderJob:
    first: Picture
    tail: Picture | None
    prompt: str
    segments: tuple[tuple[str, int], ...]  # (prompt, seconds) of a multi-prompt; may be empty
    duration: int
    audio: bool
    caption: str  # a small second line, e.g. "720p · 5 s · simulator"
    resolution: str = "720p"  # what was asked; sets the size only when rendering "realistic"


@dataclass(frozen=True)
class Rendered:
    path: Path
    width: int
    height: int
    duration: float
    cached: bool


@dataclass
class RenderStats:
    renders: int = 0
    cache_hits: int = 0
    seconds: float = 0.0  # wall time spent encoding

    def as_dict(self) -> dict[str, float | int]:
        return {"renders": self.renders, "cache_hits": self.cache_hits, "seconds": self.seconds}


@dataclass
class Renderer:
    """Thread-safe; call :meth:`render` from worker threads, never from the event loop."""

    folder: Path
    width: int = 320
    fps: int = 12
    # The short side at least this (0: no floor), so that a frame of the clip passes the picture
    # rules and can be sent back as the next clip's first frame ("continue from a result").
    min_side: int = 0
    bitrate: str = "small"  # or "realistic" (see BITRATES)
    # A keyframe every this many seconds; None: x264's default (keyint 250, so a clip of up to
    # 10 s at 24 fps is one keyframe and a seek decodes, and a player reads, from its start).
    keyframe_seconds: float | None = None
    stats: RenderStats = field(default_factory=RenderStats)

    def __post_init__(self) -> None:
        if self.bitrate not in BITRATES:
            raise ValueError(f"bitrate must be one of {BITRATES}; got {self.bitrate!r}")
        if self.keyframe_seconds is not None and not self.keyframe_seconds > 0:
            raise ValueError(f"keyframe_seconds must be positive; got {self.keyframe_seconds!r}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self._inflight: dict[str, Future[Rendered]] = {}

    def key(self, job: RenderJob) -> str:
        parts = [
            RENDER_VERSION,
            job.first.digest,
            job.tail.digest if job.tail else "-",
            job.prompt,
            repr(job.segments),
            str(job.duration),
            str(job.audio),
            job.caption,
            str(self.width),
            str(self.fps),
        ]
        if self.realistic:  # appended, so the small renders keep their cache keys
            parts += [self.bitrate, job.resolution]
        if self.min_side:
            parts.append(f"min_side={self.min_side}")
        if self.keyframe_seconds is not None:
            parts.append(f"keyframe_seconds={self.keyframe_seconds}")
        text = "\x00".join(parts).encode("utf-8", "replace")
        return hashlib.sha256(text).hexdigest()[:32]

    def render(self, job: RenderJob) -> Rendered:
        key = self.key(job)
        path = self.folder / f"{key}.mp4"
        with self.lock:
            waiting = self._inflight.get(key)
            if waiting is None:
                if path.exists():
                    self.stats.cache_hits += 1
                    return self._describe(path, job, cached=True)
                mine: Future[Rendered] = Future()
                self._inflight[key] = mine
        if waiting is not None:  # the same clip is being made right now: share it
            done = waiting.result()
            with self.lock:
                self.stats.cache_hits += 1
            return Rendered(done.path, done.width, done.height, done.duration, cached=True)
        try:
            started = time.perf_counter()
            result = self._encode(job, path)
            with self.lock:
                self.stats.renders += 1
                self.stats.seconds += time.perf_counter() - started
            mine.set_result(result)
            return result
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with self.lock:
                del self._inflight[key]

    @property
    def realistic(self) -> bool:
        return self.bitrate == "realistic"

    def _size(self, job: RenderJob) -> tuple[int, int]:
        src_w, src_h = job.first.image.size
        if self.realistic:
            short = REALISTIC_SHORT_SIDE.get(job.resolution, 720)
            long = round(short * max(src_w, src_h) / min(src_w, src_h) / 2) * 2
            return (long, short) if src_w >= src_h else (short, long)
        width = max(2, self.width // 2 * 2)
        height = max(2, round(width * src_h / src_w / 2) * 2)
        short = min(width, height)
        if short < self.min_side:  # scaled up to the floor, rounded up to even sides
            scale = self.min_side / short
            width, height = (math.ceil(width * scale / 2) * 2, math.ceil(height * scale / 2) * 2)
        return width, height

    def _describe(self, path: Path, job: RenderJob, cached: bool) -> Rendered:
        width, height = self._size(job)
        return Rendered(path, width, height, float(job.duration), cached)

    def _encode(self, job: RenderJob, path: Path) -> Rendered:
        size = self._size(job)
        fps = REALISTIC_FPS if self.realistic else self.fps
        frames = job.duration * fps
        drawn = _drawing_size(size) if self.realistic else size
        overlays = _overlays(job, drawn)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        # +faststart puts the index first, so a browser can play while downloading.
        with av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            video = out.add_stream("libx264", rate=fps)
            video.width, video.height = size
            video.pix_fmt = "yuv420p"
            video.codec_context.time_base = Fraction(1, fps)
            video.options = {"preset": "veryfast", "crf": "26"}
            if self.realistic:
                kbps = REALISTIC_KBPS.get(job.resolution, REALISTIC_KBPS["720p"])
                video.options = {
                    "preset": "ultrafast",
                    "b": f"{kbps}k",
                    "minrate": f"{kbps}k",
                    "maxrate": f"{kbps}k",
                    "bufsize": f"{kbps}k",
                    "x264-params": "nal-hrd=cbr",
                }
            if self.keyframe_seconds is not None:
                video.options = {
                    **video.options,
                    "g": str(max(1, round(fps * self.keyframe_seconds))),
                }
            audio = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono") if job.audio else None
            for i in range(frames):
                t = i / max(1, frames - 1)
                picture = _frame(job, drawn, t)
                overlay = _overlay_at(overlays, job, i / fps)
                picture.paste(overlay, (0, drawn[1] - overlay.height), overlay)
                frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
                if drawn != size:
                    frame = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                frame.pts = i
                out.mux(video.encode(frame))
            out.mux(video.encode(None))
            if audio is not None:
                _write_tone(out, audio, job.duration)
        os.replace(partial, path)
        return self._describe(path, job, cached=False)


def _drawing_size(size: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled down to REALISTIC_DRAW_SIDE on its long side (even numbers)."""
    scale = min(1.0, REALISTIC_DRAW_SIDE / max(size))
    return (max(2, round(size[0] * scale / 2) * 2), max(2, round(size[1] * scale / 2) * 2))


def _cover_box(
    image: Image.Image, size: tuple[int, int], zoom: float, pan: float
) -> tuple[float, float, float, float]:
    """The crop of ``image`` that fills ``size`` at ``zoom`` (>= 1), shifted by ``pan`` in -1..1."""
    src_w, src_h = image.size
    aspect = size[0] / size[1]
    box_w, box_h = (src_w, src_w / aspect) if src_w / src_h < aspect else (src_h * aspect, src_h)
    box_w, box_h = box_w / zoom, box_h / zoom
    cx = src_w / 2 + pan * (src_w - box_w) / 2
    cy = src_h / 2
    return (cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2)


def _view(image: Image.Image, size: tuple[int, int], zoom: float, pan: float) -> Image.Image:
    box = _cover_box(image, size, zoom, pan)
    return image.resize(size, Image.Resampling.BILINEAR, box=box)


def _frame(job: RenderJob, size: tuple[int, int], t: float) -> Image.Image:
    """The picture at time fraction ``t`` (0 = first frame, 1 = last frame)."""
    ease = t * t * (3 - 2 * t)
    if job.tail is None:
        # Ken Burns: push in and drift right.
        return _view(job.first.image, size, 1.0 + 0.15 * ease, -0.6 + 1.2 * ease)
    start = _view(job.first.image, size, 1.0 + 0.08 * ease, 0.0)
    end = _view(job.tail.image, size, 1.08 - 0.08 * ease, 0.0)
    return Image.blend(start, end, ease)


def _overlays(job: RenderJob, size: tuple[int, int]) -> list[Image.Image]:
    """One caption band per prompt segment, drawn once (drawing text per frame is slow)."""
    texts = [text for text, _ in job.segments] or [job.prompt]
    return [_band(text, job.caption, size) for text in texts]


def _overlay_at(overlays: list[Image.Image], job: RenderJob, second: float) -> Image.Image:
    end = 0
    for overlay, (_, seconds) in zip(overlays, job.segments, strict=False):
        end += seconds
        if second < end:
            return overlay
    return overlays[-1]


def _band(text: str, caption: str, size: tuple[int, int]) -> Image.Image:
    width, height = size
    text_size = max(9, height // 16)
    face = drawing.font(text_size)
    small = drawing.font(max(8, text_size * 3 // 4))
    lines = drawing.wrap(text, face, width - 12, 3)
    line_h = text_size + 3
    band_h = 8 + len(lines) * line_h + text_size
    band = Image.new("RGBA", (width, min(band_h, height)), (0, 0, 0, 140))
    draw = ImageDraw.Draw(band)
    for i, line in enumerate(lines):
        draw.text((6, 4 + i * line_h), line, font=face, fill=(255, 255, 255, 255))
    draw.text((6, 4 + len(lines) * line_h), caption, font=small, fill=(200, 200, 200, 255))
    return band


def _write_tone(out: av.container.OutputContainer, stream: av.AudioStream, seconds: int) -> None:
    """A quiet steady tone: enough for players to show an audio track and for tests to count it."""
    step = 2 * math.pi * TONE_HZ / SAMPLE_RATE
    second = array("f", (TONE_LEVEL * math.sin(step * n) for n in range(SAMPLE_RATE))).tobytes()
    looped = second + second  # a chunk may start near the end of one second and run over
    chunk = 1024
    total = seconds * SAMPLE_RATE
    for start in range(0, total, chunk):
        count = min(chunk, total - start)
        offset = start % SAMPLE_RATE
        frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
        frame.planes[0].update(looped[offset * 4 : (offset + count) * 4])
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
