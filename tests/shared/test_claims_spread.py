"""Kernels resuming one history at the same moment share its unfinished tasks: none takes them
all while the others idle, and still no task is followed by two kernels. Real processes on a
SQLite file and on PostgreSQL, each with its own API key so the simulator tells who polled what."""

from __future__ import annotations

import math
import signal
from pathlib import Path

from kling_studio.history._store import History
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..kernel_processes import read_line
from .test_many_kernels import KEYS, _go, _short, _start, location  # noqa: F401

TASKS = 16
LEASE = 30.0  # nobody dies here: no lease may run out on a busy machine (a handover)


def test_kernels_resuming_together_take_about_equal_shares(location: str, tmp_path: Path) -> None:  # noqa: F811
    picture = tmp_path / "first.png"
    picture.write_bytes(make_picture(640, 360))
    resumers = KEYS[1:5]
    with Simulator(time_scale=0.1, seed=12, api_keys=KEYS, render_width=64, fps=4) as sim:
        creator = _start(sim, KEYS[0], location, "create", str(LEASE), str(TASKS), str(picture))
        try:
            assert read_line(creator) == "CREATED"
        finally:
            creator.send_signal(signal.SIGKILL)  # its leases are free at once
            creator.wait(10)
        kernels = [_start(sim, key, location, "resume", str(LEASE)) for key in resumers]
        try:
            assert [read_line(k) for k in kernels] == ["READY"] * len(kernels)
            for k in kernels:
                _go(k)
            lines = [read_line(k) for k in kernels]
            for k in kernels:
                assert read_line(k) == "DONE"
                assert k.wait(60) == 0
        finally:
            for p in kernels:
                if p.poll() is None:
                    p.kill()
        made = {t["id"]: t for t in sim.created_tasks()}

    shares = [int(line.removeprefix("RESUMED ")) for line in lines]
    assert sum(shares) == TASKS, lines
    ideal = math.ceil(TASKS / len(kernels))
    assert max(shares) <= 2 * ideal, shares  # before: one kernel took all 16, three took 0
    with History(location) as history:
        records = history.records()
    assert len(records) == TASKS
    for record in records:
        assert record.status == "completed" and record.video_path is not None, record
        served = made[record.task_id]
        assert served["video_gets"] == 1, served
        followers = set(served["pollers"]) - {_short(KEYS[0])}
        assert len(followers) == 1, served  # one kernel followed it, never two
