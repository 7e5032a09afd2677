"""Chaos: 200 tasks through the Runner against a simulator failing ~20% of the requests on every
route. Every task ends, no create is duplicated, and the history says exactly which creates had
an unknown outcome.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.history._records import ACTIVE
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..server_counts import AMBIGUOUS, CREATED, REFUSED, CreateLog, route_counts

TASKS = 200
PICTURES = 8  # distinct first frames, so the upload route sees more than one upload
CLIENT_TIMEOUT = 1.0  # seconds per request; a "slow" answer (1.5 s) times out
# About 20% of the requests on every route get a fault (the rules are drawn independently).
FAULTS = ",".join(
    [
        "5xx=0.05@create+get+upload+files",
        "429=0.05@create+get+upload+files",
        "drop=0.04@create+get+upload+files",
        "slow=0.03@create+get+upload+files",
        "malformed=0.04@create+get+upload",
        "lost=0.04@create",  # the task is made, its answer never arrives
        "fail=0.05@create",  # the task is made and ends failed (not a transport fault)
        "retry_after=0.05",
        "slow_seconds=1.5",
    ]
)
ENDED = {"completed", "failed", "unknown", "rejected"}


@pytest.fixture
def chaos_sim() -> Simulator:
    # 5 s clips take ~1.4 s; tiny renders keep 200 unique videos cheap.
    with Simulator(time_scale=0.03, seed=2026, faults=FAULTS, render_width=128, fps=4) as s:
        yield s  # type: ignore[misc]


async def test_200_tasks_under_faults_on_every_route(chaos_sim: Simulator, tmp_path: Path) -> None:
    sim = chaos_sim
    started = time.monotonic()
    pictures = [make_picture(640, 360, (30 * i % 256, 90, 200 - 20 * i)) for i in range(PICTURES)]
    history = History(tmp_path / "chaos.sqlite3")
    fast = PollPolicy(tail_max=0.1, min_interval=0.02)
    async with AsyncClient(
        sim.api_key, sim.base_url, poll_policy=fast, timeout=CLIENT_TIMEOUT, max_retries=6
    ) as client:
        log = CreateLog.install(client)
        runner = Runner(client, history, max_in_flight=TASKS)
        # As the widget and the CLI do: prepare (checks and uploads), then start.
        prepared = await asyncio.gather(
            *(
                prepare_with_retry(client, f"chaos task {i:03d}", pictures[i % PICTURES])
                for i in range(TASKS)
            )
        )
        ids = [runner.start(p) for p in prepared]
        await asyncio.wait_for(runner.join(), 60)
        first_pass = Counter(r.status for r in history.records())
        missing_before_resume = len(history.missing_videos())
        # Downloads that failed under faults: the product's answer is `resume`.
        again = Runner(client, history, max_in_flight=TASKS)
        resumed = await again.resume()
        await asyncio.wait_for(again.join(), 60)

    records = {r.local_id: r for r in history.records()}
    stats = sim.stats()
    made = sim.created_tasks()

    # Every task ended, and the history holds all 200.
    assert len(records) == TASKS and set(records) == set(ids)
    statuses = Counter(r.status for r in records.values())
    assert not set(statuses) & ACTIVE, statuses
    assert set(statuses) <= ENDED, statuses

    # No create was ever duplicated: at most one task per prompt at the server.
    per_prompt = Counter(t["body"]["prompt"] for t in made)
    assert max(per_prompt.values()) == 1
    by_prompt = {t["body"]["prompt"]: t for t in made}

    unknown_made = unknown_not_made = 0
    for record in records.values():
        attempts = log.attempts[record.prompt]
        outcomes = [a.outcome for a in attempts]
        # A create is re-sent only after a refusal; nothing follows a create that may exist.
        assert all(o == REFUSED for o in outcomes[:-1]), (record.prompt, attempts)
        server_task = by_prompt.get(record.prompt)
        last = attempts[-1]
        if last.outcome == CREATED:
            assert record.status in ("completed", "failed"), record
            assert server_task is not None and record.task_id == server_task["id"] == last.task_id
        elif last.outcome == AMBIGUOUS:
            # Exactly the creates whose outcome the client could not know are `unknown`.
            assert record.status == "unknown" and record.task_id is None, record
            assert record.unknown_reason
            if server_task is not None:
                unknown_made += 1  # lost answer, garbled answer, or a timeout after the work
            else:
                unknown_not_made += 1  # dropped or 500 before the server made anything
        else:
            assert record.status == "rejected" and server_task is None, record
        if record.status == "completed":
            assert record.video_path is not None and record.video_path.is_file(), record
            assert record.video_path.stat().st_size > 0
        if record.status == "failed":
            assert record.error_code and record.error_message
    # The history's unknown creates are the ones that can be looked for (History.df).
    assert len(history.df(status="unknown")) == statuses["unknown"]
    assert unknown_made + unknown_not_made == statuses["unknown"]
    # Creates whose answer proved a task exists: as many tasks at the server, and no others.
    made_known = sum(1 for r in records.values() if r.task_id is not None)
    assert made_known + unknown_made == len(made)

    faults = stats["faults"]
    for kind in ("5xx", "429", "drop", "slow", "malformed", "lost"):
        assert faults.get(kind, 0) > 0, f"no {kind} fault was injected: {faults}"
    assert statuses["completed"] > TASKS // 2
    # 200 prepares at once share one upload per picture (plus the retries of failed ones).
    assert route_counts(stats)["upload"] <= 3 * PICTURES, route_counts(stats)

    summary = {
        "tasks": TASKS,
        "seconds": round(time.monotonic() - started, 1),
        "statuses": dict(sorted(statuses.items())),
        "statuses_before_resume": dict(sorted(first_pass.items())),
        "downloads_resumed": {"missing": missing_before_resume, "resumed": len(resumed)},
        "unknown": {"task_made": unknown_made, "nothing_made": unknown_not_made},
        "creates_at_server": len(made),
        "requests": route_counts(stats),
        "faults": dict(sorted(faults.items())),
        "create_attempts": dict(
            Counter(f"{a.outcome}:{a.detail}" for v in log.attempts.values() for a in v)
        ),
    }
    print("CHAOS SUMMARY", json.dumps(summary, indent=1))


async def prepare_with_retry(client: AsyncClient, prompt: str, picture: bytes) -> object:
    """`client.prepare`, tried again if its upload failed after every retry (a user presses
    Generate again; nothing was created, so that is always safe)."""
    for attempt in range(5):
        try:
            return await client.prepare(prompt=prompt, image=picture, duration=5)
        except Exception:
            if attempt == 4:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")
