"""Posters: a small JPEG of each saved video's first frame, beside it, carried by history rows
and task cards as a data: URL; old rows get theirs when first shown."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import av

from kling_studio.history._videos import VideoCache
from kling_studio.media import POSTER_MAX_SIDE, ensure_poster, poster_path_for
from kling_studio.studio._shapes import history_row

from ..conftest import make_picture
from .conftest import BLUE, RED, Pair, ask, clip, decoded


def first_frame(path: object) -> object:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_image()


def near(color: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(color, expected, strict=False))


async def test_a_saved_video_gets_a_small_jpeg_poster_of_its_first_frame(studio: Pair) -> None:
    s, _ = studio
    record = s.history[await clip(s, RED, BLUE)]
    assert record.video_path is not None
    poster = record.poster_path
    assert poster == poster_path_for(record.video_path) and poster is not None
    assert poster.parent == record.video_path.parent  # beside the video
    image = decoded(poster.read_bytes())
    assert image.format == "JPEG"
    assert image.size == (POSTER_MAX_SIDE, 180)  # the 640x360 video, 320 px wide
    assert poster.stat().st_size < 20_000
    # Its first frame (red), not its last (blue): compare the middle, above the caption band.
    middle = image.getpixel((160, 60))
    assert near(middle, RED), middle
    expected = first_frame(record.video_path).resize(image.size).getpixel((160, 60))
    assert near(middle, expected, 12)


async def test_rows_and_the_final_card_carry_the_poster_as_a_data_url(studio: Pair) -> None:
    s, rec = studio
    local_id = await clip(s)
    record = s.history[local_id]
    assert record.poster_path is not None
    url = "data:image/jpeg;base64," + base64.b64encode(record.poster_path.read_bytes()).decode()

    rows = await ask(s, rec, {"kind": "history", "offset": 0, "limit": 10})
    assert rows["data"]["rows"][0]["poster"] == url
    cards = [m["card"] for m in rec.kinds("task") if m["card"]["local_id"] == local_id]
    assert cards[-1]["has_video"] and cards[-1]["poster"] == url
    assert all(c["poster"] is None for c in cards if not c["has_video"])
    snapshot = await ask(s, rec, {"kind": "snapshot"})
    assert snapshot["data"]["cards"][0]["poster"] == url


async def test_an_old_row_without_a_poster_gets_one_when_first_shown(studio: Pair) -> None:
    s, rec = studio
    record = s.history[await clip(s)]
    assert record.poster_path is not None
    record.poster_path.unlink()  # as if saved before posters existed
    assert s.history[record.local_id].poster_path is None

    rows = await ask(s, rec, {"kind": "history", "offset": 0, "limit": 10})
    poster = s.history[record.local_id].poster_path
    assert poster is not None and decoded(poster.read_bytes()).format == "JPEG"
    assert rows["data"]["rows"][0]["poster"].startswith("data:image/jpeg;base64,")


async def test_a_damaged_video_has_no_poster_and_still_lists(studio: Pair) -> None:
    s, _ = studio
    record = s.history[await clip(s)]
    assert record.video_path is not None and record.poster_path is not None
    record.poster_path.unlink()
    record.video_path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    assert ensure_poster(record.video_path) is None
    assert history_row(s.history[record.local_id])["poster"] is None


def test_importing_the_package_does_not_load_pyav() -> None:
    import subprocess

    code = "import sys, kling_studio, kling_studio.media, kling_studio.history\n"
    code += "print('av' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_the_video_cache_makes_the_poster_as_it_saves_a_video(
    studio: Pair, tmp_path: Path
) -> None:
    s, _ = studio
    red = s.history[await clip(s, RED)]
    blue = s.history[await clip(s, BLUE)]
    assert red.video_url and blue.video_url
    cache = VideoCache(tmp_path / "cache")
    path = await cache.download(red.video_url, "task-1")
    poster = poster_path_for(path)
    assert poster.is_file() and near(decoded(poster.read_bytes()).getpixel((160, 60)), RED)
    # A video saved again over the old one gets a fresh poster, not the old one's.
    await cache.download(blue.video_url, "task-1", overwrite=True)
    assert near(decoded(poster.read_bytes()).getpixel((160, 60)), BLUE)


async def test_the_html_report_shows_each_videos_poster(studio: Pair, tmp_path: Path) -> None:
    s, _ = studio
    s.set_image(make_picture(color=RED))
    s.update_form(prompt="a lake", duration=5)
    group_id = s.compare(prompts=["a lake", "a sea"])
    await s.await_all(60)
    records = [r for r in s.history.records(group_id=group_id)]
    assert len(records) == 2 and all(r.poster_path is not None for r in records)
    old = records[0].poster_path
    assert old is not None
    old.unlink()  # a video saved before posters existed gets one in the report
    saved = records[1].poster_path
    assert saved is not None
    saved.write_bytes(make_picture(320, 180, color=BLUE, fmt="JPEG"))  # the stored one is used
    text = s.export_comparison(tmp_path / "report.html", group_id).read_text("utf-8")
    shown = set(re.findall(r'src="(data:image/jpeg;base64,[^"]+)"', text))
    expected = set()
    for record in records:
        poster = s.history[record.local_id].poster_path
        assert poster is not None
        expected.add("data:image/jpeg;base64," + base64.b64encode(poster.read_bytes()).decode())
    assert shown == expected
