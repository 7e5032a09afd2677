"""Budgets across real processes on one history (SQLite file and PostgreSQL): kernels of one
user racing at the limit never take the spend past it, and a teacher's budget set in one
process is honoured by a student's kernel in another. Creates are counted at the simulator."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_studio import History
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..kernel_processes import read_line, start_script
from ..server_counts import route_counts

KERNEL = textwrap.dedent(
    """
    import asyncio, sys
    from kling_studio import AsyncClient, Budget, BudgetExceeded, History
    from kling_studio.client._polling import PollPolicy
    from kling_studio.runner import Runner

    policy = PollPolicy(tail_max=0.2, min_interval=0.05)
    job, location, picture = sys.argv[1], sys.argv[2], sys.argv[3]

    async def race(limit, n):
        history = History(location)
        async with AsyncClient(poll_policy=policy) as client:
            budget = Budget(tasks=limit) if limit else None
            runner = Runner(client, history, budget=budget, download_videos=False)
            # Uploaded beforehand, so that after "go" each start goes straight to its journal
            # write, and the kernels' writes meet.
            prepared = [await client.prepare(dict_request(i)) for i in range(n)]
            print("READY", flush=True)
            await asyncio.to_thread(sys.stdin.readline)  # "go": every kernel at once
            ids, refused = [], 0
            for request in prepared:
                try:
                    ids.append(runner.start(request))
                except BudgetExceeded:
                    refused += 1
            sent = 0
            for local_id in ids:
                try:
                    await runner.finished(local_id)
                    sent += 1
                except BudgetExceeded:  # another kernel reserved the last place first
                    refused += 1
            await runner.aclose()
        print(f"RESULT {sent} {refused}", flush=True)

    def dict_request(i):
        from kling_studio import VideoRequest
        return VideoRequest.build(prompt=f"race {i}", image=picture)

    if job == "race":
        asyncio.run(race(int(sys.argv[4]), int(sys.argv[5])))
    else:  # a student with no budget of their own: the teacher's applies
        async def student():
            history = History(location)
            async with AsyncClient(poll_policy=policy) as client:
                runner = Runner(client, history, download_videos=False)
                print("FIRST", (await runner.run(dict_request(0))).status, flush=True)
                try:
                    runner.start(dict_request(1))
                    print("SENT", flush=True)
                except BudgetExceeded as exc:
                    print("REFUSED", " ".join(str(exc).split()), flush=True)
                await runner.aclose()
        asyncio.run(student())
    """
)


@pytest.fixture(scope="module")
def small_sim() -> Iterator[Simulator]:
    """Tiny renders: the simulator's H.264 work is not what these tests are about."""
    with Simulator(time_scale=0.01, seed=3, render_width=64, fps=4) as s:
        yield s


def _start(sim: Simulator, user: str, *argv: str) -> subprocess.Popen[str]:
    env = {
        "FOXAPI_API_KEY": sim.api_key,
        "FOXAPI_BASE_URL": sim.base_url,
        "KLING_STUDIO_USER": user,
    }
    return start_script(KERNEL, env, *argv)


def _picture(tmp_path: Path) -> str:
    path = tmp_path / "first.png"
    path.write_bytes(make_picture(400, 300))
    return str(path)


def test_kernels_racing_at_the_limit_never_exceed_it(
    small_sim: Simulator, location: str, tmp_path: Path
) -> None:
    sim = small_sim
    picture = _picture(tmp_path)
    History(location).close()  # migrated once, so the kernels race on the budget only
    kernels = [_start(sim, "ana", "race", location, picture, "5", "3") for _ in range(4)]
    try:
        assert [read_line(k) for k in kernels] == ["READY"] * 4
        creates = route_counts(sim.stats())["create"]
        for k in kernels:
            assert k.stdin is not None
            k.stdin.write("go\n")
            k.stdin.flush()
        results = [read_line(k).split() for k in kernels]
        for k in kernels:
            assert k.wait(60) == 0
    finally:
        for k in kernels:
            if k.poll() is None:
                k.kill()
    sent = sum(int(r[1]) for r in results)
    refused = sum(int(r[2]) for r in results)
    assert (sent, refused) == (5, 7), results
    assert route_counts(sim.stats())["create"] - creates == 5  # counted at the server
    with History(location) as history:
        records = history.records(user="ana")
    assert len(records) == 5 and all(r.status != "rejected" for r in records)


def test_a_teachers_budget_applies_in_the_students_kernel(
    small_sim: Simulator, location: str, tmp_path: Path
) -> None:
    sim = small_sim
    with History(location, user="teacher") as teacher:
        teacher.set_budget(user="bo", tasks=1, per="day")
        teacher.set_budget(user=None, tasks=10, per="day")  # everyone else: not bo's
    creates = route_counts(sim.stats())["create"]
    student = _start(sim, "bo", "student", location, _picture(tmp_path))
    try:
        assert read_line(student) == "FIRST completed"
        refusal = read_line(student)
        assert student.wait(60) == 0
    finally:
        if student.poll() is None:
            student.kill()
    assert refusal.startswith("REFUSED"), refusal
    assert "1 of 1 tasks used" in refusal and "set in the history by teacher" in refusal
    assert "resets at" in refusal and "Nothing was sent" in refusal
    assert route_counts(sim.stats())["create"] - creates == 1
