"""GETs per task and detection delay, per progress behaviour: `AsyncClient.wait` against fixed
1 s and 6 s polling, and against the one-GET webhook limit.

Each behaviour is one of the simulator's progress curves (`Simulator(progress=NAME)`, see
`kling_studio/simulator/progress.py`): even progress, the estimate half or double the truth,
queued for up to three estimates, big steps ending at 99, no progress at all. Every strategy
follows the same simulated tasks: for each behaviour and round, a fresh Simulator per strategy
with the same seed (and a frozen `created` second), so the i-th task created has the same id
and therefore the same true duration for every strategy. Rounds rotate the strategies' order.

Two modes, both by default, each reporting every behaviour side by side:

- **offline**: no HTTP, no sleeping, on a virtual clock: tasks come from the simulator's own
  Store (same duration draw, same readings, noise included) and each waiter is `next_delay` in a
  loop, exactly as `AsyncClient.wait` runs it, with `rtt` per GET. Thousands of tasks per
  behaviour take seconds, which is what a stable p95 needs (and how the policy was tuned).
- **HTTP**: the simulator in its own process, the real `AsyncClient` over loopback, the clock
  scaled by `--time-scale`; fixed intervals and the policy's absolute seconds are scaled with it
  and every delay is reported in real-world seconds.

Detection delay = the moment the waiter returned (or the fixed loop saw `completed`) minus the
moment the simulator made the task `completed` (max of its true end and its video being ready).

    python -m benchmarks.polling [--offline | --http] [--behaviours a,b] [--tasks N]
        [--offline-tasks N] [--time-scale X] [--rounds R] [--mix] [--policy field=value,...]
        [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import PROGRESS_CURVES

from .common import CountingTransport, SimHost, SimInfo, parse_policy, policy_changes, scaled_policy
from .polling_model import (
    MIX,
    Strategy,
    TaskResult,
    default_strategies,
    requests_for,
    simulate_offline,
)
from .polling_report import render, summarize

BEHAVIOURS = PROGRESS_CURVES
__all__ = ["BEHAVIOURS", "default_strategies", "main", "render", "run", "run_offline"]


async def follow(
    info: SimInfo,
    strategy: Strategy,
    requests: Sequence[dict[str, Any]],
    spread: float,
) -> tuple[list[tuple[str, str, int, float]], list[float]]:
    """Submit every request (started `spread` scaled seconds apart in total) and follow each
    with the strategy. Returns (task id, status, GETs, detected at) per task and GET latencies."""
    scale = info.time_scale
    counter = CountingTransport()
    policy = scaled_policy(strategy.policy or PollPolicy(), scale)
    async with AsyncClient(
        info.api_key,
        info.base_url,
        poll_policy=policy,
        check_remote_pictures=False,
        transport=counter,
    ) as client:

        async def one(i: int) -> tuple[str, str, int, float]:
            await asyncio.sleep(i * spread / max(1, len(requests)))
            task = await client.submit(**requests[i])
            timeout = 20 * (task.estimated_time or 60 * scale)
            if strategy.interval is None:
                task = await client.wait(task, timeout=timeout)
            else:
                # On a fixed grid from the submit, so slow answers never stretch the interval.
                step = strategy.interval * scale
                due = time.monotonic()
                deadline = due + timeout
                while not task.done and due < deadline:
                    due += step
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    task = await client.get(task.id)
            seen = time.monotonic()
            return task.id, task.status, counter.gets[f"/v1/tasks/{task.id}"], seen

        results = await asyncio.gather(*(one(i) for i in range(len(requests))))
    return list(results), counter.get_seconds


def run(
    *,
    behaviours: Sequence[str] = BEHAVIOURS,
    tasks: int = 20,
    time_scale: float = 0.2,
    rounds: int = 2,
    seed: int = 1,
    mix: bool = False,
    tuned: PollPolicy | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The HTTP mode; returns the report (see `polling_report.summarize`)."""
    strategies = default_strategies(tuned)
    requests = requests_for(tasks, mix)
    spread = 0.25 * 45 * time_scale  # start the tasks over a quarter of a 45 s estimate
    results: list[TaskResult] = []
    latencies: dict[tuple[str, str], list[float]] = {}
    started = time.perf_counter()
    host = SimHost()
    with host:
        # Warm-up (not measured): encodes each kind's clip once and loads the client's code.
        info = host.start(time_scale=time_scale, seed=seed - 1)
        asyncio.run(follow(info, strategies[0], requests_for(len(MIX) if mix else 1, mix), 0.0))
        for behaviour in behaviours:
            for r in range(rounds):
                shift = r % len(strategies)
                for strategy in strategies[shift:] + strategies[:shift]:
                    if progress:
                        print(
                            f"{behaviour} round {r + 1}/{rounds}: {strategy.name}", file=sys.stderr
                        )
                    info = host.start(time_scale=time_scale, seed=seed + r, progress=behaviour)
                    seen, seconds = asyncio.run(follow(info, strategy, requests, spread))
                    latencies.setdefault((behaviour, strategy.name), []).extend(seconds)
                    timelines = host.timelines()
                    for task_id, status, gets, at in seen:
                        line = timelines[task_id]
                        done = line["completed_at"] if status == "completed" else None
                        results.append(
                            TaskResult(
                                behaviour=behaviour,
                                strategy=strategy.name,
                                round=r,
                                task_id=task_id,
                                status=status,
                                gets=gets,
                                delay=(at - done) / time_scale
                                if done is not None
                                else float("nan"),
                                duration=(done - line["started_at"]) / time_scale
                                if done is not None
                                else float("nan"),
                                planned=line["duration"] / time_scale,
                                estimate=line["estimate"] / time_scale,
                            )
                        )
    report = summarize(behaviours, strategies, results, latencies)
    report["config"] = {
        "mode": "http",
        "tasks": tasks,
        "time_scale": time_scale,
        "rounds": rounds,
        "seed": seed,
        "mix": mix,
        "tuned": policy_changes(tuned) if tuned is not None else None,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    return report


def run_offline(
    *,
    behaviours: Sequence[str] = BEHAVIOURS,
    tasks: int = 5000,
    seed: int = 1,
    mix: bool = False,
    tuned: PollPolicy | None = None,
    rtt: float = 0.02,
) -> dict[str, Any]:
    """The offline mode (virtual clock, real-world seconds, `rtt` per GET): see the module doc."""
    strategies = default_strategies(tuned)
    requests = requests_for(tasks, mix)
    started = time.perf_counter()
    results: list[TaskResult] = []
    for behaviour in behaviours:
        for strategy in strategies:
            results += simulate_offline(behaviour, strategy, requests, seed=seed, rtt=rtt)
    latencies = {(b, s.name): [rtt] for b in behaviours for s in strategies}
    report = summarize(behaviours, strategies, results, latencies)
    report["config"] = {
        "mode": "offline",
        "tasks": tasks,
        "rounds": 1,
        "seed": seed,
        "mix": mix,
        "rtt": rtt,
        "tuned": policy_changes(tuned) if tuned is not None else None,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.polling", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--offline", action="store_true", help="only the offline mode")
    mode.add_argument("--http", action="store_true", help="only the HTTP mode")
    parser.add_argument(
        "--behaviours", default=",".join(BEHAVIOURS), help="comma-separated progress curves"
    )
    parser.add_argument("--tasks", type=int, default=20, help="HTTP: tasks per strategy (20)")
    parser.add_argument(
        "--offline-tasks", type=int, default=5000, help="offline: tasks per behaviour (5000)"
    )
    parser.add_argument("--time-scale", type=float, default=0.2, help="HTTP: simulator clock")
    parser.add_argument("--rounds", type=int, default=2, help="HTTP: rounds (one seed each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", action="store_true", help="720p/1080p x 5 s/10 s tasks")
    parser.add_argument(
        "--policy", default=None, help="also measure a tuned PollPolicy, e.g. 'tail_max=1.1'"
    )
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument("--per-task", action="store_true", help="with --json: every task too")
    args = parser.parse_args(argv)
    behaviours = [b.strip() for b in args.behaviours.split(",") if b.strip()]
    unknown = sorted(set(behaviours) - set(BEHAVIOURS))
    if unknown or not behaviours:
        parser.error(f"--behaviours: choose from {', '.join(BEHAVIOURS)} (not {unknown})")
    if min(args.tasks, args.offline_tasks, args.rounds) < 1 or args.time_scale <= 0:
        parser.error("--tasks, --offline-tasks and --rounds must be >= 1, --time-scale > 0")
    tuned = parse_policy(args.policy) if args.policy else None
    reports = []
    if not args.http:
        reports.append(
            run_offline(
                behaviours=behaviours,
                tasks=args.offline_tasks,
                seed=args.seed,
                mix=args.mix,
                tuned=tuned,
            )
        )
        if not args.json:
            print(render(reports[-1]) + "\n", flush=True)
    if not args.offline:
        reports.append(
            run(
                behaviours=behaviours,
                tasks=args.tasks,
                time_scale=args.time_scale,
                rounds=args.rounds,
                seed=args.seed,
                mix=args.mix,
                tuned=tuned,
                progress=not args.json,
            )
        )
        if not args.json:
            print(render(reports[-1]))
    if args.json:
        for report in reports:
            if not args.per_task:
                report.pop("tasks")
        print(json.dumps(reports, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
