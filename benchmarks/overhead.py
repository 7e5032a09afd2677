"""The client's per-request overhead: `AsyncClient.get(task_id)` against raw httpx on loopback.

Both sides send the same GET (same URL, same headers) to the same server, N at a time one after
another, alternating which side goes first in each round (ABBA) to cancel drift. The raw side
does what the least a caller must do: `get`, `raise_for_status`, `.json()`. Each request is
timed on its own; the report gives the median per request for each side and their ratio, and
the ratio of the two sides' round means (median, min, max over the rounds).

Two servers, each in its own process: the simulator (real routes, a task being processed) and a
trivial HTTP/1.1 server that answers a fixed task JSON instantly, so server time does not dilute
the ratio.

    python -m benchmarks.overhead [--requests N] [--rounds R] [--profile] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import time
from collections.abc import Sequence
from typing import Any

import httpx

from kling_studio import AsyncClient
from kling_studio.client._transport import USER_AGENT

from .common import FIXED_TASK, FixedJsonServer, SimHost, format_table, median, percentile

TARGET_RATIO = 1.15
WARMUP = 50


async def _timed(call: Any, n: int) -> list[float]:
    times: list[float] = []
    clock = time.perf_counter
    for _ in range(n):
        started = clock()
        await call()
        times.append(clock() - started)
    return times


async def compare(
    base_url: str, api_key: str, task_id: str, *, requests: int, rounds: int
) -> dict[str, Any]:
    """Client and raw httpx, interleaved; every figure in seconds."""
    path = f"/v1/tasks/{task_id}"
    headers = {"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT}
    async with (
        AsyncClient(api_key, base_url, check_remote_pictures=False) as client,
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30.0) as raw,
    ):

        async def ours() -> None:
            await client.get(task_id)

        async def plain() -> None:
            response = await raw.get(path)
            response.raise_for_status()
            response.json()

        sides = {"client": ours, "raw httpx": plain}
        for call in sides.values():  # open the connections, warm the code paths
            await _timed(call, WARMUP)
        samples: dict[str, list[float]] = {name: [] for name in sides}
        round_ratios: list[float] = []
        for r in range(rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            means: dict[str, float] = {}
            for name in order:
                times = await _timed(sides[name], requests)
                samples[name].extend(times)
                means[name] = sum(times) / len(times)
            round_ratios.append(means["client"] / means["raw httpx"])
    client_median = median(samples["client"])
    raw_median = median(samples["raw httpx"])
    return {
        "client_median_s": client_median,
        "raw_median_s": raw_median,
        "client_p90_s": percentile(samples["client"], 90),
        "raw_p90_s": percentile(samples["raw httpx"], 90),
        "ratio": client_median / raw_median,
        "round_ratio_median": median(round_ratios),
        "round_ratio_min": min(round_ratios),
        "round_ratio_max": max(round_ratios),
        "requests_per_side": len(samples["client"]),
    }


async def _sim_task(base_url: str, api_key: str) -> str:
    async with AsyncClient(api_key, base_url, check_remote_pictures=False) as client:
        task = await client.submit(
            prompt="a lighthouse at dusk, waves rolling in", image="https://example.com/a.png"
        )
    return task.id


def run(*, requests: int = 200, rounds: int = 10) -> dict[str, Any]:
    started = time.perf_counter()
    servers: dict[str, dict[str, Any]] = {}
    with SimHost() as host:
        # time_scale 1: the task stays "processing" for the whole run (about 45 s).
        info = host.start(time_scale=1.0, seed=1)
        task_id = asyncio.run(_sim_task(info.base_url, info.api_key))
        servers["simulator"] = asyncio.run(
            compare(info.base_url, info.api_key, task_id, requests=requests, rounds=rounds)
        )
    with FixedJsonServer() as fixed:
        servers["fixed JSON"] = asyncio.run(
            compare(
                fixed.base_url,
                "sk-benchmark",
                str(FIXED_TASK["id"]),
                requests=requests,
                rounds=rounds,
            )
        )
    return {
        "servers": servers,
        "targets": {name: s["ratio"] <= TARGET_RATIO for name, s in servers.items()},
        "config": {
            "requests": requests,
            "rounds": rounds,
            "wall_seconds": round(time.perf_counter() - started, 1),
        },
    }


def profile(requests: int = 3000, top: int = 25) -> str:
    """cProfile of `requests` sequential client.get against the fixed JSON server."""
    with FixedJsonServer() as fixed:

        async def go() -> None:
            async with AsyncClient(
                "sk-benchmark", fixed.base_url, check_remote_pictures=False
            ) as client:
                task_id = str(FIXED_TASK["id"])
                for _ in range(WARMUP):
                    await client.get(task_id)
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(requests):
                    await client.get(task_id)
                profiler.disable()
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("tottime").print_stats(top)
                stats.sort_stats("cumulative").print_stats(top)
                result.append(out.getvalue())

        result: list[str] = []
        asyncio.run(go())
    return result[0]


def render(report: dict[str, Any]) -> str:
    cfg = report["config"]
    headers = [
        "server",
        "client median (µs)",
        "raw httpx median (µs)",
        "ratio (medians)",
        "round ratios median [min-max]",
        "client p90 (µs)",
        "raw p90 (µs)",
    ]
    rows = [
        [
            name,
            s["client_median_s"] * 1e6,
            s["raw_median_s"] * 1e6,
            f"{s['ratio']:.3f}x",
            f"{s['round_ratio_median']:.3f}x "
            f"[{s['round_ratio_min']:.3f}-{s['round_ratio_max']:.3f}]",
            s["client_p90_s"] * 1e6,
            s["raw_p90_s"] * 1e6,
        ]
        for name, s in report["servers"].items()
    ]
    lines = [
        f"overhead: {cfg['rounds']} rounds x {cfg['requests']} sequential GETs per side "
        f"(ABBA), loopback; {cfg['wall_seconds']} s wall",
        "",
        format_table(headers, rows),
        "",
    ]
    for name, ok in report["targets"].items():
        ratio = report["servers"][name]["ratio"]
        verdict = "met" if ok else "MISSED"
        lines.append(f"{name}: {ratio:.3f}x raw httpx (target <= {TARGET_RATIO}x: {verdict})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="GETs per side per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile client.get on the fixed server"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.rounds < 1:
        parser.error("--requests and --rounds must be >= 1")
    report = run(requests=args.requests, rounds=args.rounds)
    if args.profile:
        report["profile"] = profile()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
        if args.profile:
            print("\n" + report["profile"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
