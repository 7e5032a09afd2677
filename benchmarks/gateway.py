"""A class through the gateway against the same class straight to the upstream, side by side.

S students x T tasks each. Gateway mode: two `kling-studio gateway serve` replicas on one
PostgreSQL in front of a simulator; each student has a budget of T tasks a day and starts T + 1
creates at once, alternating replicas, so they race at their limit across replicas. Direct mode:
the same students start T tasks each straight at a fresh simulator, each polling its own tasks
(one follower per task). Figures:

- creates upstream == tasks started (none twice), and the budget exact: T accepted per student,
  the extra one refused (BudgetExceeded), T journalled per student;
- upstream GETs per task, gateway / direct (target <= 1.1x: the students' polls are answered
  from the gateway's journal, the upstream sees one follower per task);
- the latency a student sees per request (GET and create), p95 through the gateway minus p95
  direct (target: under 20 ms added).

    python -m benchmarks.gateway [--students 30] [--tasks 5] [--time-scale 0.2] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import SimHost, format_table, percentile

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 900.0


class TimingTransport(httpx.AsyncBaseTransport):
    """Times every request to the API (to its response headers), by kind."""

    def __init__(self, seconds: dict[str, list[float]]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.seconds = seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = await self._inner.handle_async_request(request)
        kind = {"GET": "get"}.get(request.method, "create")
        if "/files/" in request.url.path:
            kind = "upload"
        self.seconds[kind].append(time.perf_counter() - started)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _picture() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 360), (40, 90, 160)).save(buf, format="PNG")
    return buf.getvalue()


async def _class(
    urls: Sequence[str], keys: Sequence[str], tasks_each: int, attempts: int
) -> dict[str, Any]:
    """Every student starts `attempts` generates at once (alternating `urls`)."""
    from kling_studio import AsyncClient, BudgetExceeded

    seconds: dict[str, list[float]] = defaultdict(list)
    picture = _picture()
    outcomes: list[tuple[int, str]] = []

    async def student(index: int, key: str) -> None:
        clients = [AsyncClient(key, url, transport=TimingTransport(seconds)) for url in urls]
        try:

            async def one(n: int) -> None:
                client = clients[n % len(clients)]
                try:
                    task = await client.generate(
                        prompt=f"student {index} task {n}", image=picture, timeout=TIMEOUT
                    )
                    outcomes.append((index, task.status))
                except BudgetExceeded:
                    outcomes.append((index, "refused"))

            await asyncio.gather(*(one(n) for n in range(attempts)))
        finally:
            for client in clients:
                await client.aclose()

    started = time.monotonic()
    await asyncio.gather(*(student(i, key) for i, key in enumerate(keys)))
    by_student: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for index, status in outcomes:
        by_student[index][status] += 1
    return {
        "seconds": {k: sorted(v) for k, v in seconds.items()},
        "by_student": {i: dict(v) for i, v in by_student.items()},
        "wall": time.monotonic() - started,
        "tasks_each": tasks_each,
    }


@contextmanager
def _postgres(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    sys.path.insert(0, str(ROOT))
    from tests.postgres_server import find_binaries, throwaway_server

    binaries = find_binaries()
    if binaries is None:
        raise SystemExit("no PostgreSQL binaries (install postgresql)")
    with throwaway_server(binaries, durable=True) as server:
        yield server.new_database()


def run_gateway(
    sim: SimHost, students: int, tasks: int, time_scale: float, url: str, home: Path
) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.gateway.gateways import start_gateway

    from kling_studio.gateway import Students
    from kling_studio.history._store import History

    info = sim.start(time_scale=time_scale, seed=11)
    with History(url, user="teacher") as h:
        keys = [Students(h).add(f"student{i:02d}") for i in range(students)]
        for i in range(students):
            h.set_budget(f"student{i:02d}", tasks=tasks, per="day")
    with ExitStack() as stack:
        replicas = []
        for name in ("a", "b"):
            env = {"KLING_STUDIO_HOME": str(home / name)}
            gateway = start_gateway(url, info.base_url, info.api_key, env=env)
            stack.callback(gateway.stop)
            replicas.append(gateway)
        result = asyncio.run(_class([g.url for g in replicas], keys, tasks, tasks + 1))
        _wait_saved(url, students * tasks)
    with History(url) as h:
        journalled = h.spend(by="user")
    result["journalled"] = {
        str(row["user"]): int(row["tasks"]) for row in journalled.to_dict("records")
    }
    result["upstream"] = sim.stats()["requests"]
    return result


def _wait_saved(url: str, count: int) -> None:
    from kling_studio.history._store import History

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with History(url) as h:
            saved = sum(1 for r in h.records() if r.video_stored)
        if saved >= count:
            return
        time.sleep(0.5)


def run_direct(sim: SimHost, students: int, tasks: int, time_scale: float) -> dict[str, Any]:
    info = sim.start(time_scale=time_scale, seed=11)
    result = asyncio.run(_class([info.base_url], [info.api_key] * students, tasks, tasks))
    result["upstream"] = sim.stats()["requests"]
    return result


def run(
    *, students: int, tasks: int, time_scale: float, postgres_url: str | None = None
) -> dict[str, Any]:
    with (
        SimHost() as sim,
        _postgres(postgres_url) as url,
        tempfile.TemporaryDirectory() as folder,
    ):
        direct = run_direct(sim, students, tasks, time_scale)
        through = run_gateway(sim, students, tasks, time_scale, url, Path(folder))
    return report(direct, through, students, tasks)


def report(
    direct: dict[str, Any], through: dict[str, Any], students: int, tasks: int
) -> dict[str, Any]:
    started = students * tasks
    accepted = [v.get("completed", 0) for v in through["by_student"].values()]
    refused = [v.get("refused", 0) for v in through["by_student"].values()]

    def p95(mode: dict[str, Any], kind: str) -> float:
        return percentile(mode["seconds"].get(kind, []), 95) * 1000

    gets_direct = direct["upstream"].get("get", 0) / started
    gets_gateway = through["upstream"].get("get", 0) / started
    return {
        "students": students,
        "tasks_each": tasks,
        "creates_upstream": through["upstream"].get("create", 0),
        "tasks_started": sum(accepted),
        "budget_exact": accepted == [tasks] * students
        and refused == [1] * students
        and sorted(through["journalled"].values()) == [tasks] * students,
        "upstream_gets_per_task": {"direct": gets_direct, "gateway": gets_gateway},
        "gets_ratio": gets_gateway / gets_direct if gets_direct else float("nan"),
        "p95_ms": {
            kind: {"direct": p95(direct, kind), "gateway": p95(through, kind)}
            for kind in ("get", "create")
        },
        "added_p95_ms": {
            kind: p95(through, kind) - p95(direct, kind) for kind in ("get", "create")
        },
        "requests": {
            "direct": {k: len(v) for k, v in direct["seconds"].items()},
            "gateway": {k: len(v) for k, v in through["seconds"].items()},
        },
        "wall_s": {"direct": direct["wall"], "gateway": through["wall"]},
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        [
            "creates upstream / tasks started",
            f"{result['creates_upstream']} / {result['tasks_started']}",
            "equal",
        ],
        ["budgets exact (T each, the extra refused)", str(result["budget_exact"]), "True"],
        [
            "upstream GETs per task, gateway / direct",
            f"{result['gets_ratio']:.2f}x ({result['upstream_gets_per_task']['gateway']:.2f} / "
            f"{result['upstream_gets_per_task']['direct']:.2f})",
            "<= 1.1x",
        ],
    ]
    for kind in ("get", "create"):
        p = result["p95_ms"][kind]
        rows.append(
            [
                f"{kind} p95 added (gateway - direct)",
                f"{result['added_p95_ms'][kind]:+.1f} ms ({p['gateway']:.1f} / {p['direct']:.1f})",
                "< 20 ms",
            ]
        )
    return format_table(["what", "measured", "target"], rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway", description=__doc__)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--time-scale", type=float, default=0.2)
    parser.add_argument("--postgres", metavar="URL", help="an empty database (default: throwaway)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(
        students=args.students,
        tasks=args.tasks,
        time_scale=args.time_scale,
        postgres_url=args.postgres,
    )
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
