"""A lookup that fails while a paid task is followed (FoxAPI answering 404 for a moment right
after the create, a network outage) never makes the task `failed` nor stops following it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .flicker_proxy import flicker_proxy

FAST = PollPolicy(tail_max=0.05, min_interval=0.01)


async def test_a_404_right_after_the_create_does_not_abandon_the_task(
    sim: Simulator, tmp_path: Path
) -> None:
    history = History(tmp_path / "h.sqlite3")
    cards: list[dict[str, Any]] = []
    with flicker_proxy(sim.base_url, flickers=2) as proxy:
        async with AsyncClient(sim.api_key, proxy.base_url, poll_policy=FAST) as client:
            runner = Runner(client, history)
            runner.subscribe(cards.append)
            prepared = await client.prepare(
                prompt="found only on the third look", image=make_picture()
            )
            record = await runner.run(prepared)
    assert proxy.not_found == 2  # the fault did happen
    assert record.status == "completed" and record.video_path is not None
    assert record.video_path.is_file()
    assert [c["status"] for c in cards if c["status"] == "failed"] == []
    assert cards[-1]["status"] == "completed" and cards[-1]["has_video"]
    assert cards[-1]["error"] is None


async def test_a_resumed_task_survives_lookups_that_fail(sim: Simulator, tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST) as client:
        runner = Runner(client, history, download_videos=False)
        prepared = await client.prepare(prompt="resumed through 404s", image=make_picture())
        local_id = history.journal_submit(prepared)
        history.mark_created(local_id, await client.create(prepared))
    cards: list[dict[str, Any]] = []
    with flicker_proxy(sim.base_url, flickers=3) as proxy:
        async with AsyncClient(sim.api_key, proxy.base_url, poll_policy=FAST) as client:
            runner = Runner(client, history)
            runner.subscribe(cards.append)
            assert await runner.resume() == [local_id]
            await runner.join()
    assert proxy.not_found == 3
    record = history.get(local_id)
    assert record is not None and record.status == "completed" and record.has_video
    assert not [c for c in cards if c["status"] == "failed"]


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda a: {**a, "created": 10**20}, id="a field out of range"),
        pytest.param(lambda a: {**a, "id": {"value": a["id"]}}, id="an id of another shape"),
    ],
)
async def test_a_create_answer_the_client_cannot_read_is_never_rejected(
    sim: Simulator, tmp_path: Path, rewrite: Any
) -> None:
    history = History(tmp_path / "h.sqlite3")
    with flicker_proxy(sim.base_url, flickers=0, rewrite_create=rewrite) as proxy:
        async with AsyncClient(sim.api_key, proxy.base_url, poll_policy=FAST) as client:
            runner = Runner(client, history)
            record = await runner.run(
                await client.prepare(prompt="odd answer", image=make_picture())
            )
    (answer,) = proxy.created
    # The task exists and is paid for: `unknown` (look for it), or followed by the id the client
    # could read; never `rejected`, never another id.
    assert record.status in ("unknown", "completed"), record
    assert record.task_id in (None, answer["id"])
    if record.status == "completed":
        assert record.has_video
    else:
        assert record.unknown_reason
