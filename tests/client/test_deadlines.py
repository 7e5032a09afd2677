"""A total deadline bounds everything under it, a request in flight and a download included."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kling_studio import AsyncClient, CreateOutcomeUnknown, WaitTimeout
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .conftest import FAST


async def test_wait_ends_at_its_deadline_while_a_status_request_hangs(
    fast_client: AsyncClient, fresh_sim: Simulator
) -> None:
    task = await fast_client.submit(prompt="hanging status", image=make_picture())
    fresh_sim.set_faults("slow=1@get,slow_seconds=5")
    started = time.monotonic()
    with pytest.raises(WaitTimeout):
        await fast_client.wait(task, timeout=0.5)
    assert time.monotonic() - started < 1.5


async def test_a_create_in_flight_at_the_deadline_is_unknown_not_resent(
    fresh_sim: Simulator,
) -> None:
    fresh_sim.set_faults("slow=1@create,slow_seconds=3")
    before = len(fresh_sim.created_tasks())
    async with AsyncClient(fresh_sim.api_key, fresh_sim.base_url, poll_policy=FAST) as client:
        started = time.monotonic()
        with pytest.raises(CreateOutcomeUnknown, match="deadline passed while the create"):
            await client.generate(prompt="slow create", image=make_picture(), timeout=0.8)
    assert time.monotonic() - started < 2.0
    assert len(fresh_sim.created_tasks()) == before + 1  # the server did the work, once


def test_cli_timeout_bounds_waiting_and_the_download(
    fresh_sim: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kling_studio.cli import main

    monkeypatch.setenv("FOXAPI_API_KEY", fresh_sim.api_key)
    fresh_sim.set_faults("stall=1@files,stall_seconds=20")
    picture = tmp_path / "first.png"
    picture.write_bytes(make_picture())
    started = time.monotonic()
    code = main(
        [
            "--home",
            str(tmp_path / "home"),
            "generate",
            "--image",
            str(picture),
            "--prompt",
            "stalled download",
            "--base-url",
            fresh_sim.base_url,
            "--timeout",
            "3",
        ]
    )
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1 and elapsed < 6
    assert "not saved within the deadline" in err and "resume" in err
