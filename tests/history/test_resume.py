"""History that survives: SIGKILL with tasks in flight, resume, lost creates, expired URLs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture

CHILD = r"""
import asyncio, os, sys
from kling_studio import AsyncClient
from kling_studio.runner import Runner
from kling_studio.history._store import History

async def main(n, picture):
    history = History()
    async with AsyncClient() as client:
        runner = Runner(client, history, max_in_flight=n)
        ids = [runner.start(await client.prepare(prompt=f"task {i}", image=picture, duration=10))
               for i in range(n)]
        while any(history.get(i) is None or history.get(i).task_id is None for i in ids):
            await asyncio.sleep(0.05)
        print("CREATED", flush=True)
        await asyncio.sleep(3600)  # killed long before this

asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
"""


def start_child(n: int, picture: Path, sim: Simulator) -> subprocess.Popen[str]:
    env = dict(os.environ, FOXAPI_API_KEY=sim.api_key, FOXAPI_BASE_URL=sim.base_url)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(n), str(picture)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def slow_sim() -> Simulator:
    # Tasks take a few seconds, so they are surely in flight when the child is killed.
    with Simulator(time_scale=0.08, seed=3) as s:
        yield s  # type: ignore[misc]


def kill_with_tasks_in_flight(n: int, tmp_path: Path, sim: Simulator) -> None:
    picture = tmp_path / "first.png"
    picture.write_bytes(make_picture(640, 360))
    child = start_child(n, picture, sim)
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "CREATED", child.stderr.read() if child.stderr else ""
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert child.returncode == -signal.SIGKILL


async def test_a_create_without_an_answer_becomes_unknown(sim: Simulator, tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        prepared = await client.prepare(
            prompt="journalled, then the process died", image=make_picture()
        )
        local_id = history.journal_submit(prepared)  # the create may or may not have left
        runner = Runner(client, history)
        assert await runner.resume() == []
    record = history.get(local_id)
    assert record is not None and record.status == "unknown"
    assert record.unknown_reason and "before its answer" in record.unknown_reason
    assert history.df(status="unknown")["local_id"].tolist() == [local_id]


async def test_lost_create_is_journalled_as_unknown(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults("lost=1.0@create")
    try:
        history = History(tmp_path / "h.sqlite3")
        async with AsyncClient(sim.api_key, sim.base_url) as client:
            runner = Runner(client, history)
            record = await runner.run(await client.prepare(prompt="lost", image=make_picture()))
    finally:
        sim.set_faults(None)
    assert record.status == "unknown" and record.task_id is None
    assert "connection dropped" in (record.unknown_reason or "")
    made = [t for t in sim.created_tasks() if t["body"].get("prompt") == "lost"]
    assert len(made) == 1  # it does exist at the server, and was not sent twice


async def test_expired_url_is_said_plainly(sim: Simulator, tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    fast = PollPolicy(tail_max=0.05, min_interval=0.01)
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=fast) as client:
        runner = Runner(client, history, download_videos=False)
        record = await runner.run(await client.prepare(prompt="late", image=make_picture()))
        assert record.status == "completed" and record.video_path is None
        sim.expire_urls(record.task_id)
        later = Runner(client, history)  # as after a restart, a day later
        assert await later.resume() == [record.local_id]
        await later.join()
    after = history.get(record.local_id)
    assert after is not None and after.url_expired and after.video_path is None
    assert "expire" in (after.download_error or "")
    assert history.missing_videos() == []  # an expired URL is not retried forever


async def test_download_failures_are_retried_by_resume(sim: Simulator, tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    fast = PollPolicy(tail_max=0.05, min_interval=0.01)
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=fast) as client:
        sim.set_faults("5xx=1.0@files")
        try:
            record = await Runner(client, history).run(
                await client.prepare(prompt="flaky cdn", image=make_picture())
            )
        finally:
            sim.set_faults(None)
        assert record.status == "completed" and record.video_path is None
        assert record.download_error
        runner = Runner(client, history)
        await runner.resume()
        await runner.join()
    final = history.get(record.local_id)
    assert final is not None and final.video_path is not None and final.video_path.is_file()


def test_studio_resumes_by_itself(slow_sim: Simulator, tmp_path: Path) -> None:
    kill_with_tasks_in_flight(3, tmp_path, slow_sim)
    code = f"""
import asyncio
from kling_studio import Studio
async def main():
    s = Studio(api_key={slow_sim.api_key!r}, base_url={slow_sim.base_url!r})
    await asyncio.sleep(0.1)
    await s.await_all(60)
    df = s.history_df()
    print(sorted(df["status"].astype(str)), int(df["video_path"].notna().sum()))
asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['completed', 'completed', 'completed'] 3"
