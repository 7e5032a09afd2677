"""Many writers, one history: N processes x M tasks journalled at once into one SQLite file and
into one PostgreSQL database. Reports the rows kept (every one must be), the writes per second
over the whole run, and the p50/p95 latency of one write, per backend, side by side.

    python -m benchmarks.shared_history [--processes 16] [--tasks 25] [--postgres URL]

Without --postgres (or KLING_STUDIO_TEST_POSTGRES) a throwaway server is started from the
machine's PostgreSQL binaries (tests/postgres_server.py), as the tests do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

# One writer: journal, created, completed and a rating per task (4 writes), each timed.
WORKER = textwrap.dedent(
    """
    import json, sys, time
    from kling_studio.history._store import History
    from kling_studio.models import PreparedRequest, Task, VideoRequest

    location, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    image = "https://cdn.example.com/a.png"
    history = History(location, busy_timeout=60, user=tag)
    print("ready", flush=True)
    sys.stdin.readline()
    latencies = []

    def timed(call, *args, **kwargs):
        started = time.perf_counter()
        result = call(*args, **kwargs)
        latencies.append(time.perf_counter() - started)
        return result

    for i in range(count):
        request = VideoRequest.build(prompt=f"{tag} task {i}", image=image)
        prepared = PreparedRequest(request=request, payload=request.payload(image, None))
        local_id = timed(history.journal_submit, prepared)
        tid = f"{tag}-{i}"
        timed(history.mark_created, local_id, Task.from_api({"id": tid, "status": "pending"}))
        timed(history.update, local_id, Task.from_api({
            "id": tid, "status": "completed", "progress": 100,
            "results": [{"url": f"https://cdn.example.com/{tid}.mp4"}]}))
        timed(history.set_rating, local_id, rating=4, note=tag)
    print(json.dumps(latencies), flush=True)
    """
)


def run_writers(location: str, processes: int, tasks: int) -> dict[str, Any]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, location, f"w{n:02d}", str(tasks)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(p.stderr.read() if p.stderr else line)
    started = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    latencies: list[float] = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        if p.returncode != 0:
            raise RuntimeError(err)
        latencies += json.loads(out.strip().splitlines()[-1])
    wall = time.perf_counter() - started

    from kling_studio.history._store import History

    with History(location) as history:
        kept = history.count()
        rated = sum(1 for r in history.records() if r.rating == 4)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rows_expected": processes * tasks,
        "rows_kept": kept,
        "ratings_kept": rated,
        "writes": len(latencies),
        "writes_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "wall_s": round(wall, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.shared_history")
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--tasks", type=int, default=25)
    parser.add_argument("--postgres", help="an empty database's URL (default: a throwaway server)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        os.environ.setdefault("KLING_STUDIO_HOME", str(folder / "home"))
        results["sqlite"] = run_writers(str(folder / "team.sqlite3"), args.processes, args.tasks)
        url = args.postgres or os.environ.get("KLING_STUDIO_TEST_POSTGRES")
        if url is None:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.postgres_server import find_binaries, throwaway_server

            binaries = find_binaries()
            if binaries is None:
                print("no PostgreSQL binaries: SQLite only", file=sys.stderr)
            else:
                server = stack.enter_context(throwaway_server(binaries, durable=True))
                url = server.new_database()
        if url is not None:
            results["postgresql"] = run_writers(url, args.processes, args.tasks)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{args.processes} processes x {args.tasks} tasks, 4 writes per task")
        for name, r in results.items():
            print(
                f"{name:<11} rows {r['rows_kept']}/{r['rows_expected']}, ratings "
                f"{r['ratings_kept']}, {r['writes_per_s']} writes/s, write p50 {r['p50_ms']} ms "
                f"p95 {r['p95_ms']} ms, {r['wall_s']} s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
