"""Join clips into one MP4 with PyAV.

When every part has the same video codec, size and codec setup (and the same audio layout),
the packets are copied as they are, only shifted in time: no quality is lost and it takes about
as long as copying the files. Otherwise every frame is decoded and encoded again as H.264 (and
AAC), each part fitted into the first part's size with black bars where the shapes differ.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import av

REENCODE_TIME_BASE = Fraction(1, 90000)  # parts may differ in frame rate: keep their times


@dataclass(frozen=True)
class StitchedVideo:
    path: Path
    duration: float  # seconds
    width: int
    height: int
    reencoded: bool


@dataclass(frozen=True)
class _Probe:
    """What must match for packets to be copied as they are."""

    video: tuple[Any, ...]
    audio: tuple[Any, ...] | None
    width: int
    height: int
    rate: Fraction | None


def stitch_videos(
    parts: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]
) -> StitchedVideo:
    """Join `parts` in order into the MP4 `out` (written through a temporary file)."""
    if len(parts) < 2:
        raise ValueError("stitching needs at least two videos")
    paths = [Path(p) for p in parts]
    probes = [_probe(p) for p in paths]
    copy = all(p.video == probes[0].video and p.audio == probes[0].audio for p in probes)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        duration = None
        if copy:
            try:
                duration = _remux(paths, part)
            except _CannotCopy:
                copy = False
        if duration is None:
            duration = _reencode(paths, probes, part)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    first = probes[0]
    return StitchedVideo(target, float(duration), first.width, first.height, not copy)


def _probe(path: Path) -> _Probe:
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path.name} has no video stream")
        v = container.streams.video[0].codec_context
        video = (v.name, v.width, v.height, v.pix_fmt, bytes(v.extradata or b""))
        audio = None
        if container.streams.audio:
            a = container.streams.audio[0].codec_context
            audio = (a.name, a.sample_rate, a.layout.name, bytes(a.extradata or b""))
        rate = container.streams.video[0].average_rate
        return _Probe(video, audio, v.width, v.height, Fraction(rate) if rate else None)


def _open_output(path: Path) -> av.container.OutputContainer:
    import av

    # +faststart puts the index first, so a browser can start playing before the end arrives.
    return av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})


class _CannotCopy(Exception):
    """The parts' timestamps do not line up for a plain copy: encode instead."""


def _remux(paths: list[Path], out: Path) -> Fraction:
    """Copy the packets of every part, each part shifted to start where the last one ended."""
    import av

    offset = Fraction(0)  # seconds: where the next part starts
    with _open_output(out) as dst:
        with av.open(str(paths[0])) as first:
            outs: list[av.stream.Stream] = [dst.add_stream_from_template(first.streams.video[0])]
            if first.streams.audio:
                outs.append(dst.add_stream_from_template(first.streams.audio[0]))
        last_dts: list[int | None] = [None] * len(outs)
        for number, path in enumerate(paths):
            with av.open(str(path)) as src:
                streams = [src.streams.video[0], *src.streams.audio[:1]]
                end = offset
                for packet in src.demux(streams):
                    if packet.dts is None:  # the demuxer's empty flush packet
                        continue
                    index = streams.index(packet.stream)
                    if number and index and packet.pts is not None and packet.pts < 0:
                        # AAC priming before a later part's start: it would overlap the sound
                        # of the part before; the decoder does without it.
                        continue
                    time_base = packet.time_base
                    shift = round(offset / time_base)
                    packet.dts += shift
                    if packet.pts is not None:
                        packet.pts += shift
                        end = max(end, (packet.pts + (packet.duration or 0)) * time_base)
                    previous = last_dts[index]
                    if previous is not None and packet.dts <= previous:
                        raise _CannotCopy(f"{path.name}: timestamps overlap the part before")
                    last_dts[index] = packet.dts
                    packet.stream = outs[index]
                    dst.mux(packet)
                offset = end
    return offset


def _reencode(paths: list[Path], probes: list[_Probe], out: Path) -> Fraction:
    """Decode every part and encode one H.264 (+ AAC when any part has sound) stream."""
    import av

    width, height = probes[0].width // 2 * 2, probes[0].height // 2 * 2
    rate = probes[0].rate or Fraction(24)
    sound_like = next((p.audio for p in probes if p.audio), None)
    offset = Fraction(0)
    with _open_output(out) as dst:
        video = dst.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = REENCODE_TIME_BASE
        video.options = {"preset": "veryfast", "crf": "20"}
        sound = _Sound(dst, sound_like[1], sound_like[2]) if sound_like else None
        last_pts = -1
        for path in paths:
            end = offset
            resampler = sound.resampler() if sound is not None else None
            with av.open(str(path)) as src:
                streams = [src.streams.video[0], *src.streams.audio[:1]]
                start = streams[0].start_time or 0
                for packet in src.demux(streams):
                    for frame in packet.decode():
                        if isinstance(frame, av.VideoFrame) and frame.pts is not None:
                            assert frame.time_base is not None
                            seconds = offset + (frame.pts - start) * frame.time_base
                            pts = max(last_pts + 1, round(seconds / REENCODE_TIME_BASE))
                            last_pts = pts
                            fitted = _fit(frame, width, height)
                            fitted.pts = pts
                            fitted.time_base = REENCODE_TIME_BASE
                            dst.mux(video.encode(fitted))
                            end = max(end, seconds + 1 / rate)
                        elif isinstance(frame, av.AudioFrame) and resampler is not None:
                            assert sound is not None
                            frame.pts = None
                            sound.feed(resampler.resample(frame))
            if sound is not None and resampler is not None:
                sound.feed(resampler.resample(None))
                # A part without sound (or with less sound than picture) gets silence, so the
                # sound of the next part starts with its picture.
                sound.silence_until(end)
            offset = end
        dst.mux(video.encode(None))
        if sound is not None:
            sound.close()
    return offset


class _Sound:
    """The stitched sound track: every part resampled to one format, cut into AAC frames."""

    FRAME = 1024  # samples per AAC frame

    def __init__(self, dst: av.container.OutputContainer, rate: int, layout: str) -> None:
        import av

        self.dst = dst
        self.rate = rate
        self.layout = layout if layout in ("mono", "stereo") else "stereo"
        self.stream = dst.add_stream("aac", rate=rate, layout=self.layout)
        # The default "twoloop" coder takes ~0.2 s per second of sound; "fast" a tenth of it.
        self.stream.options = {"aac_coder": "fast"}
        self.fifo = av.AudioFifo()
        self.written = 0  # samples fed so far
        self.encoded = 0  # samples encoded so far (the next frame's pts)

    def resampler(self) -> av.AudioResampler:
        import av

        # One per part: a resampler locks onto the format of the first frame it sees.
        return av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)

    def feed(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            frame.pts = None
            self.written += frame.samples
            self.fifo.write(frame)
        self._encode(final=False)

    def silence_until(self, seconds: Fraction) -> None:
        import av

        missing = round(seconds * self.rate) - self.written
        while missing > 0:
            count = min(self.FRAME, missing)
            frame = av.AudioFrame(format="fltp", layout=self.layout, samples=count)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate = self.rate
            self.feed([frame])
            missing -= count

    def close(self) -> None:
        self._encode(final=True)
        self.dst.mux(self.stream.encode(None))

    def _encode(self, *, final: bool) -> None:
        while self.fifo.samples >= self.FRAME or (final and self.fifo.samples):
            chunk = self.fifo.read(min(self.FRAME, self.fifo.samples))
            if chunk is None:
                break
            chunk.pts = self.encoded
            self.encoded += chunk.samples
            self.dst.mux(self.stream.encode(chunk))


def _fit(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """`frame` at width x height: scaled when the shape matches, else letterboxed."""
    import av
    from PIL import Image

    if abs(frame.width * height - frame.height * width) <= max(width, height):
        return frame.reformat(width=width, height=height, format="yuv420p")
    picture = frame.to_image()  # type: ignore[no-untyped-call]
    picture.thumbnail((width, height))
    canvas = Image.new("RGB", (width, height))
    canvas.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    fitted: av.VideoFrame = av.VideoFrame.from_image(canvas)  # type: ignore[no-untyped-call]
    return fitted.reformat(format="yuv420p")
