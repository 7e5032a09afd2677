"""A paid task's outcome is journalled whatever happens to the history file meanwhile: a write
lock held by another program, or an answer the client could not read in full."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.errors import HistoryError
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .lock_holder import hold_write_lock

FAST = PollPolicy(tail_max=0.05, min_interval=0.01)


@pytest.fixture
def slow_create_sim() -> Iterator[Simulator]:
    # The create's answer comes 0.6 s after the task is made: time to take the lock first.
    with Simulator(time_scale=0.02, seed=11, faults="slow=1@create,slow_seconds=0.6") as s:
        yield s


async def until(check: Callable[[], Any], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def made(sim: Simulator, prompt: str) -> list[dict[str, Any]]:
    return [t for t in sim.created_tasks() if t["body"].get("prompt") == prompt]


async def test_a_locked_history_when_the_create_answers_never_makes_the_task_rejected(
    slow_create_sim: Simulator, tmp_path: Path
) -> None:
    sim, prompt = slow_create_sim, "paid while another program holds the lock"
    history = History(tmp_path / "h.sqlite3", busy_timeout=0.2)
    cards: list[dict[str, Any]] = []
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST) as client:
        runner = Runner(client, history)
        runner.subscribe(cards.append)
        local_id = runner.start(await client.prepare(prompt=prompt, image=make_picture()))
        await until(lambda: history.get(local_id) is not None)  # journalled; create on its way
        with hold_write_lock(history.path):
            await until(lambda: made(sim, prompt))
            # The answer arrives while the lock is held, and its write fails (0.2 s timeout);
            # the runner goes on following the task meanwhile.
            await until(lambda: any(c["task_id"] for c in cards), timeout=5)
            await asyncio.sleep(0.5)
            assert history.get(local_id).status == "submitting"  # type: ignore[union-attr]
            unsaved = [c for c in cards if (c["error"] or {}).get("code") == "history_unsaved"]
            assert unsaved, cards[-1]  # the user is told the history is behind
        record = await runner.finished(local_id)
    (task,) = made(sim, prompt)
    assert record.status == "completed" and record.task_id == task["id"], record
    assert record.video_path is not None and record.video_path.is_file()
    assert not [c for c in cards if c["status"] == "failed"]
    assert cards[-1]["error"] is None  # once saved, the warning goes


async def test_a_refusal_that_arrives_while_the_history_is_locked_is_kept_once_it_is_free(
    slow_create_sim: Simulator, tmp_path: Path
) -> None:
    """The other way round: a 402 proves no task exists; it is recorded once the lock is free."""
    sim = slow_create_sim
    sim.set_faults("slow=1@create,402=1@create,slow_seconds=0.6")
    history = History(tmp_path / "h.sqlite3", busy_timeout=0.2)
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST) as client:
        runner = Runner(client, history)
        local_id = runner.start(await client.prepare(prompt="refused", image=make_picture()))
        await until(lambda: history.get(local_id) is not None)
        with hold_write_lock(history.path):
            await asyncio.sleep(1.0)  # the refusal came, and its write failed
            assert history.get(local_id).status == "submitting"  # type: ignore[union-attr]
        record = await runner.finished(local_id)
    assert record.status == "rejected" and record.task_id is None
    assert record.error_code == "insufficient_quota"
    assert sim.stats()["requests"]["create"] == 1


async def test_a_create_that_never_reached_the_server_is_rejected(
    sim: Simulator, tmp_path: Path
) -> None:
    """Connection refused proves no task exists: `rejected`, not an `unknown` to look for."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there
    history = History(tmp_path / "h.sqlite3")
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        prepared = await client.prepare(prompt="never left", image=make_picture())
    async with AsyncClient(sim.api_key, closed, max_retries=0) as client:
        record = await Runner(client, history).run(prepared)
    assert record.status == "rejected" and record.task_id is None
    assert "cannot connect" in (record.error_message or "")


async def test_a_history_deleted_mid_task_is_said_and_the_task_still_followed(
    sim: Simulator, tmp_path: Path
) -> None:
    history = History(tmp_path / "h.sqlite3")
    cards: list[dict[str, Any]] = []
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST) as client:
        runner = Runner(client, history)
        runner.subscribe(cards.append)
        local_id = runner.start(await client.prepare(prompt="orphaned file", image=make_picture()))
        await until(lambda: any(c["task_id"] for c in cards))
        history.path.unlink()  # e.g. a clean-up script, while the studio has it open
        with pytest.raises(HistoryError, match="could not save it"):
            await runner.finished(local_id)
    last = cards[-1]
    # Followed to the end in memory, and the user is told the history did not get it.
    assert last["status"] == "completed" and last["has_video"], last
    assert last["error"]["code"] == "history_unsaved"
    assert (
        "deleted or replaced" in last["error"]["message"]
        and last["task_id"] in last["error"]["message"]
    )
    assert runner.unsaved(local_id)
