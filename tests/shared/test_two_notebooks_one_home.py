"""Two notebooks on one home, each with its own built-in simulator (same seed), generating in
the same second: each keeps its own task id and its own video; and the history never attaches
one task's video file to another task's record."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.errors import HistoryError
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator
from kling_studio.simulator import state as sim_state

from ..conftest import make_picture
from ..history.test_store import api, completed, prepared

FAST = PollPolicy(tail_max=0.1, min_interval=0.02)


async def _notebook(sim: Simulator, home: Path, color: tuple[int, int, int]) -> list[str]:
    """One notebook: its own simulator, its own History object on the shared home."""
    history = History(home)
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST) as client:
        runner = Runner(client, history, max_in_flight=3)
        picture = make_picture(640, 360, color)
        ids = [
            runner.start(await client.prepare(prompt=f"clip {n}", image=picture, duration=5))
            for n in range(3)
        ]
        await asyncio.wait_for(runner.join(), 60)
    history.close()
    return ids


async def test_two_simulators_in_the_same_second_keep_their_own_ids_and_videos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "The same second", made certain: both simulators read one frozen wall clock.
    monkeypatch.setattr(sim_state.Clock, "wall", lambda self: 1_767_225_600)
    home = tmp_path / "home"
    with (
        Simulator(time_scale=0.02, seed=0, render_width=64, fps=4) as red_sim,
        Simulator(time_scale=0.02, seed=0, render_width=64, fps=4) as blue_sim,
    ):
        red, blue = await asyncio.gather(
            _notebook(red_sim, home, (220, 30, 30)), _notebook(blue_sim, home, (30, 30, 220))
        )
        served: dict[str, bytes] = {}
        async with httpx.AsyncClient() as http:
            with History(home) as history:
                for local_id in red + blue:
                    record = history[local_id]
                    assert record.status == "completed" and record.video_url, record
                    served[local_id] = (await http.get(record.video_url)).content

    with History(home) as history:
        records = [history[i] for i in red + blue]
        assert len({r.task_id for r in records}) == 6  # nobody shares an id
        assert len({r.video_path for r in records}) == 6
        for record in records:
            assert record.video_path is not None
            assert record.video_path.read_bytes() == served[record.local_id]


def test_a_video_file_is_never_attached_to_another_tasks_record(tmp_path: Path) -> None:
    with History(tmp_path / "home") as history:
        first = history.journal_submit(prepared("first"))
        second = history.journal_submit(prepared("second"))
        # Two tasks that (wrongly) came back under one id, each with its own result URL.
        history.mark_created(first, api("task-1", "pending"))
        history.update(first, completed("task-1", url="http://127.0.0.1:1/a.mp4"))
        history.mark_created(second, api("task-1", "pending"))
        history.update(second, completed("task-1", url="http://127.0.0.1:2/b.mp4"))
        video = history.cache.path_for("task-1")
        video.write_bytes(b"first's video")
        history.set_video(first, video)
        with pytest.raises(HistoryError, match="already belongs to the history's task"):
            history.set_video(second, video)
        assert history[second].video_path is None
        assert history[first].video_path == video
