"""The polling benchmark's strategies and its offline model: the simulator's own task model on
a virtual clock, each waiter being `next_delay` in a loop as `AsyncClient.wait` runs it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kling_studio.client._polling import PollPolicy, PollState, next_delay
from kling_studio.simulator.progress import check_progress
from kling_studio.simulator.state import Store

IMAGE_URL = "https://example.com/benchmark-first-frame.png"  # a placeholder: never fetched
PROMPT = "a paper boat drifting down a rainy street, slow dolly shot"
# --mix: the four quickest (resolution, duration) kinds: estimated 45, 58.5, 90 and 117 s.
MIX = (("720p", 5), ("1080p", 5), ("720p", 10), ("1080p", 10))
WALL = 1795482000  # a frozen `created` second: the same seed gives the same task ids


@dataclass(frozen=True)
class Strategy:
    name: str
    interval: float | None = None  # fixed polling every this many real-world seconds
    policy: PollPolicy | None = None  # else AsyncClient.wait with this policy (unscaled)


@dataclass
class TaskResult:
    behaviour: str
    strategy: str
    round: int
    task_id: str
    status: str
    gets: int
    delay: float  # real-world seconds from true completion to detection
    duration: float  # real-world seconds the task really took (to `completed`)
    planned: float  # real-world seconds the simulator drew for it (same seed: same draw)
    estimate: float  # real-world seconds it said it would take


def default_strategies(tuned: PollPolicy | None = None) -> list[Strategy]:
    strategies = [
        Strategy("ours (default PollPolicy)", policy=PollPolicy()),
        Strategy("fixed 1 s", interval=1.0),
        Strategy("fixed 6 s", interval=6.0),
    ]
    if tuned is not None:
        strategies.insert(1, Strategy("ours (tuned)", policy=tuned))
    return strategies


def requests_for(tasks: int, mix: bool) -> list[dict[str, Any]]:
    kinds = MIX if mix else MIX[:1]
    return [
        {
            "prompt": PROMPT,
            "image": IMAGE_URL,
            "resolution": kinds[i % len(kinds)][0],
            "duration": kinds[i % len(kinds)][1],
        }
        for i in range(tasks)
    ]


class _VirtualClock:
    """The simulator Store's clock, moved by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def wall(self) -> int:
        return WALL


def simulate_offline(
    behaviour: str,
    strategy: Strategy,
    requests: Sequence[dict[str, Any]],
    *,
    seed: int,
    rtt: float,
) -> list[TaskResult]:
    """Follow every request with the strategy on a virtual clock (real-world seconds).

    `rtt` is the round trip each GET costs: the server reads the task half-way through it.
    """
    clock = _VirtualClock()
    store = Store(time_scale=1.0, seed=seed, clock=clock, curve=check_progress(behaviour))  # type: ignore[arg-type]
    results = []
    for request in requests:
        clock.t = 0.0
        body = {
            "model": "kling-v3-image-to-video",
            "prompt": request["prompt"],
            "image_url": request["image"],
            "resolution": request["resolution"],
            "duration": request["duration"],
            "generate_audio": False,
        }
        task = store.create_task(dict(body), body, fail=False, variant=0)
        task.ready_at = task.started_at  # the video is there when the time is up
        done = task.completed_at()
        assert done is not None
        clock.t = rtt  # the create's answer arrives
        gets = 0
        if strategy.interval is None:
            policy = strategy.policy or PollPolicy()
            state = PollState(start=clock.t, estimate=task.estimate)
            while True:
                clock.t += next_delay(policy, state, clock.t)
                gets += 1
                status = task.status(clock.t + rtt / 2)
                progress = task.progress(clock.t + rtt / 2, status)
                clock.t += rtt
                if status == "completed":
                    break
                state.observe(clock.t, progress, status)
        else:
            # A fixed grid from the submit; the k-th GET reads the task at k x interval.
            gets = max(1, math.ceil((done - clock.t - rtt / 2) / strategy.interval))
            clock.t += gets * strategy.interval + rtt
        results.append(
            TaskResult(
                behaviour=behaviour,
                strategy=strategy.name,
                round=0,
                task_id=task.id,
                status="completed",
                gets=gets,
                delay=clock.t - done,
                duration=done - task.started_at,
                planned=task.duration,
                estimate=task.estimate,
            )
        )
    return results
