"""The engine thread behind every sync call, and the sync client inside a real kernel that runs
cells queued behind it (as JupyterLab's Run All does)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
import time
from typing import Any

import pytest

from kling_studio.client._engine import Engine
from kling_studio.simulator import Simulator


def test_run_returns_and_raises() -> None:
    engine = Engine()

    async def answer() -> int:
        await asyncio.sleep(0.01)
        return 42

    async def fail() -> None:
        raise ValueError("boom")

    assert engine.run(answer()) == 42
    with pytest.raises(ValueError, match="boom"):
        engine.run(fail())
    engine.close()


def test_posted_callbacks_run_on_the_waiting_thread() -> None:
    engine = Engine()
    seen: list[tuple[int, str]] = []

    async def work() -> str:
        for i in range(3):
            engine.post(lambda i=i: seen.append((i, threading.current_thread().name)))
            await asyncio.sleep(0.01)
        return threading.current_thread().name

    engine_thread = engine.run(work())
    me = threading.current_thread().name
    assert [i for i, _ in seen] == [0, 1, 2]
    assert {name for _, name in seen} == {me} and engine_thread != me
    engine.close()


async def test_posted_callbacks_reach_the_home_loop() -> None:
    engine = Engine()
    engine.set_home(asyncio.get_running_loop())
    got: list[str] = []

    async def work() -> None:
        engine.post(lambda: got.append(threading.current_thread().name))

    await engine.arun(work())
    for _ in range(100):
        if got:
            break
        await asyncio.sleep(0.01)
    assert got == [threading.current_thread().name]
    engine.close()


def test_run_from_inside_a_running_loop_does_not_reenter_it() -> None:
    engine = Engine()

    async def inner() -> str:
        return "ok"

    async def outer() -> str:
        # A cell in a kernel: synchronous code called while the kernel's loop is running.
        return engine.run(inner())

    assert asyncio.run(outer()) == "ok"
    engine.close()


def execute_all(cells: list[str], env: dict[str, str], timeout: float = 90) -> dict[int, str]:
    """Send every cell at once (like Run All) and collect each cell's output by its reply."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        ids = [kc.execute(code) for code in cells]
        out: dict[int, str] = {i: "" for i in range(len(cells))}
        replies: list[int] = []
        idle: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(idle) < len(cells) and time.monotonic() < deadline:
            try:
                msg: dict[str, Any] = kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                msg = {}
            parent = msg.get("parent_header", {}).get("msg_id")
            if parent in ids and msg["msg_type"] == "stream":
                out[ids.index(parent)] += msg["content"]["text"]
            elif parent in ids and msg["msg_type"] == "error":
                out[ids.index(parent)] += "ERROR " + msg["content"]["evalue"]
            elif parent in ids and msg["content"].get("execution_state") == "idle":
                idle.add(ids.index(parent))
            with contextlib.suppress(queue.Empty):
                reply = kc.get_shell_msg(timeout=0.01)
                # A late kernel_info reply from start-up may arrive here too: only ours count.
                if reply["parent_header"].get("msg_id") in ids:
                    replies.append(ids.index(reply["parent_header"]["msg_id"]))
        assert replies == list(range(len(cells))), (replies, out)
        return out
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_sync_client_in_a_kernel_with_cells_queued_behind_it(sim: Simulator) -> None:
    sim.set_faults(None)
    cells = [
        "import io\nfrom PIL import Image\nfrom kling_studio import Client\n"
        "buf = io.BytesIO(); Image.new('RGB', (640, 360), 'red').save(buf, 'PNG')\n"
        "c = Client()\n"
        "t = c.generate(prompt='queued cells', image=buf.getvalue(), timeout=60,\n"
        "               on_progress=lambda t: print('PROGRESS', t.status))\n"
        "print('DONE', t.status)",
        "print('NEXT CELL RAN')",
        "print('LAST CELL RAN', t.id == c.get(t.id).id)",
    ]
    env = dict(os.environ, FOXAPI_API_KEY=sim.api_key, FOXAPI_BASE_URL=sim.base_url)
    out = execute_all(cells, env)
    assert "PROGRESS pending" in out[0] and "DONE completed" in out[0]  # callbacks in its cell
    assert out[1].strip() == "NEXT CELL RAN"
    assert out[2].strip() == "LAST CELL RAN True"


def test_a_script_with_a_closed_studio_exits() -> None:
    # Closing twice (once by hand, once by the widget's finaliser at exit) must not start a
    # new engine thread that keeps the interpreter alive.
    import subprocess
    import sys

    code = "from kling_studio import Studio\ns = Studio(simulator=True)\ns.close()\nprint('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_closed_engine_refuses_work() -> None:
    engine = Engine()
    engine.close()

    async def nothing() -> None:
        return None

    coro = nothing()
    with pytest.raises(RuntimeError, match="closed"):
        engine.run(coro)
    coro.close()


def test_run_timeout_is_the_total_time_even_while_callbacks_keep_arriving() -> None:
    # A progress callback every 50 ms must not stretch a 0.3 s timeout (it once reset an idle
    # timer, so a chatty task ran on far past the time its caller allowed).
    engine = Engine()
    ticks: list[int] = []

    async def chatty() -> str:
        for n in range(40):  # 2 s of work if nothing stops it
            engine.post(lambda n=n: ticks.append(n))
            await asyncio.sleep(0.05)
        return "finished"

    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"0\.3 s"):
        engine.run(chatty(), timeout=0.3)
    assert time.monotonic() - started < 1.0
    assert ticks, "callbacks ran on the waiting thread meanwhile"
    time.sleep(0.1)  # let the loop finish cancelling the task before it stops
    engine.close()
