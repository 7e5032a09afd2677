"""Scale: 1,000 tasks in flight in one process. Event-loop lag and memory, kling-studio's asyncio
path against a thread-per-task baseline, in the same run.

Three ways to follow the same N tasks (720p, 5 s, fault-free; ~20-30 s each at the default
time scale), each in a fresh child process so that its memory and its event loop are its own:

- `asyncio`: `AsyncClient.create` then `AsyncClient.wait`, one coroutine per task;
- `runner`: `Runner.start` per task (journalled in a History, no downloads), as the widget does;
- `threads`: one OS thread per task, a shared sync `httpx.Client`, the same create and the same
  polling schedule (`PollPolicy` / `next_delay`, `time.sleep`) and the same `Task.from_api`.

In each child a probe coroutine on the main thread's event loop sleeps 10 ms in a loop and
records how late it wakes (the lag: what a notebook kernel would feel), and samples the RSS
every ~100 ms. Memory is the peak RSS minus the RSS just before the first task (clients, pools
and modules already loaded). The lag is reported for the submit burst (all N started at once,
until every create has answered), for the in-flight phase (all N created, until all ended: the
issue's "1,000 tasks in flight", where the target is read) and for the whole run. The simulator
runs in its own process (`benchmarks.common.SimHost`) so that its work is not counted; every
mode gets a fresh simulator with the same seed. Shared machines are noisy: each mode runs
`--rounds` times (order rotated) and the report gives the median and the range.

    python -m benchmarks.scale [--tasks N] [--time-scale X] [--rounds R] [--modes ...]
                               [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil

from kling_studio import AsyncClient
from kling_studio import contract as c
from kling_studio.client._polling import PollPolicy, PollState, next_delay
from kling_studio.client._transport import USER_AGENT
from kling_studio.history._store import History
from kling_studio.models import PreparedRequest, Task
from kling_studio.runner import Runner

from .common import PREFIX, SimHost, format_table, percentile

MODES = ("asyncio", "runner", "threads")
TARGET_P99_LAG_MS = 20.0
TARGET_RSS_DELTA_MB = 50.0
PROBE_INTERVAL = 0.010  # seconds the probe asks to sleep
RSS_EVERY = 10  # probe wake-ups between RSS samples (~100 ms)
IMAGE_URL = "https://example.com/scale-first-frame.png"  # not fetched: a placeholder frame
PROMPT = "a lighthouse at dusk, waves rolling in, slow aerial orbit"  # one render, shared
MB = 1024 * 1024


class Probe:
    """Oversleep of a 10 ms sleep on the running loop, and the RSS, until stopped."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (woke at, lag) in seconds
        self.rss_peak = 0
        self._process = psutil.Process()
        self._stop = asyncio.Event()

    def rss(self) -> int:
        value = int(self._process.memory_info().rss)
        self.rss_peak = max(self.rss_peak, value)
        return value

    async def run(self) -> None:
        clock = time.perf_counter
        count = 0
        while not self._stop.is_set():
            before = clock()
            await asyncio.sleep(PROBE_INTERVAL)
            woke = clock()
            self.samples.append((woke, woke - before - PROBE_INTERVAL))
            count += 1
            if count % RSS_EVERY == 0:
                self.rss()

    def stop(self) -> None:
        self._stop.set()

    def lags(self, start: float, end: float) -> list[float]:
        return [lag for at, lag in self.samples if start <= at <= end]


def lag_stats(lags: Sequence[float]) -> dict[str, float]:
    """p50/p99/max in milliseconds, and how many wake-ups were measured."""
    return {
        "p50_ms": round(percentile(lags, 50) * 1000, 2),
        "p99_ms": round(percentile(lags, 99) * 1000, 2),
        "max_ms": round(max(lags, default=float("nan")) * 1000, 2),
        "n": len(lags),
    }


class Tracker:
    """Counts creates answered and tasks ended; tells the loop when all are done."""

    def __init__(self, tasks: int, loop: asyncio.AbstractEventLoop) -> None:
        self.tasks = tasks
        self.loop = loop
        self.created = 0
        self.ended = 0
        self.statuses: dict[str, int] = {}
        self.all_created = loop.create_future()
        self.all_ended = loop.create_future()
        self.created_at: float | None = None
        self._lock = threading.Lock()

    def create_done(self) -> None:  # any thread
        with self._lock:
            self.created += 1
            last = self.created == self.tasks
        if last:
            self.created_at = time.perf_counter()
            self.loop.call_soon_threadsafe(_settle, self.all_created)

    def task_done(self, status: str) -> None:  # any thread
        with self._lock:
            self.ended += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            last = self.ended == self.tasks
        if last:
            self.loop.call_soon_threadsafe(_settle, self.all_ended)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# -- the three ways to follow N tasks ------------------------------------------------------


Starter = Callable[[Tracker], Awaitable[Callable[[], Awaitable[None]]]]


def payload() -> dict[str, Any]:
    return {"model": c.MODEL_IMAGE_TO_VIDEO, "prompt": PROMPT, "image_url": IMAGE_URL}


async def setup_asyncio(base_url: str, api_key: str, tasks: int, workdir: Path) -> Any:
    client = AsyncClient(api_key, base_url, check_remote_pictures=False)
    prepared = await client.prepare(prompt=PROMPT, image=IMAGE_URL)
    timeout = 3600.0

    async def start(tracker: Tracker) -> Callable[[], Awaitable[None]]:
        async def one() -> None:
            try:
                task = await client.create(prepared)
                tracker.create_done()
                task = await client.wait(task, timeout=timeout)
                tracker.task_done(task.status)
            except Exception as exc:
                tracker.task_done(type(exc).__name__)

        running = [asyncio.create_task(one()) for _ in range(tasks)]

        async def close() -> None:
            await asyncio.gather(*running)
            await client.aclose()

        return close

    return start


async def setup_runner(base_url: str, api_key: str, tasks: int, workdir: Path) -> Any:
    client = AsyncClient(api_key, base_url, check_remote_pictures=False)
    history = History(workdir / "history.sqlite3")
    runner = Runner(client, history, max_in_flight=tasks, download_videos=False)
    prepared: PreparedRequest = await client.prepare(prompt=PROMPT, image=IMAGE_URL)

    async def start(tracker: Tracker) -> Callable[[], Awaitable[None]]:
        created: set[str] = set()
        ended: set[str] = set()

        def listener(card: dict[str, Any]) -> None:
            local_id = card["local_id"]
            if card["task_id"] and local_id not in created:
                created.add(local_id)
                tracker.create_done()
            if card["status"] in ("completed", "failed", "unknown") and local_id not in ended:
                ended.add(local_id)
                tracker.task_done(card["status"])

        runner.subscribe(listener)
        for _ in range(tasks):
            runner.start(prepared)

        async def close() -> None:
            await runner.join()
            await client.aclose()
            history.close()

        return close

    return start


async def setup_threads(base_url: str, api_key: str, tasks: int, workdir: Path) -> Any:
    http = httpx.Client(
        base_url=base_url,
        timeout=30.0,
        headers={"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT},
    )
    policy = PollPolicy()
    body = payload()

    async def start(tracker: Tracker) -> Callable[[], Awaitable[None]]:
        def one() -> None:
            try:
                response = http.post(c.CREATE_PATH, json=body)
                response.raise_for_status()
                task = Task.from_api(response.json())
                tracker.create_done()
                state = PollState(start=time.monotonic(), estimate=task.estimated_time)
                while not task.done:
                    time.sleep(next_delay(policy, state, time.monotonic()))
                    response = http.get(c.TASK_PATH.format(task_id=task.id))
                    response.raise_for_status()
                    task = task.merged(Task.from_api(response.json()))
                    state.observe(time.monotonic(), task.progress)
                tracker.task_done(task.status)
            except Exception as exc:
                tracker.task_done(type(exc).__name__)

        threads = [threading.Thread(target=one, daemon=True) for _ in range(tasks)]
        for thread in threads:
            thread.start()

        async def close() -> None:
            def join() -> None:
                for thread in threads:
                    thread.join()
                http.close()

            await asyncio.to_thread(join)

        return close

    return start


SETUPS = {"asyncio": setup_asyncio, "runner": setup_runner, "threads": setup_threads}


async def measure_async(
    mode: str, base_url: str, api_key: str, tasks: int, workdir: Path, idle: float = 1.0
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    start_tasks = await SETUPS[mode](base_url, api_key, tasks, workdir)
    probe = Probe()
    probing = asyncio.create_task(probe.run())
    await asyncio.sleep(idle)  # idle lag, for reference
    gc.collect()
    idle_end = time.perf_counter()
    rss_before = probe.rss()
    probe.rss_peak = rss_before
    cpu_before = _cpu_seconds()
    tracker = Tracker(tasks, loop)
    started = time.perf_counter()
    close = await start_tasks(tracker)
    await tracker.all_created
    rss_all_created = probe.rss()
    threads_in_flight = threading.active_count()
    await tracker.all_ended
    ended = time.perf_counter()
    rss_end = probe.rss()
    probe.stop()
    await probing
    await close()
    created_at = tracker.created_at or ended
    return {
        "mode": mode,
        "tasks": tasks,
        "statuses": tracker.statuses,
        "seconds": round(ended - started, 2),
        "submit_seconds": round(created_at - started, 2),
        "cpu_seconds": round(_cpu_seconds() - cpu_before, 2),
        "lag": {
            "idle": lag_stats(probe.lags(0.0, idle_end)),
            "all": lag_stats(probe.lags(started, ended)),
            "submit": lag_stats(probe.lags(started, created_at)),
            "in_flight": lag_stats(probe.lags(created_at, ended)),
        },
        "rss_before_mb": round(rss_before / MB, 1),
        "rss_all_created_delta_mb": round((rss_all_created - rss_before) / MB, 1),
        "rss_peak_delta_mb": round((probe.rss_peak - rss_before) / MB, 1),
        "rss_end_delta_mb": round((rss_end - rss_before) / MB, 1),
        "threads": threads_in_flight,
    }


def _cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def measure(
    mode: str, base_url: str, api_key: str, tasks: int, *, idle: float = 1.0
) -> dict[str, Any]:
    """One mode, in this process (the CLI runs each in a child of its own); `idle` seconds of
    probing before the tasks start give the idle lag."""
    if mode not in SETUPS:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    with tempfile.TemporaryDirectory(prefix="kling-scale-") as folder:
        return asyncio.run(measure_async(mode, base_url, api_key, tasks, Path(folder), idle))


# -- the parent: a simulator process, one child per mode, the report ------------------------


def run_child(mode: str, base_url: str, api_key: str, tasks: int) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
    args = ["--child", mode, "--base-url", base_url, "--api-key", api_key, "--tasks", str(tasks)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith(PREFIX):
            result: dict[str, Any] = json.loads(line[len(PREFIX) :])
            return result
    raise RuntimeError(f"the {mode} child failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def run(
    *,
    tasks: int = 1000,
    time_scale: float = 0.5,
    modes: Sequence[str] = MODES,
    rounds: int = 1,
    seed: int = 6,
    in_process: bool = False,
    idle: float = 1.0,
    progress: bool = False,
) -> dict[str, Any]:
    """Every mode against a fresh simulator (same seed), `rounds` times with the order of the
    modes rotated each round; returns the report (per mode: the median over the rounds)."""
    per_round: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    started = time.perf_counter()
    with SimHost() as host:
        for r in range(rounds):
            shift = r % len(modes)
            for mode in [*modes[shift:], *modes[:shift]]:
                if progress:
                    print(f"round {r + 1}/{rounds}: {mode}, {tasks} tasks", file=sys.stderr)
                info = host.start(time_scale=time_scale, seed=seed)
                if in_process:
                    result = measure(mode, info.base_url, info.api_key, tasks, idle=idle)
                else:
                    result = run_child(mode, info.base_url, info.api_key, tasks)
                stats = host.stats()
                result["requests"] = stats["requests"]
                result["gets_per_task"] = round(stats["requests"].get("get", 0) / tasks, 2)
                per_round[mode].append(result)
    report: dict[str, Any] = {"modes": {m: summarize(rs) for m, rs in per_round.items()}}
    report["rounds"] = per_round
    report["config"] = {
        "tasks": tasks,
        "time_scale": time_scale,
        "estimated_task_seconds": round(45 * time_scale, 1),
        "rounds": rounds,
        "seed": seed,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    report["targets"] = targets(report["modes"])
    return report


# The figures summarized over rounds: (name, how to read it from one round's result).
FIGURES: dict[str, Callable[[dict[str, Any]], float]] = {
    "seconds": lambda r: r["seconds"],
    "submit_seconds": lambda r: r["submit_seconds"],
    "cpu_seconds": lambda r: r["cpu_seconds"],
    "lag_p50_ms": lambda r: r["lag"]["all"]["p50_ms"],
    "lag_p99_ms": lambda r: r["lag"]["all"]["p99_ms"],
    "lag_max_ms": lambda r: r["lag"]["all"]["max_ms"],
    "submit_p99_ms": lambda r: r["lag"]["submit"]["p99_ms"],
    "in_flight_p99_ms": lambda r: r["lag"]["in_flight"]["p99_ms"],
    "in_flight_max_ms": lambda r: r["lag"]["in_flight"]["max_ms"],
    "idle_p99_ms": lambda r: r["lag"]["idle"]["p99_ms"],
    "rss_peak_delta_mb": lambda r: r["rss_peak_delta_mb"],
    "rss_all_created_delta_mb": lambda r: r["rss_all_created_delta_mb"],
    "gets_per_task": lambda r: r["gets_per_task"],
}


def summarize(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the rounds, its range, and every task's end status."""
    out: dict[str, Any] = {"tasks": results[0]["tasks"], "rounds": len(results)}
    for name, read in FIGURES.items():
        values = [float(read(r)) for r in results]
        out[name] = round(percentile(values, 50), 2)
        out[f"{name}_range"] = [round(min(values), 2), round(max(values), 2)]
    statuses: dict[str, int] = {}
    for r in results:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    out["statuses"] = statuses
    out["threads"] = max(r["threads"] for r in results)
    return out


def targets(modes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets for the asyncio paths, with every figure against the baseline.

    The lag target is read on the in-flight phase (all N created, until all ended): "1,000
    tasks in flight". The submit burst (N creates in the same instant) is reported beside it.
    """
    out: dict[str, Any] = {}
    base = modes.get("threads")
    for mode in ("asyncio", "runner"):
        if mode not in modes:
            continue
        m = modes[mode]
        entry: dict[str, Any] = {
            "in_flight_p99_ms": m["in_flight_p99_ms"],
            "whole_run_p99_ms": m["lag_p99_ms"],
            "p99_lag_ok": m["in_flight_p99_ms"] <= TARGET_P99_LAG_MS,
            "whole_run_p99_ok": m["lag_p99_ms"] <= TARGET_P99_LAG_MS,
            "rss_delta_mb": m["rss_peak_delta_mb"],
            "rss_ok": m["rss_peak_delta_mb"] <= TARGET_RSS_DELTA_MB,
        }
        if base is not None:
            entry["p99_lag_vs_threads"] = _ratio(m["in_flight_p99_ms"], base["in_flight_p99_ms"])
            entry["rss_vs_threads"] = _ratio(m["rss_peak_delta_mb"], base["rss_peak_delta_mb"])
        out[mode] = entry
    return out


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def table(report: dict[str, Any]) -> str:
    headers = [
        "mode",
        "completed",
        "CPU s",
        "lag p99 in flight ms",
        "lag p99 whole run ms",
        "lag max ms",
        "submit p99 ms",
        "RSS +MB peak",
        "GETs/task",
    ]
    rows = []
    for mode, m in report["modes"].items():
        done = m["statuses"].get("completed", 0)
        rows.append(
            [
                mode,
                f"{done}/{m['tasks'] * m['rounds']}",
                m["cpu_seconds"],
                _with_range(m, "in_flight_p99_ms"),
                _with_range(m, "lag_p99_ms"),
                m["lag_max_ms"],
                m["submit_p99_ms"],
                _with_range(m, "rss_peak_delta_mb"),
                m["gets_per_task"],
            ]
        )
    lines = [format_table(headers, rows), ""]
    for mode, t in report["targets"].items():
        lag = "ok" if t["p99_lag_ok"] else "MISSED"
        mem = "ok" if t["rss_ok"] else "MISSED"
        vs = ""
        if "p99_lag_vs_threads" in t:
            vs = f"; vs threads: lag x{t['p99_lag_vs_threads']:g}, memory x{t['rss_vs_threads']:g}"
        lines.append(
            f"{mode}: p99 lag in flight {t['in_flight_p99_ms']:.2f} ms (target <= "
            f"{TARGET_P99_LAG_MS:g}: {lag}; whole run {t['whole_run_p99_ms']:.2f} ms), "
            f"RSS +{t['rss_delta_mb']:.1f} MB (target <= {TARGET_RSS_DELTA_MB:g}: {mem}){vs}"
        )
    cfg = report["config"]
    lines.append(
        f"{cfg['tasks']} tasks, time scale {cfg['time_scale']} (~{cfg['estimated_task_seconds']} s "
        f"each), median of {cfg['rounds']} round(s) [min-max], {cfg['cpus']} CPUs, Python "
        f"{cfg['python']}, {cfg['wall_seconds']} s in all"
    )
    return "\n".join(lines)


def _with_range(m: dict[str, Any], name: str) -> str:
    low, high = m[f"{name}_range"]
    if m["rounds"] == 1:
        return f"{m[name]:.2f}"
    return f"{m[name]:.2f} [{low:.2f}-{high:.2f}]"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--time-scale", type=float, default=0.5)
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="median over this many rounds")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--api-key", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = measure(args.child, args.base_url, args.api_key, args.tasks)
        print(PREFIX + json.dumps(result), flush=True)
        return 0
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        parser.error(f"unknown mode(s) {unknown}; use {', '.join(MODES)}")
    report = run(
        tasks=args.tasks,
        time_scale=args.time_scale,
        modes=modes,
        rounds=args.rounds,
        seed=args.seed,
        progress=not args.json,
    )
    print(json.dumps(report, indent=1) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
