"""Temporary files of downloads a killed process left behind are removed when a history is
resumed; one that another live process is writing right now is never touched."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kling_studio import AsyncClient
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

# A download in another process: it streams into its temporary file, as VideoCache does.
WRITER = r"""
import sys, time
with open(sys.argv[1], "xb") as part:
    print("WRITING", flush=True)
    while True:
        part.write(b"\0" * 4096)
        part.flush()
        time.sleep(0.05)
"""


def start_writer(part: Path) -> subprocess.Popen[str]:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(part)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "WRITING"
    return writer


async def test_resume_removes_dead_downloads_but_not_live_ones(
    sim: Simulator, tmp_path: Path
) -> None:
    history = History(tmp_path / "h.sqlite3")
    videos = history.videos_dir
    leftover = videos / ".task-dead.mp4.0123456789abcdef.part"
    leftover.write_bytes(b"\0" * 1000)  # the process writing it was killed two hours ago
    two_hours_ago = time.time() - 7200
    os.utime(leftover, (two_hours_ago, two_hours_ago))
    live = videos / ".task-live.mp4.fedcba9876543210.part"
    writer = start_writer(live)
    try:
        saved = videos / "task-done.mp4"
        saved.write_bytes(b"a saved video stays")
        os.utime(saved, (two_hours_ago, two_hours_ago))
        async with AsyncClient(sim.api_key, sim.base_url) as client:
            runner = Runner(client, history)
            await runner.resume()
            await runner.join()
        assert not leftover.exists()
        assert live.exists() and writer.poll() is None  # still being written, untouched
        assert saved.read_bytes() == b"a saved video stays"
    finally:
        writer.kill()
        writer.wait(10)
