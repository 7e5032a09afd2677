"""Measuring a video against downloading it: what `media.measure_video` costs on a 10 s 1080p
clip of a real clip's size (~12 MB), side by side with saving that clip over HTTP.

The simulator runs in its own process (`kling-studio simulator --bitrate realistic`), renders
one 10 s 1080p clip, and serves it; each round then alternates, in this process:

- **download**: `VideoCache.download` of the clip over loopback HTTP (streamed to a temporary
  file, checked, renamed: what the runner does for every finished task);
- **measure**: `measure_video` of the saved file with its input picture (every measure).

Wall time on a shared machine counts the waits for a core; the CPU time the measuring used
(every thread of this process) is reported too: on an idle machine the wall time is close to it.
Loopback is far faster than any real link, so the report also gives the link speed at which
the two take equally long (`break-even`): on any slower link, measuring costs less than
downloading. The ratio at typical speeds (50 and 100 Mbit/s) is computed from the clip's size.

    python -m benchmarks.measures [--rounds N] [--resolution 1080p] [--duration 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import format_table, median

LINKS_MBIT = (50.0, 100.0)


def _picture() -> bytes:
    """A 1920x1080 picture with detail at every scale (like a photo, unlike a flat colour)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(5)
    coarse = rng.integers(0, 256, (68, 120, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((1920, 1080), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _start_simulator(folder: Path) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kling_studio",
            "simulator",
            "--port",
            "0",
            "--time-scale",
            "0.01",
            "--bitrate",
            "realistic",
            "--data-dir",
            str(folder / "sim"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, KLING_STUDIO_HOME=str(folder / "home")),
    )
    assert proc.stdout is not None
    base_url = key = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (base_url and key):
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("Simulator running at "):
            base_url = line.split(" at ", 1)[1].strip()
        elif line.startswith("API key: "):
            key = line.split(": ", 1)[1].strip()
    if not (base_url and key):
        proc.kill()
        raise RuntimeError("the simulator did not start")
    return proc, base_url, key


async def _render(base_url: str, key: str, picture: bytes, resolution: str, duration: int) -> str:
    from kling_studio import AsyncClient, VideoRequest

    async with AsyncClient(key, base_url) as client:
        request = VideoRequest.build(
            prompt="a slow push-in on a field", image=picture, resolution=resolution,
            duration=duration,
        )  # fmt: skip
        task = await client.generate(request, timeout=600)
        assert task.video_url, "the simulator gave no video URL"
        return task.video_url


async def _download(url: str, folder: Path, index: int) -> tuple[float, Path]:
    from kling_studio.history._videos import VideoCache

    cache = VideoCache(folder / "videos")
    start = time.perf_counter()
    path = await cache.download(url, f"bench-{index}", overwrite=True)
    took = time.perf_counter() - start
    await cache.aclose()
    return took, path


def run(*, rounds: int = 5, resolution: str = "1080p", duration: int = 10) -> dict[str, Any]:
    from kling_studio.media import measure_video

    picture = _picture()
    with tempfile.TemporaryDirectory(prefix="kling-measures-") as tmp:
        folder = Path(tmp)
        proc, base_url, key = _start_simulator(folder)
        try:
            url = asyncio.run(_render(base_url, key, picture, resolution, duration))
            downloads: list[float] = []
            measures: list[float] = []
            cpu: list[float] = []
            size = 0
            frames = 0
            for index in range(rounds):
                took, path = asyncio.run(_download(url, folder, index))
                downloads.append(took)
                size = path.stat().st_size
                start, start_cpu = time.perf_counter(), time.process_time()
                found = measure_video(path, picture)
                measures.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                frames = found.frames
                path.unlink()
        finally:
            proc.terminate()
            proc.wait(10)
    measure_s = median(measures)
    measure_cpu_s = median(cpu)
    download_s = median(downloads)
    return {
        "resolution": resolution,
        "duration_s": duration,
        "bytes": size,
        "frames": frames,
        "rounds": rounds,
        "download_loopback_s": download_s,
        "measure_s": measure_s,
        "measure_cpu_s": measure_cpu_s,
        "measure_vs_loopback": measure_s / download_s if download_s else None,
        "break_even_mbit": size * 8 / 1e6 / measure_s if measure_s else None,
        "links": {
            f"{mbit:g} Mbit/s": {
                "download_s": size * 8 / (mbit * 1e6),
                "measure_vs_download": measure_s / (size * 8 / (mbit * 1e6)),
                "measure_cpu_vs_download": measure_cpu_s / (size * 8 / (mbit * 1e6)),
            }
            for mbit in LINKS_MBIT
        },
        "measure_all_s": measures,
        "measure_cpu_all_s": cpu,
        "download_all_s": downloads,
    }


def report(result: dict[str, Any]) -> str:
    rows = [
        ["download over loopback (median)", f"{result['download_loopback_s']:.3f} s", "1.00x"],
        [
            "measure every measure (median wall)",
            f"{result['measure_s']:.3f} s",
            f"{result['measure_vs_loopback']:.2f}x",
        ],
        ["measure every measure (median CPU, all threads)", f"{result['measure_cpu_s']:.3f} s", ""],
    ]
    for name, link in result["links"].items():
        rows.append(
            [
                f"download at {name} (from the size)",
                f"{link['download_s']:.2f} s",
                f"measure = {link['measure_vs_download']:.2f}x of it (CPU: "
                f"{link['measure_cpu_vs_download']:.2f}x)",
            ]
        )
    head = (
        f"{result['duration_s']} s {result['resolution']} clip, {result['bytes'] / 1e6:.1f} MB, "
        f"{result['frames']} frames, {result['rounds']} rounds; measuring costs less than "
        f"downloading on any link slower than {result['break_even_mbit']:.0f} Mbit/s"
    )
    return head + "\n\n" + format_table(["what", "time", "ratio"], rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--resolution", default="1080p")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(rounds=args.rounds, resolution=args.resolution, duration=args.duration)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
