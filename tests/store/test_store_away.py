"""A video store that is down or refuses the credentials loses nothing: the video is kept on this
machine, the card and the record say why it waits (naming the store, never the secret), and it
is uploaded once the store answers again. Real HTTP to the simulator, a real S3 server behind a
relay that the test cuts and restores."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_studio import AsyncClient
from kling_studio.client._polling import PollPolicy
from kling_studio.history._store import History
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from ..s3_server import S3Server, SeverableProxy

FAST = PollPolicy(tail_max=0.1, min_interval=0.02)


@pytest.fixture
def relay(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeverableProxy]:
    proxy = SeverableProxy(s3.endpoint)
    for name, value in s3.env(proxy.endpoint).items():
        monkeypatch.setenv(name, value)
    yield proxy
    proxy.close()


async def _one_video(sim: Simulator, history: History) -> tuple[Runner, str]:
    client = AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST)
    runner = Runner(client, history)
    local_id = runner.start(await client.prepare(prompt="a fox", image=make_picture(640, 360)))
    await asyncio.wait_for(runner.join(), 60)
    return runner, local_id


async def test_a_store_that_is_down_keeps_the_video_here_and_gets_it_once_back(
    relay: SeverableProxy, s3: S3Server, tmp_path: Path
) -> None:
    store = s3.new_store()
    relay.cut()
    with (
        Simulator(time_scale=0.02, seed=5, render_width=64, fps=4) as sim,
        History(tmp_path / "h.sqlite3", videos=store) as history,
    ):
        runner, local_id = await _one_video(sim, history)
        try:
            record = history[local_id]
            assert record.has_video and not record.video_stored  # kept here, not lost
            assert record.store_error is not None and store in record.store_error
            assert "uploaded once it answers" in record.store_error
            (card,) = [c for c in runner.cards() if c["local_id"] == local_id]
            assert card["error"]["code"] == "video_not_uploaded" and card["has_video"]
            assert s3.secret_key not in record.store_error + str(card)

            relay.restore()  # the store is back: the runner's uploader puts the video there
            for _ in range(300):
                (card,) = [c for c in runner.cards() if c["local_id"] == local_id]
                if card["error"] is None:
                    break
                await asyncio.sleep(0.1)
            assert card["error"] is None and card["has_video"]
            record = history[local_id]
            assert record.video_stored and record.store_error is None
            assert history.store.exists(history.video_sha256(local_id) or "")
        finally:
            await runner.aclose()
            await runner.client.aclose()


async def test_refused_credentials_keep_the_video_and_resume_uploads_it_later(
    relay: SeverableProxy, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = s3.new_store()
    wrong = "Wr0ng-" + s3.secret_key[::-1]
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong)
    with (
        Simulator(time_scale=0.02, seed=6, render_width=64, fps=4) as sim,
        History(tmp_path / "h.sqlite3", videos=store) as history,
    ):
        runner, local_id = await _one_video(sim, history)
        await runner.aclose()
        await runner.client.aclose()
        record = history[local_id]
        assert record.has_video and not record.video_stored
        assert record.store_error is not None and "refused the credentials" in record.store_error
        assert wrong not in record.store_error and store in record.store_error
    frame = History(tmp_path / "h.sqlite3", videos=store).df()
    assert wrong not in frame.to_csv()

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)  # fixed; a new session resumes
    with History(tmp_path / "h.sqlite3", videos=store) as history:
        uploads = history.upload_pending()
        assert (uploads.uploaded, uploads.waiting) == (1, 0)
        assert history[local_id].video_stored and history[local_id].store_error is None
