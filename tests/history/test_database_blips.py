"""A database server that cannot be reached for a moment only delays a paid task's writes: they
are held in order and land once it answers again (the card says the history is behind
meanwhile); nothing is treated as a lost history."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.history._faults import HistoryBusy, HistoryUnreachable
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..cuttable_proxy import CuttableProxy, cuttable_proxy
from .test_outcome_writes import made, until

FAST = PollPolicy(tail_max=0.05, min_interval=0.01)


@pytest.fixture
def slow_create_sim() -> Iterator[Simulator]:
    # The create's answer comes 0.6 s after the task is made: the cut starts in between.
    with Simulator(time_scale=0.02, seed=13, faults="slow=1@create,slow_seconds=0.6") as s:
        yield s


@pytest.fixture
def proxied(postgres_url: str) -> Iterator[tuple[str, CuttableProxy]]:
    """The database's URL through a proxy that can be cut, and the proxy."""
    parts = urlsplit(postgres_url)
    assert parts.hostname and parts.port
    with cuttable_proxy(parts.hostname, parts.port) as proxy:
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
        yield urlunsplit(parts._replace(netloc=netloc)), proxy


async def test_a_one_second_outage_as_the_create_answers_loses_nothing(
    slow_create_sim: Simulator, proxied: tuple[str, CuttableProxy], postgres_url: str
) -> None:
    sim, (url, proxy) = slow_create_sim, proxied
    prompt = "paid while the database blinks"
    history = History(url)
    cards: list[dict[str, Any]] = []
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST) as client:
        runner = Runner(client, history)
        runner.subscribe(cards.append)
        local_id = runner.start(await client.prepare(prompt=prompt, image=make_picture()))
        await until(lambda: made(sim, prompt))  # journalled and sent; its answer is 0.6 s away
        proxy.cut()
        await until(lambda: any(c["task_id"] for c in cards), timeout=5)  # answered meanwhile
        await asyncio.sleep(1.0 - 0.6)
        assert proxy.refused, "the runner never tried the database during the cut"
        unsaved = [c for c in cards if (c["error"] or {}).get("code") == "history_unsaved"]
        assert unsaved, cards[-1]  # the card says the history is behind, and that it catches up
        assert "Cannot reach the PostgreSQL history" in unsaved[-1]["error"]["message"]
        assert "saves it as soon as it can" in unsaved[-1]["error"]["message"]
        proxy.restore()
        record = await runner.finished(local_id)
        await runner.aclose()
    history.close()
    (task,) = made(sim, prompt)
    assert record.status == "completed" and record.task_id == task["id"], record
    assert record.video_path is not None and record.video_path.is_file()
    assert cards[-1]["error"] is None and not runner.unsaved(local_id)  # caught up
    fresh = History(postgres_url)  # another kernel, straight to the server
    try:
        saved = fresh.get(local_id)
        assert saved is not None
        assert saved.status == "completed" and saved.task_id == task["id"], saved
        assert saved.video_path is not None or saved.video_stored, saved
    finally:
        fresh.close()


def test_a_server_out_of_reach_is_a_fault_that_passes(
    proxied: tuple[str, CuttableProxy],
) -> None:
    """Every writer (journal, leases, ratings) gets the same retryable class from the one place
    that reads driver errors: a broken connection and a refused one alike."""
    url, proxy = proxied
    history = History(url)
    try:
        history.claim_all([])  # connected
        proxy.cut()  # the pooled connection is closed under it
        with pytest.raises(HistoryUnreachable, match="Cannot reach") as caught:
            history.renew(["t1"])
        assert isinstance(caught.value, HistoryBusy)
        proxy.restore()
        assert history.renew(["t1"]) == set()  # back, with nothing lost
    finally:
        history.close()
