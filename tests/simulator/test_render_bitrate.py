"""The simulator's realistic bit rate, on request: the asked resolution at 24 fps and a real
clip's bytes per second (a 10 s 1080p clip is over 10 MB); the default stays small."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import pytest
from PIL import Image

from kling_studio.simulator import Simulator
from kling_studio.simulator.pictures import Picture
from kling_studio.simulator.render import Renderer, RenderJob

RED = (220, 30, 30)


def job(resolution: str, size: tuple[int, int] = (960, 540), seconds: int = 1) -> RenderJob:
    first = Picture(Image.new("RGB", size, RED), f"red{size}", "own")
    return RenderJob(first, None, "a prompt", (), seconds, False, resolution, resolution=resolution)


def video(path: Path) -> tuple[tuple[int, int], int, float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert container.duration is not None
        return (stream.width, stream.height), frames, container.duration / av.time_base


def test_realistic_1080p_has_a_real_clips_size_rate_and_bytes(tmp_path: Path) -> None:
    # One second keeps the test fast; the bit rate is constant, so ten are ten times the bytes.
    out = Renderer(tmp_path, bitrate="realistic").render(job("1080p"))
    assert video(out.path) == ((1920, 1080), 24, pytest.approx(1.0, abs=0.05))
    assert out.path.stat().st_size >= 1_000_000  # >= 10 MB for 10 s


def test_realistic_follows_the_resolution_and_the_pictures_shape(tmp_path: Path) -> None:
    renderer = Renderer(tmp_path, bitrate="realistic")
    assert renderer.render(job("720p")).width == 1280
    portrait = renderer.render(job("720p", size=(540, 960)))
    assert (portrait.width, portrait.height) == (720, 1280)
    assert video(portrait.path)[0] == (720, 1280)


def test_the_default_render_stays_small(tmp_path: Path) -> None:
    out = Renderer(tmp_path).render(job("1080p"))
    assert video(out.path)[:2] == ((320, 180), 12)
    assert out.path.stat().st_size < 100_000


def test_a_bad_bitrate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bitrate must be one of small, realistic"):
        Simulator(bitrate="huge")
    with pytest.raises(ValueError, match="bitrate"):
        Renderer(tmp_path, bitrate="huge")
    cli = [sys.executable, "-m", "kling_studio.simulator", "--bitrate", "huge"]
    result = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "--bitrate" in result.stderr
