"""`transport=` is the one test seam: every request the package makes goes through it (API calls,
picture fetches, video downloads), the key only to the API, and creates keep their rule of not
sharing a connection."""

from __future__ import annotations

from pathlib import Path

import httpx

from kling_studio import AsyncClient
from kling_studio import contract as c
from kling_studio.history._store import History
from kling_studio.models import VideoRequest
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .conftest import FAST


class Recording(httpx.AsyncBaseTransport):
    """Sends every request for real and notes what it was."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_every_request_goes_through_the_transport(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    recording = Recording()
    async with AsyncClient(
        fresh_sim.api_key, fresh_sim.base_url, poll_policy=FAST, transport=recording
    ) as client:
        picture_url = await client.upload(make_picture(color=(9, 9, 9)))
        history = History(tmp_path / "home")
        runner = Runner(client, history)
        # A URL picture: checked by fetching it (without the key) before the create.
        prepared = await client.prepare(VideoRequest.build(prompt="seam", image=picture_url))
        record = await runner.run(prepared)
    assert record.status == "completed" and record.has_video
    by_path = {r.url.path: r for r in recording.seen}
    create = by_path[c.CREATE_PATH]
    picture = by_path[httpx.URL(picture_url).path]
    video = next(r for r in recording.seen if r.url.path.startswith("/videos/"))
    assert create.headers["connection"] == "close"  # the create pool's rule travels along
    assert create.headers["authorization"] == f"Bearer {fresh_sim.api_key}"
    assert "authorization" not in picture.headers and "authorization" not in video.headers
