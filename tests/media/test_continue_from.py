"""Continue from a result: a finished video's last frame goes into a picture slot through the
same path (and checks) as any picture, so the next clip starts where the last one ended."""

from __future__ import annotations

from typing import Any

import av
import pytest
from PIL import Image, ImageChops

from kling_studio.errors import InputError
from kling_studio.media import last_frame
from kling_studio.pictures import Picture

from ..conftest import make_picture
from .conftest import BLUE, GREEN, RED, Pair, ask, clip, decoded


def every_frame_last(path: object) -> Image.Image:
    """The last frame, the slow way: decode the whole video."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return frames[-1].to_image()


def largest_difference(a: Image.Image, b: Image.Image) -> int:
    extrema = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getextrema()
    return max(high for _, high in extrema)


def top_half(image: Image.Image) -> Image.Image:
    """Above the simulator's caption band."""
    return image.crop((0, 0, image.width, image.height // 2))


async def test_last_frame_is_the_videos_last_decoded_frame(studio: Pair) -> None:
    s, _ = studio
    record = s.history[await clip(s, RED, BLUE)]
    found = last_frame(record.video_path)
    assert found.size == (640, 360)
    assert largest_difference(found, every_frame_last(record.video_path)) == 0
    assert largest_difference(found, Image.new("RGB", found.size, BLUE)) > 0  # not a blank
    assert top_half(found).resize((1, 1)).getpixel((0, 0))[2] > 150  # the tail: blue


@pytest.mark.parametrize("slot", ["image", "image_tail"])
async def test_continue_from_puts_the_last_frame_in_a_slot(studio: Pair, slot: str) -> None:
    s, rec = studio
    local_id = await clip(s, RED, BLUE)
    s.set_image(make_picture(color=GREEN))
    s.set_image_tail(None)
    reply = await ask(s, rec, {"kind": "continue_from", "local_id": local_id, "slot": slot})
    assert reply["ok"], reply
    info = reply["data"]
    assert info == s.pictures[slot]  # the same shape and value as set_picture's reply
    assert (info["width"], info["height"], info["format"]) == (640, 360, "PNG")
    assert info["problems"] == [] and info["thumb"].startswith("data:image/jpeg;base64,")
    picture = s._pictures[slot]
    assert isinstance(picture, Picture)
    video = s.history[local_id].video_path
    assert largest_difference(decoded(picture.data), every_frame_last(video)) == 0
    other = "image_tail" if slot == "image" else "image"
    assert (s._pictures[other] is None) == (other == "image_tail")  # the other slot untouched


async def test_the_next_clip_starts_where_the_last_one_ended(studio: Pair) -> None:
    s, _ = studio
    first = s.history[await clip(s, RED, BLUE)]
    s.continue_from(first.local_id)
    s.update_form(prompt="the scene goes on", duration=5)
    second = await s.agenerate(timeout=60)
    assert second.status == "completed" and second.video_path is not None
    with av.open(str(second.video_path)) as container:
        opening = next(container.decode(video=0)).to_image()
    ending = every_frame_last(first.video_path)
    # Both went through lossy H.264 once more; the picture itself carries over.
    assert (
        largest_difference(top_half(opening).resize((64, 18)), top_half(ending).resize((64, 18)))
        < 40
    )


async def test_continue_from_bad_input_says_what_to_fix_and_changes_nothing(
    studio: Pair,
) -> None:
    s, rec = studio
    s.set_image(make_picture(color=GREEN))
    before = dict(s.pictures)
    with pytest.raises(InputError, match="no task 'nope'"):
        s.continue_from("nope")
    with pytest.raises(InputError, match="slot"):
        s.continue_from("nope", slot="middle")
    reply = await ask(s, rec, {"kind": "continue_from", "local_id": None, "slot": "image"})
    assert not reply["ok"] and reply["error"]["field"] == "local_id"
    # A task without a saved video: the clip exists, its file is gone (and the store's copy).
    record = s.history[await clip(s)]
    record.video_path.unlink()
    store = s.history.store
    assert store.location.folder is not None
    (store.location.folder / store.key(s.history.video_sha256(record.local_id) or "")).unlink()
    s.set_image(make_picture(color=GREEN))
    before = dict(s.pictures)
    reply = await ask(
        s, rec, {"kind": "continue_from", "local_id": record.local_id, "slot": "image"}
    )
    assert not reply["ok"] and "no saved video" in reply["error"]["message"]
    assert s.pictures == before


async def test_a_last_frame_too_small_for_kling_shows_what_to_fix(sim: Any, tmp_path: Any) -> None:
    """The default simulator renders 320x180: under the 300 px rule, as a real small clip
    would be. The frame is kept and shown with its problem, like any picture."""
    from kling_studio import Studio

    from .conftest import Recorder

    s = Studio(api_key=sim.api_key, base_url=sim.base_url, history=tmp_path / "h.db")
    s.send = Recorder()  # type: ignore[method-assign]
    try:
        record = s.history[await clip(s)]
        info = s.continue_from(record.local_id)
        assert (info["width"], info["height"]) == (320, 180)
        assert any("at least 300 px" in p for p in info["problems"])
        with pytest.raises(InputError, match="300 px"):
            await s.asubmit()
        assert len(s.history) == 1  # refused before anything was sent
    finally:
        s.close()


async def test_the_studios_own_simulator_makes_clips_a_scene_can_go_on_from(
    tmp_path: Any,
) -> None:
    """Studio(simulator=True) renders clips whose last frame passes the 300 px rule, so
    continue-from works offline, clip after clip, with the simulator's small default width."""
    from kling_studio import Studio
    from kling_studio.client._polling import PollPolicy

    from .conftest import Recorder

    s = Studio(simulator=True, history=tmp_path / "h.db", time_scale=0.004, resume=False)
    s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
    s.send = Recorder()  # type: ignore[method-assign]
    try:
        first = s.history[await clip(s, RED, size=(960, 540))]
        info = s.continue_from(first.local_id)
        assert info["problems"] == [], info
        assert (info["width"], info["height"]) == (534, 300)
        s.update_form(prompt="the scene goes on", duration=5)
        second = await s.agenerate(timeout=60)
        assert second.status == "completed" and second.has_video
        assert s.continue_from(second.local_id)["problems"] == []
    finally:
        s.close()
