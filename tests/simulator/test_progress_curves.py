"""Progress curves: each one over real HTTP, chosen from Python and from the command line."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kling_studio.simulator import PROGRESS_CURVES, Simulator
from kling_studio.simulator.progress import CURVES, STEPS
from kling_studio.simulator.state import Store

from .conftest import MakeSim, client, create
from .test_cli import parse

VOICE = {"model": "kling-video-create-voice", "voice_url": "http://example.com/v.mp3"}
SCALE = 0.03  # a voice task is estimated at 0.6 s; voices need no render, so ends are exact

Reading = tuple[float, str, int]  # seconds since the create, status, progress


def follow(sim: Simulator, count: int) -> tuple[float, list[list[Reading]]]:
    """Create `count` voice tasks and read each every ~10 ms until all are done."""
    with client(sim) as api:
        started = time.monotonic()
        ids = [create(api, **VOICE)["id"] for _ in range(count)]
        estimate = float(api.get(f"/v1/tasks/{ids[0]}").json()["task_info"]["estimated_time"])
        readings: dict[str, list[Reading]] = {task_id: [] for task_id in ids}
        deadline = started + 12 * estimate + 5
        while time.monotonic() < deadline:
            open_ids = [i for i in ids if not readings[i] or readings[i][-1][1] != "completed"]
            if not open_ids:
                break
            for task_id in open_ids:
                body: dict[str, Any] = api.get(f"/v1/tasks/{task_id}").json()
                at = time.monotonic() - started
                readings[task_id].append((at, body["status"], body["progress"]))
            time.sleep(0.01)
    lines = [readings[i] for i in ids]
    assert all(line[-1][1] == "completed" for line in lines), lines
    return estimate, lines


def took(line: list[Reading]) -> float:
    return line[-1][0]


def first_at(line: list[Reading], status: str) -> float:
    return next(at for at, s, _ in line if s == status)


def check_honest(line: list[Reading]) -> None:
    order = {"pending": 0, "processing": 1, "completed": 2}
    assert [order[s] for _, s, _ in line] == sorted(order[s] for _, s, _ in line), line
    progress = [p for _, _, p in line]
    assert progress == sorted(progress), line
    assert all(p == 0 for _, s, p in line if s == "pending"), line
    assert all(p <= 99 for _, s, p in line if s != "completed"), line
    assert progress[-1] == 100


@pytest.mark.parametrize("curve", PROGRESS_CURVES)
def test_every_curve_over_http(make_sim: MakeSim, curve: str) -> None:
    sim = make_sim(time_scale=SCALE, seed=7, progress=curve)
    assert sim.progress == curve
    estimate, lines = follow(sim, 4)
    for line in lines:
        check_honest(line)
    durations = [took(line) for line in lines]
    values = {p for line in lines for _, _, p in line}
    slack = 0.15  # polling every ~10 ms on a busy (shared) machine, plus the round trips
    if curve in ("even", "queued"):
        assert len(values) > 10, lines
    if curve in ("even", "steps", "silent"):
        assert all(0.65 * estimate <= d <= 1.4 * estimate + slack for d in durations), durations
    if curve == "underestimated":
        assert all(1.35 * estimate <= d <= 2.8 * estimate + slack for d in durations), durations
    if curve == "overestimated":
        assert all(0.33 * estimate <= d <= 0.7 * estimate + slack for d in durations), durations
    if curve == "queued":
        queues = [first_at(line, "processing") for line in lines]
        runs = [d - q for d, q in zip(durations, queues, strict=True)]
        assert max(queues) > estimate, queues  # some wait in the queue longer than a whole task
        assert all(q <= 3 * estimate + slack for q in queues), queues
        assert all(0.6 * estimate <= r <= 1.4 * estimate + slack for r in runs), runs
    if curve == "steps":
        assert values <= {0, 100} | {p for _, p in STEPS}, values
        assert {25, 99} <= values, values
        for line in lines:
            # The jump to 99 came after the reading before it: 99 then lasts a third of the run.
            before_99 = max(at for at, _, p in line if p < 99)
            assert took(line) - before_99 >= 0.28 * took(line), line
    if curve == "stuck":
        for line in lines:
            # Even progress up to 99 at two thirds of the run, then 99 for the last third.
            before_99 = max(at for at, _, p in line if p < 97)
            assert took(line) - before_99 >= 0.25 * took(line), line
    if curve == "silent":
        assert values == {0, 100}, values
        assert all(any(s == "processing" for _, s, _ in line) for line in lines), (
            lines
        )  # "processing", not queued: the progress just never moves


class FrozenClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def wall(self) -> int:
        return 1795482000


def planned(curve: str) -> list[tuple[float, float]]:
    """(duration, pending_for) of ten tasks made by a Store with this curve and one seed."""
    store = Store(time_scale=1.0, seed=3, clock=FrozenClock(), curve=CURVES[curve])  # type: ignore[arg-type]
    body = {"model": "kling-video-create-voice", "voice_url": "http://example.com/v.mp3"}
    tasks = [store.create_task(dict(body), body, fail=False, variant=0) for _ in range(10)]
    return [(t.duration, t.pending_for) for t in tasks]


def test_one_seed_gives_every_curve_the_same_scatter() -> None:
    even = planned("even")
    assert len({d for d, _ in even}) == 10
    for curve in ("steps", "silent"):
        assert planned(curve) == even
    assert [d for d, _ in planned("underestimated")] == pytest.approx([2 * d for d, _ in even])
    assert [d for d, _ in planned("overestimated")] == pytest.approx([d / 2 for d, _ in even])
    queued = planned("queued")
    assert [d - q for d, q in queued] == pytest.approx([d for d, _ in even])


def test_the_curve_is_a_checked_switch() -> None:
    with pytest.raises(ValueError, match="progress must be one of even, underestimated"):
        Simulator(progress="linear")
    sim = Simulator(progress="silent")
    try:
        sim.progress = "steps"
        assert sim.progress == "steps"
        with pytest.raises(ValueError, match="progress must be one of"):
            sim.progress = "nope"
        assert sim.stats()["progress"] == "steps"
    finally:
        sim.stop()
    assert parse().progress == "even"
    assert parse("--progress", "queued").progress == "queued"
