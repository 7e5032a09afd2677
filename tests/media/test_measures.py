"""Video measures on synthetic clips whose answers are known."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from kling_studio.media import measure_video

from .synthetic_clips import SIZE, blurred, clip, panning, textured


def still(tmp_path: Path, picture: Image.Image, count: int = 24) -> Path:
    return clip(tmp_path / "still.mp4", count, lambda i: picture)


def test_a_still_clip_has_no_motion_and_is_all_frozen(tmp_path: Path) -> None:
    m = measure_video(still(tmp_path, textured(1)))
    assert m.frames == 24
    assert m.motion is not None and m.motion < 0.5
    assert m.frozen_share is not None and m.frozen_share > 0.95
    assert m.flicker is not None and m.flicker < 0.5
    assert m.cuts == 0


def test_a_panning_clip_moves_at_its_speed_and_is_not_frozen(tmp_path: Path) -> None:
    wide = textured(2, (SIZE[0] + 24 * 2, SIZE[1]))
    m = measure_video(clip(tmp_path / "pan.mp4", 24, panning(wide, 2)))
    # 2 px per frame on a 320 px frame at 24 fps: 15 % of the width per second (analysed at
    # 160 px, the shift is 1 px: block matching finds it to within a pixel).
    assert m.motion is not None and 10.0 < m.motion < 20.0
    assert m.frozen_share is not None and m.frozen_share < 0.1
    assert m.cuts == 0


def test_alternating_frames_flicker_most_and_are_no_cuts(tmp_path: Path) -> None:
    a, b = textured(3), textured(4)
    alternating = measure_video(clip(tmp_path / "alt.mp4", 24, lambda i: a if i % 2 else b))
    wide = textured(2, (SIZE[0] + 24 * 2, SIZE[1]))
    panned = measure_video(clip(tmp_path / "pan.mp4", 24, panning(wide, 2)))
    steady = measure_video(still(tmp_path, a))
    assert alternating.flicker is not None and panned.flicker is not None
    assert steady.flicker is not None
    assert alternating.flicker > 3 * panned.flicker > steady.flicker
    assert alternating.cuts == 0  # a steady change every frame is flicker, not a cut
    assert alternating.frozen_share == 0.0


def test_a_hard_cut_is_counted_once(tmp_path: Path) -> None:
    a, b = textured(5), textured(6)
    one = measure_video(clip(tmp_path / "cut.mp4", 24, lambda i: a if i < 12 else b))
    assert one.cuts == 1
    two = measure_video(
        clip(tmp_path / "cuts.mp4", 36, lambda i: a if i < 12 else (b if i < 24 else a))
    )
    assert two.cuts == 2


def test_a_clip_starting_on_the_input_picture_matches_it(tmp_path: Path) -> None:
    picture = textured(7)
    video = still(tmp_path, picture)
    same = measure_video(video, image=picture)
    other = measure_video(video, image=textured(8))
    assert same.first_frame_match is not None and same.first_frame_match > 0.9
    assert other.first_frame_match is not None and other.first_frame_match < 0.3
    assert same.last_frame_match is None  # no tail picture given


def test_the_match_handles_an_input_of_another_aspect_cropped_or_padded(tmp_path: Path) -> None:
    picture = textured(9, (480, 360))  # 4:3 input, 16:9 video
    cropped = picture.crop((0, 45, 480, 315)).resize(SIZE)  # the video fills its frame
    crop_video = still(tmp_path, cropped)
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    m = measure_video(crop_video, image=buf.getvalue())  # bytes work as well as PIL images
    assert m.first_frame_match is not None and m.first_frame_match > 0.85
    boxed = Image.new("RGB", SIZE)
    boxed.paste(picture.resize((240, 180)), (40, 0))  # the API letterboxes instead
    m = measure_video(clip(tmp_path / "boxed.mp4", 4, lambda i: boxed), image=picture)
    assert m.first_frame_match is not None and m.first_frame_match > 0.85


def test_the_last_frame_is_matched_against_the_tail_picture(tmp_path: Path) -> None:
    a, b = textured(10), textured(11)
    video = clip(tmp_path / "ab.mp4", 24, lambda i: Image.blend(a, b, i / 23))
    m = measure_video(video, image=a, image_tail=b)
    assert m.first_frame_match is not None and m.first_frame_match > 0.9
    assert m.last_frame_match is not None and m.last_frame_match > 0.9
    swapped = measure_video(video, image=b, image_tail=a)
    assert swapped.first_frame_match is not None and swapped.first_frame_match < 0.3
    assert swapped.last_frame_match is not None and swapped.last_frame_match < 0.3


def test_blur_lowers_sharpness(tmp_path: Path) -> None:
    picture = textured(12)
    sharp = measure_video(still(tmp_path, picture))
    soft = measure_video(clip(tmp_path / "soft.mp4", 24, lambda i: blurred(picture, 3)))
    assert sharp.sharpness is not None and soft.sharpness is not None
    assert soft.sharpness < sharp.sharpness / 3


def test_a_file_without_frames_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    with pytest.raises(Exception):  # noqa: B017 - PyAV's error or ours, never a number
        measure_video(bad)
