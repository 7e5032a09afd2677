"""A 404 right after a create is transient (contract.NOT_FOUND_GRACE_S); a 404 that lasts past the
grace, or for a task this client did not create, is reported as such."""

from __future__ import annotations

import asyncio
import time

import pytest

from kling_studio import AsyncClient, NotFoundError
from kling_studio import contract as c
from kling_studio.simulator import Simulator

from ..conftest import make_picture


async def test_a_flickering_404_after_a_create_does_not_end_the_wait(
    fast_client: AsyncClient, fresh_sim: Simulator
) -> None:
    task = await fast_client.submit(prompt="404 right after create", image=make_picture())
    fresh_sim.set_faults("404=1@get")
    waiting = asyncio.create_task(fast_client.wait(task.id, timeout=30))
    await asyncio.sleep(0.4)
    assert fresh_sim.stats()["faults"].get("404", 0) >= 1  # it was seen, and shrugged off
    fresh_sim.set_faults("404=0.5@get")  # flickering, then gone
    await asyncio.sleep(0.3)
    fresh_sim.set_faults(None)
    done = await waiting
    assert done.succeeded and done.video_url


async def test_a_404_that_outlasts_the_grace_is_reported(
    fast_client: AsyncClient, fresh_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(c, "NOT_FOUND_GRACE_S", 0.4, raising=False)
    task = await fast_client.submit(prompt="404 for good", image=make_picture())
    fresh_sim.set_faults("404=1@get")
    started = time.monotonic()
    with pytest.raises(NotFoundError, match=r"still not found .* after FoxAPI accepted") as info:
        await fast_client.wait(task, timeout=30)
    assert 0.3 <= time.monotonic() - started < 2.0
    assert info.value.task_id == task.id and "dashboard" in str(info.value)


async def test_a_404_for_a_task_this_client_did_not_create_is_final_at_once(
    fast_client: AsyncClient, fresh_sim: Simulator
) -> None:
    sent = fast_client.requests_sent
    with pytest.raises(NotFoundError):
        await fast_client.get("task-unified-0-nobody")
    assert fast_client.requests_sent == sent + 1


async def test_a_404_within_the_grace_at_the_deadline_is_a_wait_timeout(
    fast_client: AsyncClient, fresh_sim: Simulator
) -> None:
    from kling_studio import WaitTimeout

    task = await fast_client.submit(prompt="404 until the deadline", image=make_picture())
    fresh_sim.set_faults("404=1@get")
    started = time.monotonic()
    with pytest.raises(WaitTimeout):
        await fast_client.wait(task, timeout=0.6)
    assert time.monotonic() - started < 1.5
