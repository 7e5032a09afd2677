"""Shared pieces of the benchmarks: servers in their own process, statistics, tables.

The servers run in a child process (``python -m benchmarks.common sim|fixed-json``) so that
the client being measured has its own interpreter and GIL, as it would against the real
FoxAPI: a simulator in the same process would make every request pay for the server's Python
too, and a busy server would slow the client down. Both processes read the same monotonic
clock (CLOCK_MONOTONIC on Linux), which is how a detection delay is measured across them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import httpx

from kling_studio.client._polling import PollPolicy

# Lines from a child that start with this carry JSON; anything else (logs) is ignored.
PREFIX = "@@ "
START_TIMEOUT = 30.0

# A task as the API shows it; what the trivial server answers, and the shape the client parses.
FIXED_TASK = {
    "created": 1795482000,
    "id": "task-unified-1795482000-bench001",
    "model": "kling-v3-image-to-video",
    "object": "video.generation.task",
    "progress": 42,
    "status": "processing",
    "task_info": {"can_cancel": True, "estimated_time": 45},
    "type": "video",
    "usage": {"credits_reserved": 10, "user_group": "default"},
}

# PollPolicy fields measured in seconds: scaled with the simulator's clock. The rest are ratios.
SECONDS_FIELDS = ("tail_max", "min_interval", "max_interval", "default_estimate")


# -- statistics ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable in a terminal and pasteable into the README)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for row in cells:
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.3g}" if abs(value) >= 1000 else f"{value:.2f}"
    return str(value)


def scaled_policy(policy: PollPolicy, time_scale: float) -> PollPolicy:
    """The same policy on a clock running `1 / time_scale` times faster.

    The simulator scales `estimated_time` and the true durations; the policy's absolute
    seconds (the 1 s tail cap, the minimum interval...) must shrink with them, or a scaled run
    would not behave like a real one. At time_scale 1 this is the policy itself.
    """
    changes = {name: getattr(policy, name) * time_scale for name in SECONDS_FIELDS}
    return replace(policy, **changes)


def parse_policy(spec: str, base: PollPolicy | None = None) -> PollPolicy:
    """`"tail_max=0.8,approach=0.7"` -> a PollPolicy with those fields changed."""
    policy = base or PollPolicy()
    known = {f.name for f in fields(PollPolicy)}
    changes: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        if name not in known or not value:
            raise ValueError(f"not a PollPolicy field=value: {item!r} (fields: {sorted(known)})")
        changes[name] = float(value)
    return replace(policy, **changes)


def policy_changes(policy: PollPolicy) -> dict[str, float]:
    """The fields where `policy` differs from the default PollPolicy."""
    default = PollPolicy()
    return {
        f.name: getattr(policy, f.name)
        for f in fields(PollPolicy)
        if getattr(policy, f.name) != getattr(default, f.name)
    }


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts GETs per path and times them (to the response headers), then passes them on."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.gets: Counter[str] = Counter()
        self.get_seconds: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = await self._inner.handle_async_request(request)
        if request.method == "GET":
            self.gets[request.url.path] += 1
            self.get_seconds.append(time.perf_counter() - started)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


# -- child processes -------------------------------------------------------------------------


class Child:
    """A server in a child process, spoken to in JSON lines over its stdin and stdout."""

    def __init__(self, *args: str) -> None:
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), _pythonpath()])))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.common", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        self.hello = self._read()

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        while True:
            line = self._proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the benchmark server exited (code {self._proc.wait()})")
            if line.startswith(PREFIX):
                answer: dict[str, Any] = json.loads(line[len(PREFIX) :])
                if "error" in answer:
                    raise RuntimeError(f"the benchmark server failed: {answer['error']}")
                return answer

    def close(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert self._proc.stdin is not None
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pythonpath() -> str:
    return os.environ.get("PYTHONPATH", "")


@dataclass(frozen=True)
class SimInfo:
    base_url: str
    api_key: str
    time_scale: float


class SimHost(Child):
    """One child process that runs one Simulator at a time (`start` replaces the last one).

    Every Simulator it starts shares one render folder (so a clip is encoded once per run,
    not once per strategy) and one frozen `created` wall second (so that the same seed gives
    the same task ids, hence the same true durations, in every Simulator).
    """

    def __init__(self) -> None:
        super().__init__("sim")

    def start(
        self,
        *,
        time_scale: float,
        seed: int,
        faults: str | None = None,
        progress: str = "even",
    ) -> SimInfo:
        before = time.monotonic()
        answer = self.ask(
            {
                "cmd": "start",
                "time_scale": time_scale,
                "seed": seed,
                "faults": faults,
                "progress": progress,
            }
        )
        after = time.monotonic()
        if not before <= answer["monotonic"] <= after:
            raise RuntimeError(
                "the server process does not share this process's monotonic clock; "
                "detection delays cannot be measured on this platform"
            )
        return SimInfo(answer["base_url"], answer["api_key"], time_scale)

    def timelines(self) -> dict[str, dict[str, Any]]:
        """Per task id: started_at, pending_for, duration, estimate, ready_at, completed_at,
        fail_at (monotonic seconds; None when not applicable)."""
        tasks: dict[str, dict[str, Any]] = self.ask({"cmd": "timelines"})["tasks"]
        return tasks

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.ask({"cmd": "stats"})["stats"]
        return stats


class FixedJsonServer(Child):
    """A trivial HTTP/1.1 keep-alive server answering FIXED_TASK to every request, instantly."""

    def __init__(self) -> None:
        super().__init__("fixed-json")
        self.base_url = str(self.hello["base_url"])


# -- what runs in the child ------------------------------------------------------------------


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(PREFIX + json.dumps(message) + "\n")
    sys.stdout.flush()


class _FrozenWall:
    """The simulator's clock with a fixed wall second, so task ids depend on the seed only."""

    def __init__(self, wall: int) -> None:
        self._wall = wall

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> int:
        return self._wall


def _timeline(task: Any) -> dict[str, Any]:
    # Reads the simulator's private task table (state.Task); see benchmarks/README.md.
    return {
        "started_at": task.started_at,
        "pending_for": task.pending_for,
        "duration": task.duration,
        "estimate": task.estimate,
        "ready_at": task.ready_at,
        "completed_at": task.completed_at(),
        "fail_at": task.fail_at,
    }


def _serve_sim() -> None:
    from kling_studio.simulator import Simulator

    folder = Path(tempfile.mkdtemp(prefix="kling-bench-"))
    wall = int(time.time())
    sim: Simulator | None = None
    _say({"ready": True})
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            message = json.loads(line)
            try:
                cmd = message["cmd"]
                if cmd == "start":
                    if sim is not None:
                        sim.stop()
                    sim = Simulator(
                        time_scale=message["time_scale"],
                        seed=message["seed"],
                        faults=message.get("faults"),
                        progress=message.get("progress", "even"),
                        data_dir=folder,
                    )
                    sim._ctx.store.clock = _FrozenWall(wall)  # type: ignore[assignment]
                    sim.start()
                    _say(
                        {
                            "base_url": sim.base_url,
                            "api_key": sim.api_key,
                            "monotonic": time.monotonic(),
                        }
                    )
                elif cmd == "timelines":
                    assert sim is not None, "no simulator started"
                    store = sim._ctx.store
                    with store.lock:
                        tasks = {tid: _timeline(t) for tid, t in store.tasks.items()}
                    _say({"tasks": tasks})
                elif cmd == "stats":
                    assert sim is not None, "no simulator started"
                    _say({"stats": sim.stats()})
                else:
                    _say({"error": f"unknown command {cmd!r}"})
            except Exception as exc:
                _say({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        if sim is not None:
            sim.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _serve_fixed_json() -> None:
    body = json.dumps(FIXED_TASK).encode()
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    answer = head + body

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")  # GETs only: no body to read
                writer.write(answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _say({"base_url": f"http://127.0.0.1:{port}"})
        loop = asyncio.get_running_loop()
        # Serve until the parent closes our stdin.
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(main())


def _child_main(argv: Sequence[str]) -> None:
    if list(argv) == ["sim"]:
        _serve_sim()
    elif list(argv) == ["fixed-json"]:
        _serve_fixed_json()
    else:
        raise SystemExit("usage: python -m benchmarks.common sim|fixed-json")


if __name__ == "__main__":
    _child_main(sys.argv[1:])
