"""Answers that break the contract's shape, over real HTTP: the simulator really creates the
task, and a transport (the client's one test seam) rewrites its answer on the way back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest

from kling_studio import AsyncClient, CreateOutcomeUnknown, TransportError
from kling_studio import contract as c
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .conftest import FAST

Rewrite = Callable[[dict[str, Any]], Any]


class Rewriting(httpx.AsyncBaseTransport):
    """Sends every request for real; rewrites the JSON answers of one route."""

    def __init__(self, method: str, path_prefix: str, rewrite: Rewrite) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.method, self.prefix, self.rewrite = method, path_prefix, rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != self.method or not request.url.path.startswith(self.prefix):
            return response
        body = json.loads(await response.aread())
        new = json.dumps(self.rewrite(body)).encode()
        return httpx.Response(response.status_code, content=new, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def client_with(sim: Simulator, method: str, prefix: str, rewrite: Rewrite) -> AsyncClient:
    return AsyncClient(
        sim.api_key, sim.base_url, poll_policy=FAST, transport=Rewriting(method, prefix, rewrite)
    )


async def test_created_in_microseconds_keeps_the_task(fresh_sim: Simulator) -> None:
    def micro(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "created": body["created"] * 1_000_000}

    async with client_with(fresh_sim, "POST", c.CREATE_PATH, micro) as client:
        task = await client.submit(prompt="microseconds", image=make_picture())
        assert task.id in {t["id"] for t in fresh_sim.created_tasks()}
        assert task.created is not None and task.created.year >= 2024
        done = await client.wait(task, timeout=30)
    assert done.succeeded


@pytest.mark.parametrize(
    ("rewrite", "kept_id"),
    [
        (lambda body: {**body, "id": {"value": body["id"]}}, False),
        (lambda body: {**body, "id": body["id"] + "/../x"}, True),
        (lambda body: {"error": {"message": "try later", "type": "server_error"}}, False),
        (lambda body: [body], False),
    ],
)
async def test_a_create_answer_without_a_usable_id_is_unknown_never_refused(
    fresh_sim: Simulator, rewrite: Rewrite, kept_id: bool
) -> None:
    before = len(fresh_sim.created_tasks())
    async with client_with(fresh_sim, "POST", c.CREATE_PATH, rewrite) as client:
        with pytest.raises(CreateOutcomeUnknown) as info:
            await client.submit(prompt="odd create answer", image=make_picture())
    created = fresh_sim.created_tasks()
    assert len(created) == before + 1  # sent once, never again
    assert "may exist" in str(info.value) and "NOT re-sent" in str(info.value)
    if kept_id:
        assert info.value.task_id is not None and created[-1]["id"] in info.value.task_id


async def test_a_status_answer_without_its_id_is_still_that_task(fresh_sim: Simulator) -> None:
    def no_id(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "id"}

    async with client_with(fresh_sim, "GET", "/v1/tasks/", no_id) as client:
        task = await client.submit(prompt="status without id", image=make_picture())
        done = await client.wait(task, timeout=30)
    assert done.id == task.id and done.succeeded


async def test_an_error_envelope_instead_of_a_status_is_one_sentence(
    fresh_sim: Simulator,
) -> None:
    def envelope(body: dict[str, Any]) -> dict[str, Any]:
        return {"error": {"message": "upstream busy", "type": "server_error"}}

    async with client_with(fresh_sim, "GET", "/v1/tasks/", envelope) as client:
        task = await client.submit(prompt="error envelope", image=make_picture())
        with pytest.raises(TransportError) as info:
            await client.get(task.id)
    text = str(info.value)
    assert f"about task {task.id} is not a task" in text and "upstream busy" in text
    assert "\n" not in text


async def test_numpy_values_from_a_dataframe_reach_the_server(
    fast_client: AsyncClient, fresh_sim: Simulator
) -> None:
    task = await fast_client.submit(
        prompt=np.str_("from pandas"),
        image=make_picture(),
        duration=np.int64(10),
        generate_audio=np.bool_(True),
        multi_prompt=[{"prompt": "a", "duration": np.int64(4)}, ("b", np.int32(6))],
    )
    body = next(t for t in fresh_sim.created_tasks() if t["id"] == task.id)["body"]
    assert body["duration"] == 10 and body["generate_audio"] is True
    assert [s["duration"] for s in body["multi_prompt"]] == [4, 6]


async def test_completed_with_nothing_to_download_ends_in_one_sentence(
    fresh_sim: Simulator, tmp_path: Any
) -> None:
    from kling_studio.history._store import History
    from kling_studio.models import VideoRequest
    from kling_studio.runner import Runner

    def no_results(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in ("results", "output", "video_url")}

    async with client_with(fresh_sim, "GET", "/v1/tasks/", no_results) as client:
        history = History(tmp_path / "home")
        record = await Runner(client, history).run(
            VideoRequest.build(prompt="nothing to download", image=make_picture())
        )
    assert record.status == "completed" and not record.has_video
    assert record.download_error and "holds no video URL" in record.download_error
