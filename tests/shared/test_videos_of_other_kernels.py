"""In a shared (PostgreSQL) history with one video store (a real S3 server), a task whose video
another person's kernel saved reads as having a video everywhere (the view, the DataFrame, the
widget's history row) before this machine has fetched a byte of it; playing it fetches it from
the store, and the database holds no video bytes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.history._store import History
from kling_studio.history._view import view
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator
from kling_studio.studio._shapes import history_row

from ..conftest import make_picture

FAST = PollPolicy(tail_max=0.1, min_interval=0.02)


async def _ada_makes_a_video(sim: Simulator, url: str) -> str:
    history = History(url, user="ada")
    try:
        async with AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST) as client:
            runner = Runner(client, history)
            picture = make_picture(640, 360)
            local_id = runner.start(await client.prepare(prompt="a fox", image=picture))
            await asyncio.wait_for(runner.join(), 60)
        assert history[local_id].has_video
        return local_id
    finally:
        history.close()


async def test_a_video_saved_by_another_kernel_reads_as_saved_before_any_fetch(
    postgres_url: str, s3_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLING_STUDIO_VIDEOS", s3_store)  # the class's one store
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "ada-machine"))
    with Simulator(time_scale=0.02, seed=3, render_width=64, fps=4) as sim:
        local_id = await _ada_makes_a_video(sim, postgres_url)
        made = (tmp_path / "ada-machine").rglob("*.mp4")
        ada_bytes = next(p for p in made if p.is_file()).read_bytes()

    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "bob-machine"))
    with History(postgres_url, user="bob") as bob:
        record = bob[local_id]
        assert not record.has_video  # no file on Bob's machine...
        assert view(record).video == "saved"  # ...yet the history has it, ready to play
        row = history_row(record)
        assert row["has_video"] is True and row["error_code"] is None
        frame = bob.df()
        assert frame.loc[frame["local_id"] == local_id, "video"].tolist() == ["saved"]
        assert [r.local_id for r in bob.missing_videos()] == []  # nothing to download again
        assert not list((tmp_path / "bob-machine").rglob("*.mp4"))  # listing fetched nothing

        path = bob.video_file(local_id)  # first play: fetched from the shared store
        assert path.read_bytes() == ada_bytes
        assert tmp_path / "bob-machine" in path.parents
        assert path.with_name(f"{path.stem}.poster.jpg").is_file()  # its poster came too
        assert bob._legacy_bytes(bob.video_sha256(local_id) or "") is None  # no bytes in SQL
