"""A result whose video is in the class's store (saved by another member's kernel, never on this
machine) can be continued from and stitched: its video is fetched first, as playing does."""

from __future__ import annotations

from pathlib import Path

import pytest

from kling_studio import Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from .conftest import BLUE, GREEN, RED, Recorder, clip
from .test_stitch import frame_count


def _studio(sim: Simulator, url: str, user: str) -> Studio:
    s = Studio(api_key=sim.api_key, base_url=sim.base_url, history=url, user=user)
    s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
    s.send = Recorder()  # type: ignore[method-assign]
    return s


async def test_a_video_only_in_the_store_is_continued_and_stitched(
    wide_sim: Simulator,
    postgres_url: str,
    s3_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KLING_STUDIO_VIDEOS", s3_store)
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "ada-machine"))
    ada = _studio(wide_sim, postgres_url, "ada")
    try:
        ids = [await clip(ada, RED, BLUE), await clip(ada, BLUE, GREEN)]
        frames = [frame_count(ada.history[i].video_path) for i in ids]
    finally:
        ada.close()

    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "bob-machine"))
    bob = _studio(wide_sim, postgres_url, "bob")
    try:
        record = bob.history[ids[1]]
        assert not record.has_video and record.video_stored  # only in the store
        picture = bob.continue_from(ids[1])
        assert picture["width"] == 640
        joined = bob.stitch(ids)
        assert joined.has_video and joined.stitched_from == ids
        assert frame_count(joined.video_path) == sum(frames)
        assert tmp_path / "bob-machine" in joined.video_path.parents
        assert bob.history[joined.local_id].video_stored  # the stitched result is in the store
    finally:
        bob.close()
