"""Stitch: results joined into one MP4 that is a new completed result of the history (its
parts listed), copied packet for packet when the parts match, encoded again when they don't."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest

from kling_studio.errors import InputError

from .conftest import BLUE, GREEN, RED, Pair, ask, clip


def seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        assert container.duration is not None
        return container.duration / av.time_base


def packets(path: Path, kind: str = "video") -> list[bytes]:
    with av.open(str(path)) as container:
        stream = next(s for s in container.streams if s.type == kind)
        return [bytes(p) for p in container.demux(stream) if p.size]


def frame_sizes(path: Path) -> set[tuple[int, int]]:
    with av.open(str(path)) as container:
        return {(f.width, f.height) for f in container.decode(video=0)}


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


async def test_matching_clips_are_joined_without_encoding_again(
    studio: Pair, tmp_path: Path
) -> None:
    s, _ = studio
    ids = [await clip(s, RED, BLUE), await clip(s, BLUE, GREEN)]
    parts = [s.history[i].video_path for i in ids]
    copy = tmp_path / "out" / "scene.mp4"
    record = s.stitch(ids, copy)

    assert record.status == "completed" and record.has_video
    assert record.stitched_from == ids and record.variant["reencoded"] is False
    assert record.model == "kling-studio/stitch" and record.task_id.startswith("stitch-")
    assert copy.read_bytes() == record.video_path.read_bytes()
    assert seconds(record.video_path) == pytest.approx(sum(seconds(p) for p in parts), abs=0.01)
    # Not encoded again: the very same compressed frames, in order.
    assert packets(record.video_path) == packets(parts[0]) + packets(parts[1])
    with av.open(str(record.video_path)) as joined, av.open(str(parts[0])) as first:
        a, b = joined.streams.video[0].codec_context, first.streams.video[0].codec_context
        assert (a.name, a.width, a.height, a.extradata) == (b.name, b.width, b.height, b.extradata)
    assert frame_count(record.video_path) == frame_count(parts[0]) + frame_count(parts[1])
    assert record.poster_path is not None  # a result like any other
    assert s.history.count() == 3


async def test_clips_of_different_sizes_are_encoded_to_the_first_ones_size(
    studio: Pair,
) -> None:
    s, _ = studio
    wide = await clip(s, RED, BLUE)
    tall = await clip(s, GREEN, size=(360, 640))  # a 640x1138 clip
    parts = [s.history[i].video_path for i in (wide, tall)]
    assert frame_sizes(parts[1]) == {(640, 1138)}
    record = s.stitch([wide, tall])

    assert record.variant["reencoded"] is True and record.stitched_from == [wide, tall]
    assert frame_sizes(record.video_path) == {(640, 360)}
    assert seconds(record.video_path) == pytest.approx(sum(seconds(p) for p in parts), abs=0.1)
    assert frame_count(record.video_path) == frame_count(parts[0]) + frame_count(parts[1])


async def test_sound_carries_over_when_only_some_parts_have_it(studio: Pair) -> None:
    s, _ = studio
    quiet = await clip(s, RED)
    loud = await clip(s, BLUE, generate_audio=True)
    record = s.stitch([quiet, loud])
    assert record.variant["reencoded"] is True
    with av.open(str(record.video_path)) as container:
        audio = container.streams.audio[0]
        assert audio.duration is not None
        assert float(audio.duration * audio.time_base) == pytest.approx(10.0, abs=0.1)


async def test_the_stitch_message_answers_a_result_that_plays(studio: Pair) -> None:
    s, rec = studio
    ids = [await clip(s, RED), await clip(s, GREEN)]
    reply = await ask(s, rec, {"kind": "stitch", "local_ids": ids})
    assert reply["ok"], reply
    local_id = reply["data"]["local_id"]
    assert s.history[local_id].stitched_from == ids
    card = [m["card"] for m in rec.kinds("task") if m["card"]["local_id"] == local_id][-1]
    assert card["status"] == "completed" and card["has_video"] and card["poster"]
    video = await ask(s, rec, {"kind": "video", "local_id": local_id})
    assert video["ok"] and video["data"]["size"] == s.history[local_id].video_path.stat().st_size
    rows = await ask(s, rec, {"kind": "history", "offset": 0, "limit": 10})
    assert rows["data"]["rows"][0]["local_id"] == local_id
    # The history's rows name the parts (the player lists them); a generated task has none.
    assert [r["stitched_from"] for r in rows["data"]["rows"][:3]] == [ids, None, None]


async def test_bad_stitch_input_is_refused_before_anything_is_done(
    studio: Pair, tmp_path: Path
) -> None:
    s, rec = studio
    good = await clip(s, RED)
    gone = await clip(s, GREEN)
    s.history[gone].video_path.unlink()
    store = s.history.store  # and the store's copy: the video is nowhere
    assert store.location.folder is not None
    (store.location.folder / store.key(s.history.video_sha256(gone) or "")).unlink()
    videos = set(s.history.videos_dir.iterdir())
    count = s.history.count()

    cases: list[tuple[Any, str]] = [
        ([good], "at least 2"),
        ([], "at least 2"),
        (good, "list of local ids"),
        ([good, "nope"], "no task 'nope'"),
        ([good, gone], "no saved video"),
        ([good, None], "local id"),
    ]
    for local_ids, message in cases:
        with pytest.raises(InputError, match=message):
            s.stitch(local_ids)
        reply = await ask(s, rec, {"kind": "stitch", "local_ids": local_ids})
        assert not reply["ok"] and reply["error"]["field"] == "local_ids", reply
    with pytest.raises(InputError, match=r"\.mp4"):
        s.stitch([good, good], tmp_path / "scene.mov")
    assert s.history.count() == count
    assert set(s.history.videos_dir.iterdir()) == videos
    assert not (tmp_path / "scene.mov").exists()
