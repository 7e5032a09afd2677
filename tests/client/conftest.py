"""Fixtures for the client's tests: the session simulator, reset around each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

FAST = PollPolicy(tail_max=0.05, min_interval=0.01)


def _reset(sim: Simulator) -> None:
    sim.set_faults(None)
    sim.result_shape = "objects"
    sim.balance = None
    sim.upload_ttl = None


@pytest.fixture
def fresh_sim(sim: Simulator) -> Iterator[Simulator]:
    """The session simulator with no faults, restored after the test."""
    _reset(sim)
    yield sim
    _reset(sim)


@pytest.fixture
async def fast_client(fresh_sim: Simulator) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(fresh_sim.api_key, fresh_sim.base_url, poll_policy=FAST) as c:
        yield c
