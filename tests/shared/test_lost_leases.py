"""A kernel too slow to renew a lease loses the task to the kernel that took it over, and stops
following it there and then: the task is polled by one kernel at a time and its video downloaded
once, by the kernel that holds it."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture

FAST = PollPolicy(tail_max=0.1, min_interval=0.02)
KEY = "sk-slow-kernel-0123456789"


async def test_a_kernel_whose_lease_was_taken_stops_following_the_task(tmp_path: Path) -> None:
    location = str(tmp_path / "team.sqlite3")
    with Simulator(time_scale=0.15, seed=5, api_keys=[KEY], render_width=64, fps=4) as sim:
        async with AsyncClient(KEY, sim.base_url) as client:
            request = await client.prepare(prompt="a slow fox", image=make_picture(), duration=5)
            task = await client.create(request)
        with History(location) as maker:  # journalled by a kernel that then died
            local_id = maker.journal_submit(request)
            maker.mark_created(local_id, task)
            maker.release()
        slow = History(location, lease_seconds=0.6)  # renews every 0.2 s
        async with AsyncClient(KEY, sim.base_url, poll_policy=FAST) as client:
            runner = Runner(client, slow)
            assert await runner.resume() == [local_id]
            await asyncio.sleep(0.1)
            # Its lease ran out while it was busy, and another kernel took the task over.
            with History(location) as other:
                other.owner = "another-machine/boot:4242:0badc0de"
                other._run(
                    lambda conn: conn.exec_driver_sql(
                        "UPDATE tasks SET lease_owner = ?, lease_until = ?",
                        (other.owner, "2999-01-01T00:00:00.000000+00:00"),
                    ),
                    write=True,
                )
            await asyncio.wait_for(runner.join(), 10)  # it let go at its next renewal
            gets = sim.created_tasks()[0]["gets"]
            assert runner.cards()[0]["error"]["code"] == "followed_elsewhere"
            assert sim.created_tasks()[0]["status"] != "completed"
            for _ in range(300):  # until the task ends at the server (~7 s at this time scale)
                if sim.created_tasks()[0]["status"] == "completed":
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)  # time to poll and download, had it gone on
            await runner.aclose()
        slow.close()
        served = sim.created_tasks()[0]
    assert served["status"] == "completed"
    assert served["gets"] == gets  # no GET after letting go
    assert served["video_gets"] == 0  # the new holder downloads it, not this kernel
    assert hashlib.sha256(KEY.encode()).hexdigest()[:8] in served["pollers"]
