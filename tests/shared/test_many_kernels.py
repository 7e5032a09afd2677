"""Many kernels, one history (SQLite file and PostgreSQL): every unfinished task is polled and
downloaded by exactly one kernel, and a kernel killed mid-flight hands its tasks over once its
lease runs out. Real processes, each with its own API key so that the simulator can tell who
polled what."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from kling_studio.history._store import History
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..kernel_processes import read_line, start_script

TASKS = 12
LEASE = 4.0  # seconds: a killed kernel's tasks are adopted this long after its last renewal

KERNEL = textwrap.dedent(
    """
    import asyncio, sys
    from kling_studio import AsyncClient
    from kling_studio.client._polling import PollPolicy
    from kling_studio.history._store import History
    from kling_studio.runner import Runner

    location, job, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
    policy = PollPolicy(tail_max=0.2, min_interval=0.05)

    async def create(n, picture):
        history = History(location, lease_seconds=lease)
        async with AsyncClient(poll_policy=policy) as client:
            runner = Runner(client, history, max_in_flight=n)
            ids = [runner.start(await client.prepare(prompt=f"task {i}", image=picture,
                                                     duration=10)) for i in range(n)]
            while any(history.get(i) is None or history.get(i).task_id is None for i in ids):
                await asyncio.sleep(0.05)
            print("CREATED", flush=True)
            await asyncio.sleep(3600)  # killed long before this

    async def resume():
        history = History(location, lease_seconds=lease)
        async with AsyncClient(poll_policy=policy) as client:
            runner = Runner(client, history, max_in_flight=32)
            print("READY", flush=True)
            await asyncio.to_thread(sys.stdin.readline)  # "go"
            print("RESUMED", len(await runner.resume()), flush=True)
            # Stay up until the whole history is done: a dead kernel's tasks come to us.
            while history.unfinished() or history.missing_videos() or runner.in_flight:
                await asyncio.sleep(0.1)
            await runner.aclose()
        print("DONE", flush=True)

    if job == "create":
        asyncio.run(create(int(sys.argv[4]), sys.argv[5]))
    else:
        asyncio.run(resume())
    """
)

KEYS = [f"sk-kernel-{n}-0123456789" for n in range(5)]


def _short(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _start(sim: Simulator, key: str, *argv: str) -> subprocess.Popen[str]:
    return start_script(KERNEL, {"FOXAPI_API_KEY": key, "FOXAPI_BASE_URL": sim.base_url}, *argv)


def _go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "team.sqlite3")
    return str(request.getfixturevalue("postgres_url"))


def test_kernels_share_the_unfinished_tasks_and_take_over_a_dead_ones(
    location: str, tmp_path: Path
) -> None:
    picture = tmp_path / "first.png"
    picture.write_bytes(make_picture(640, 360))
    with Simulator(time_scale=0.1, seed=11, api_keys=KEYS, render_width=64, fps=4) as sim:
        creator = _start(sim, KEYS[0], location, "create", str(LEASE), str(TASKS), str(picture))
        try:
            assert read_line(creator) == "CREATED"
        finally:
            creator.send_signal(signal.SIGKILL)
            creator.wait(10)
        # Its leases are free at once (a dead process of this machine): the first kernel to
        # resume takes every task; three more find them all held and take none.
        victim = _start(sim, KEYS[4], location, "resume", str(LEASE))
        kernels = [_start(sim, key, location, "resume", str(LEASE)) for key in KEYS[1:4]]
        try:
            assert [read_line(k) for k in [victim, *kernels]] == ["READY"] * 4  # all started up
            _go(victim)
            assert read_line(victim) == f"RESUMED {TASKS}"
            for k in kernels:
                _go(k)
            assert [read_line(k) for k in kernels] == ["RESUMED 0"] * 3
            victim.send_signal(signal.SIGKILL)  # mid-flight, holding every task
            victim.wait(10)
            for k in kernels:  # they adopt its tasks once its leases run out, and finish them
                assert read_line(k) == "DONE"
                assert k.wait(60) == 0
        finally:
            for p in [*kernels, victim]:
                if p.poll() is None:
                    p.kill()
        made = {t["id"]: t for t in sim.created_tasks()}

    with History(location) as history:
        records = history.records()
    assert len(records) == TASKS
    adopters: set[str] = set()
    for record in records:
        assert record.status == "completed", record
        assert record.video_path is not None and record.video_path.is_file()
        served = made[record.task_id]
        assert served["video_gets"] == 1, served  # downloaded once, by one kernel
        # Polled by the creator, by the victim, then (unless the victim saw it end) by exactly
        # one of the three others: never by two.
        others = set(served["pollers"]) - {_short(KEYS[0]), _short(KEYS[4])}
        assert len(others) <= 1, served
        adopters |= others
    assert adopters and adopters <= {_short(k) for k in KEYS[1:4]}  # tasks were handed over
