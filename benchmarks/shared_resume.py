"""Many kernels resuming one history: what sharing the unfinished tasks costs at the server.

A short-lived process journals and creates N tasks (long enough to be unfinished when it is
killed), so the history holds N unfinished tasks with ids that nobody follows. Then either one
kernel resumes them all, or K kernels (separate processes, each with its own API key) start
together and resume them. The simulator counts, per task, the GETs and the video downloads
made after the creator died; the figure is GETs per task with K kernels against one kernel
alone (target: at most 1.1x), and every task must be downloaded exactly once. The two modes
alternate round by round, on a SQLite file and on PostgreSQL. The "go" comes a fixed time
(`--go-after`) after creating began, so the tasks are equally old at the go in both modes.

    python -m benchmarks.shared_resume [--tasks 100] [--kernels 16] [--rounds 3]
        [--time-scale 0.6] [--go-after 20] [--lease 30] [--backends sqlite,postgresql] [--json]

PostgreSQL is a throwaway server started from the machine's binaries (tests/postgres_server.py),
as the tests do, with a fresh database per run.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import format_table, median, scaled_policy
from kling_studio.client._polling import PollPolicy

KERNEL = textwrap.dedent(
    """
    import asyncio, json, sys
    from kling_studio import AsyncClient
    from kling_studio.client._polling import PollPolicy
    from kling_studio.history._store import History
    from kling_studio.runner import Runner

    location, job, lease, policy = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    policy = PollPolicy(**json.loads(policy))

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
            runner = Runner(client, history, max_in_flight=1000)
            print("READY", flush=True)
            await asyncio.to_thread(sys.stdin.readline)  # "go"
            print("RESUMED", len(await runner.resume()), flush=True)
            while history.unfinished() or history.missing_videos() or runner.in_flight:
                await asyncio.sleep(0.1)
            await runner.aclose()
        print("DONE", flush=True)

    if job == "create":
        asyncio.run(create(int(sys.argv[5]), sys.argv[6]))
    else:
        asyncio.run(resume())
    """
)


DONE = ("completed", "failed")


def _key(n: int) -> str:
    return f"sk-bench-kernel-{n:02d}-0123456789"


def _short(key: str) -> str:
    """How the simulator names a key in a task's `pollers`."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _line(proc: subprocess.Popen[str], timeout: float = 300.0) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout)
        raise RuntimeError(proc.stderr.read() if proc.stderr else "a kernel said nothing")
    return line.strip()


@dataclasses.dataclass
class Run:
    mode: str
    kernels: int
    tasks: int
    unfinished_at_start: int
    gets_per_task: float
    gets_max: int
    polled_twice: int  # tasks polled by more than one resuming kernel
    downloads: list[int]
    completed: int
    with_video: int
    resumed_per_kernel: list[int]
    wall_s: float

    @property
    def downloaded_once(self) -> bool:
        return all(d == 1 for d in self.downloads)

    @property
    def spread(self) -> float:
        """The busiest kernel's share of the resumed tasks against an equal share (1.0: even;
        `kernels`: one kernel took them all)."""
        taken = sum(self.resumed_per_kernel)
        if not taken or not self.resumed_per_kernel:
            return 1.0
        return max(self.resumed_per_kernel) / (taken / len(self.resumed_per_kernel))


def run_once(
    location: str,
    kernels: int,
    *,
    tasks: int,
    time_scale: float,
    lease: float,
    picture: Path,
    go_after: float,
) -> Run:
    """N fresh unfinished tasks in `location`, then `kernels` processes resume them together."""
    from kling_studio.history._store import History
    from kling_studio.simulator import Simulator

    policy = json.dumps(dataclasses.asdict(scaled_policy(PollPolicy(), time_scale)))
    keys = [_key(n) for n in range(kernels + 1)]
    with Simulator(time_scale=time_scale, seed=7, api_keys=keys, render_width=64, fps=4) as sim:

        def start(key: str, *argv: str) -> subprocess.Popen[str]:
            env = dict(os.environ, FOXAPI_API_KEY=key, FOXAPI_BASE_URL=sim.base_url)
            return subprocess.Popen(
                [sys.executable, "-c", KERNEL, location, *argv],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

        # The resuming kernels start up first, so the tasks are as old at the "go" whatever
        # the number of kernels.
        procs = [start(key, "resume", str(lease), policy) for key in keys[1:]]
        try:
            for p in procs:
                if (said := _line(p)) != "READY":
                    raise RuntimeError(f"a kernel said {said!r}")
            created_from = time.monotonic()
            creator = start(keys[0], "create", str(lease), policy, str(tasks), str(picture))
            try:
                if (said := _line(creator)) != "CREATED":
                    raise RuntimeError(f"the creator said {said!r}")
            finally:
                creator.send_signal(signal.SIGKILL)
                creator.wait(30)
            # The "go" comes a fixed time after creating began, so the tasks are as old at the go
            # (as much of them left to poll) however long creating took on a loaded machine.
            late = time.monotonic() - created_from - go_after
            if late > 0:
                raise RuntimeError(f"creating took {late:.1f} s longer than --go-after")
            time.sleep(-late)
            before = {t["id"]: t for t in sim.created_tasks()}
            unfinished = sum(1 for t in before.values() if t["status"] not in DONE)
            # GETs and downloads from here on are the resumers' (the creator polled too).
            started = time.perf_counter()
            for p in procs:  # as close together as a parent can make it
                assert p.stdin is not None
                p.stdin.write("go\n")
                p.stdin.flush()
            resumed = [int(_line(p).split()[1]) for p in procs]
            for p in procs:
                if (said := _line(p)) != "DONE":
                    raise RuntimeError(f"a kernel said {said!r}")
                p.wait(60)
            wall = time.perf_counter() - started
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(30)
        after = {t["id"]: t for t in sim.created_tasks()}
    gets = [after[i]["gets"] - before[i]["gets"] for i in after]
    creator = _short(keys[0])
    polled_twice = sum(1 for t in after.values() if len(set(t["pollers"]) - {creator}) > 1)
    downloads = [after[i]["video_gets"] - before[i]["video_gets"] for i in after]
    with History(location) as history:
        records = history.records()
    return Run(
        mode=f"{kernels} kernel{'s' if kernels > 1 else ''}",
        kernels=kernels,
        tasks=len(after),
        unfinished_at_start=unfinished,
        gets_per_task=sum(gets) / len(gets),
        gets_max=max(gets),
        polled_twice=polled_twice,
        downloads=downloads,
        completed=sum(1 for r in records if r.status == "completed"),
        with_video=sum(1 for r in records if r.has_video),
        resumed_per_kernel=resumed,
        wall_s=round(wall, 2),
    )


@contextmanager
def _locations(backend: str, folder: Path, stack: ExitStack) -> Iterator[Callable[[], str]]:
    """A function giving a fresh, empty history location for each run."""
    count = iter(range(1_000_000))
    if backend == "sqlite":
        yield lambda: str(folder / f"team-{next(count)}.sqlite3")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.postgres_server import find_binaries, throwaway_server

    binaries = find_binaries()
    if binaries is None:
        raise SystemExit("no PostgreSQL binaries (install postgresql or skip the backend)")
    server = stack.enter_context(throwaway_server(binaries, durable=True))
    yield server.new_database


def run(
    *,
    backends: list[str],
    tasks: int,
    kernels: int,
    rounds: int,
    time_scale: float,
    lease: float,
    go_after: float,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    from tests.conftest import make_picture

    report: dict[str, Any] = {
        "tasks": tasks,
        "kernels": kernels,
        "rounds": rounds,
        "time_scale": time_scale,
        "lease_seconds": lease,
        "go_after_seconds": go_after,
        "backends": {},
    }
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        os.environ["KLING_STUDIO_HOME"] = str(folder / "home")
        picture = folder / "first.png"
        picture.write_bytes(make_picture(640, 360))
        for backend in backends:
            with _locations(backend, folder, stack) as fresh:
                runs: dict[int, list[Run]] = {1: [], kernels: []}
                for r in range(rounds):
                    order = [1, kernels] if r % 2 == 0 else [kernels, 1]
                    for k in order:
                        one = run_once(
                            fresh(),
                            k,
                            tasks=tasks,
                            time_scale=time_scale,
                            lease=lease,
                            picture=picture,
                            go_after=go_after,
                        )
                        runs[k].append(one)
                        log(
                            f"{backend} round {r + 1} {one.mode}: {one.gets_per_task:.2f} GETs "
                            f"per task (max {one.gets_max}), downloads {sorted(set(one.downloads))}"
                            f", {one.polled_twice} polled by two, {one.completed}/{one.tasks} "
                            f"completed ({one.unfinished_at_start} unfinished at the go), "
                            f"{one.wall_s} s, resumed {one.resumed_per_kernel} "
                            f"(spread {one.spread:.2f}x)"
                        )
                alone = median([x.gets_per_task for x in runs[1]])
                shared = median([x.gets_per_task for x in runs[kernels]])
                report["backends"][backend] = {
                    "runs": [dataclasses.asdict(x) for x in runs[1] + runs[kernels]],
                    "gets_per_task_alone": round(alone, 3),
                    "gets_per_task_shared": round(shared, 3),
                    "ratio": round(shared / alone, 3),
                    # max tasks per kernel / an equal share, over the shared runs (worst)
                    "spread": round(max(x.spread for x in runs[kernels]), 3),
                    "polled_twice": sum(x.polled_twice for x in runs[1] + runs[kernels]),
                    "downloaded_once": all(x.downloaded_once for x in runs[1] + runs[kernels]),
                    "all_completed": all(
                        x.completed == x.with_video == x.tasks for x in runs[1] + runs[kernels]
                    ),
                    "unfinished_at_start_min": min(
                        x.unfinished_at_start for x in runs[1] + runs[kernels]
                    ),
                }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.shared_resume")
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--kernels", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--time-scale", type=float, default=0.6)
    parser.add_argument("--lease", type=float, default=30.0, help="lease seconds (beat: a third)")
    parser.add_argument(
        "--go-after",
        type=float,
        default=20.0,
        help="seconds from the first create to the go (must exceed the time creating takes)",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(
        backends=[b.strip() for b in args.backends.split(",") if b.strip()],
        tasks=args.tasks,
        kernels=args.kernels,
        rounds=args.rounds,
        time_scale=args.time_scale,
        lease=args.lease,
        go_after=args.go_after,
        log=lambda text: print(text, file=sys.stderr, flush=True),
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{args.tasks} unfinished tasks resumed by 1 kernel and by {args.kernels} kernels, "
        f"median of {args.rounds} rounds (time scale {args.time_scale})"
    )
    rows = [
        [
            name,
            b["gets_per_task_alone"],
            b["gets_per_task_shared"],
            f"{b['ratio']:.3f}x",
            f"{b['spread']:.2f}x",
            "yes" if b["downloaded_once"] else "NO",
            "yes" if b["all_completed"] else "NO",
        ]
        for name, b in report["backends"].items()
    ]
    headers = [
        "backend",
        "GETs/task, 1 kernel",
        f"GETs/task, {args.kernels} kernels",
        "ratio",
        "max tasks per kernel / equal share",
        "each downloaded once",
        "all completed",
    ]
    print(format_table(headers, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
