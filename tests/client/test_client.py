"""The client against the real simulator over loopback HTTP: every route, error and fault."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kling_studio import (
    AsyncClient,
    AuthenticationError,
    Client,
    ConfigurationError,
    CreateOutcomeUnknown,
    InputError,
    InsufficientQuotaError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    TransportError,
    UnprocessableEntityError,
    WaitTimeout,
)
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from ..conftest import make_picture

FAST = PollPolicy(tail_max=0.05, min_interval=0.01)


@pytest.fixture
def server(sim: Simulator) -> Iterator[Simulator]:
    """The session simulator with no faults, restored after the test."""
    sim.set_faults(None)
    sim.result_shape = "objects"
    sim.balance = None
    yield sim
    sim.set_faults(None)
    sim.result_shape = "objects"
    sim.balance = None


@pytest.fixture
async def client(server: Simulator) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.api_key, server.base_url, poll_policy=FAST) as c:
        yield c


def creates(server: Simulator) -> int:
    return len(server.created_tasks())


def api_requests(server: Simulator) -> int:
    """Requests to FoxAPI's routes (downloads of pictures and videos are not API calls)."""
    counts: dict[str, int] = server.stats()["requests"]
    return sum(counts.get(route, 0) for route in ("create", "get", "upload"))


async def test_generate_from_local_pictures(client: AsyncClient, tmp_path: Path) -> None:
    first = tmp_path / "first.jpg"
    first.write_bytes(make_picture(640, 360, (250, 0, 0), fmt="JPEG"))
    seen: list[tuple[str, int]] = []
    task = await client.generate(
        prompt="red to blue",
        image=first,
        image_tail=make_picture(640, 360, (0, 0, 250)),
        duration=5,
        on_progress=lambda t: seen.append((t.status, t.progress)),
    )
    assert task.status == "completed" and task.progress == 100
    assert task.video_url and task.video_url.startswith(client.base_url)
    assert seen[0][0] == "pending" and seen[-1] == ("completed", 100)
    assert [p for _, p in seen] == sorted(p for _, p in seen)


async def test_create_sends_only_what_is_set(client: AsyncClient, server: Simulator) -> None:
    url = await client.upload(make_picture())
    task = await client.submit(prompt="only the required fields", image=url)
    body = next(t for t in server.created_tasks() if t["id"] == task.id)["body"]
    assert body == {
        "model": "kling-v3-image-to-video",
        "prompt": "only the required fields",
        "image_url": url,
    }
    assert task.estimated_time and task.status == "pending"


async def test_every_field_reaches_the_server(client: AsyncClient, server: Simulator) -> None:
    task = await client.submit(
        prompt="two shots <<<voice_1>>>",
        image=make_picture(),
        image_tail=make_picture(color=(0, 200, 0)),
        resolution="1080p",
        duration=10,
        generate_audio=True,
        negative_prompt="blur, watermark",
        voice_ids=["voice_abc"],
        multi_prompt=[{"prompt": "one", "duration": 4}, {"prompt": "two", "duration": 6}],
    )
    body = next(t for t in server.created_tasks() if t["id"] == task.id)["body"]
    assert body["multi_prompt"][1] == {"index": 2, "prompt": "two", "duration": 6}
    assert body["voice_ids"] == ["voice_abc"] and body["generate_audio"] is True
    assert body["image_tail_url"].startswith(server.base_url)
    assert await client.wait(task, timeout=30)


@pytest.mark.parametrize("shape", ["objects", "strings", "video_url", "output", "mixed"])
async def test_every_result_shape(client: AsyncClient, server: Simulator, shape: str) -> None:
    server.result_shape = shape
    task = await client.generate(prompt=f"shape {shape}", image=make_picture(), timeout=30)
    assert task.video_url is not None
    assert task.video_url.endswith(".mp4")


async def test_failed_task_is_returned_with_its_code(
    client: AsyncClient, server: Simulator
) -> None:
    server.set_faults("fail=1.0")
    task = await client.generate(prompt="will fail", image=make_picture(), timeout=30)
    assert task.status == "failed" and task.error is not None
    assert task.error.code and task.error.message
    with pytest.raises(Exception, match=task.error.code):
        task.raise_for_error()


async def test_bad_input_sends_nothing(client: AsyncClient, server: Simulator) -> None:
    before = api_requests(server)
    with pytest.raises(InputError) as info:
        await client.submit(prompt="x" * 2501, image=make_picture(200, 200), duration=7)
    fields = {p.field for p in info.value.problems}
    assert fields == {"prompt", "image", "duration"}
    assert api_requests(server) == before


async def test_unreachable_picture_url_is_an_input_error(
    client: AsyncClient, server: Simulator
) -> None:
    before = api_requests(server)
    with pytest.raises(InputError, match="cannot fetch"):
        await client.submit(prompt="p", image="http://127.0.0.1:9/nothing.png")
    with pytest.raises(InputError, match="HTTP 404"):
        await client.submit(prompt="p", image=f"{server.base_url}/files/nope/x.png")
    assert api_requests(server) == before


async def test_uploaded_url_serves_the_bytes(client: AsyncClient, server: Simulator) -> None:
    data = make_picture(500, 400)
    url = await client.upload(data)
    assert await client.upload(data) == url  # the same bytes are uploaded once
    import httpx

    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == data


async def test_wrong_key_is_401_without_the_key(server: Simulator) -> None:
    secret = "sk-wrong-key-0123456789"
    async with AsyncClient(secret, server.base_url) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.get("task-x")
    assert info.value.status_code == 401 and info.value.error_type == "authentication_error"
    assert "check FOXAPI_API_KEY" in str(info.value)
    assert secret not in str(info.value) and secret not in repr(info.value)
    assert secret not in repr(c)


async def test_a_misspelt_field_is_named_before_required_ones(client: AsyncClient) -> None:
    with pytest.raises(InputError, match="did you mean 'prompt'"):
        await client.submit(promt="typo", image=make_picture())


async def test_no_key_is_a_configuration_error(server: Simulator) -> None:
    async with AsyncClient(None, server.base_url) as c:
        with pytest.raises(ConfigurationError, match="FOXAPI_API_KEY"):
            await c.submit(prompt="p", image=make_picture())


async def test_unknown_task_is_404_with_its_id(client: AsyncClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.get("task-unified-0-missing")
    assert info.value.task_id == "task-unified-0-missing"
    assert "GET /v1/tasks/task-unified-0-missing" in str(info.value)


async def test_server_side_validation_is_422_with_param(client: AsyncClient) -> None:
    with pytest.raises(UnprocessableEntityError) as info:
        await client.submit(prompt="p", image=make_picture(), model="kling-v0-nothing")
    assert info.value.param == "model"


async def test_balance_too_low_is_402(client: AsyncClient, server: Simulator) -> None:
    server.balance = 1
    with pytest.raises(InsufficientQuotaError) as info:
        await client.submit(prompt="p", image=make_picture())
    assert info.value.error_type == "insufficient_quota"
    server.balance = None
    server.set_faults("402=1.0")
    with pytest.raises(InsufficientQuotaError):
        await client.submit(prompt="p", image=make_picture())


@pytest.mark.parametrize(
    "fault", ["5xx=0.4@get", "429=0.5@get", "drop=0.4@get", "malformed=0.4@get", "slow=0.3@get"]
)
async def test_reads_survive_faults(server: Simulator, fault: str) -> None:
    server.set_faults(f"{fault},retry_after=0.05,slow_seconds=1.5")
    async with AsyncClient(
        server.api_key, server.base_url, poll_policy=FAST, timeout=1.0, max_retries=8
    ) as c:
        task = await c.generate(prompt=f"through {fault}", image=make_picture(), timeout=60)
        assert task.status == "completed"
        assert c.requests_sent > 3  # the retries really happened


async def test_429_retry_after_is_honoured(server: Simulator) -> None:
    server.set_faults("429=1.0@get,retry_after=0.3")
    async with AsyncClient(server.api_key, server.base_url, max_retries=2) as c:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(Exception, match="429"):
            await c.get("task-any")
        assert loop.time() - start >= 0.55  # two waits of Retry-After 0.3 s (with jitter none)
        assert c.requests_sent == 3


@pytest.mark.parametrize("fault", ["429=0.5@create", "5xx=0.5@create"])
async def test_create_is_resent_only_when_refused(server: Simulator, fault: str) -> None:
    # 429 and 503 prove the create was not accepted: re-sent; a 500 is not (outcome unknown).
    server.set_faults(f"{fault},retry_after=0.01")
    before = creates(server)
    made = 0
    async with AsyncClient(server.api_key, server.base_url, max_retries=10) as c:
        for i in range(6):
            try:
                await c.submit(prompt=f"{fault} {i}", image=make_picture())
                made += 1
            except (CreateOutcomeUnknown, RateLimitError, ServiceUnavailableError):
                pass  # unknown, or refused on every try: either way no silent duplicate
    assert creates(server) - before == made  # never two tasks for one submit


async def test_lost_create_answer_is_never_resent(client: AsyncClient, server: Simulator) -> None:
    server.set_faults("lost=1.0@create")
    before = creates(server)
    with pytest.raises(CreateOutcomeUnknown) as info:
        await client.submit(prompt="answer lost", image=make_picture())
    assert "may exist" in str(info.value) and "NOT re-sent" in str(info.value)
    assert creates(server) - before == 1


async def test_dropped_create_is_unknown_not_retried(
    client: AsyncClient, server: Simulator
) -> None:
    server.set_faults("drop=1.0@create")
    before = creates(server)
    with pytest.raises(CreateOutcomeUnknown):
        await client.submit(prompt="dropped", image=make_picture())
    assert creates(server) == before
    assert server.stats()["requests"]["create"] >= 1


async def test_connection_refused_is_retried_then_reported() -> None:
    async with AsyncClient("k", "http://127.0.0.1:9", max_retries=2) as c:
        with pytest.raises(TransportError, match="cannot connect"):
            await c.get("task-1")
        assert c.requests_sent == 3


async def test_wait_deadline(client: AsyncClient, server: Simulator) -> None:
    task = await client.submit(prompt="slow", image=make_picture(), duration=10)
    with pytest.raises(WaitTimeout, match=task.id) as info:
        await client.wait(task, timeout=0.05)
    assert info.value.task_id == task.id
    done = await client.wait(task.id, timeout=30)
    assert done.succeeded


async def test_create_voice(client: AsyncClient, server: Simulator) -> None:
    voice = await client.create_voice(f"{server.base_url}/files/sample/voice.mp3", timeout=30)
    assert voice.startswith("voice_")
    before = api_requests(server)
    with pytest.raises(InputError):
        await client.create_voice("ftp://nope")
    with pytest.raises(InputError, match=r"ends in '\.png'"):
        await client.create_voice(f"{server.base_url}/files/sample/picture.png")
    assert api_requests(server) == before


def test_sync_client_in_a_script(server: Simulator) -> None:
    with Client(server.api_key, server.base_url, poll_policy=FAST) as c:
        task = c.generate(prompt="sync", image=make_picture(), timeout=30)
        assert task.succeeded
        assert c.get(task.id).succeeded
    assert "api_key=<set>" in repr(c)


def test_environment_configuration(monkeypatch: pytest.MonkeyPatch, server: Simulator) -> None:
    monkeypatch.setenv("FOXAPI_API_KEY", server.api_key)
    monkeypatch.setenv("FOXAPI_BASE_URL", server.base_url)
    with Client(poll_policy=FAST) as c:
        assert c.base_url == server.base_url
        assert c.generate(prompt="env", image=make_picture(), timeout=30).succeeded
    monkeypatch.setenv("FOXAPI_BASE_URL", "")
    assert Client("k").base_url == "https://api.foxapi.cc"  # empty counts as unset


def run_in_kernel(code: str, env: dict[str, str]) -> list[str]:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        msg_id = kc.execute(code)
        out: list[str] = []
        while True:
            msg: dict[str, Any] = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_sync_client_inside_a_real_kernel(server: Simulator) -> None:
    import os

    code = """
import asyncio, io
from PIL import Image
from kling_studio import Client
asyncio.get_running_loop()  # a kernel cell runs inside a running event loop
buf = io.BytesIO(); Image.new("RGB", (640, 360), "red").save(buf, "PNG")
c = Client()
t = c.generate(prompt="from a kernel", image=buf.getvalue(), timeout=60)
print("STATUS", t.status, bool(t.video_url))
"""
    env = dict(os.environ, FOXAPI_API_KEY=server.api_key, FOXAPI_BASE_URL=server.base_url)
    out = "".join(run_in_kernel(code, env))
    assert "STATUS completed True" in out


async def test_sync_upstream_is_passed(client: AsyncClient, server: Simulator) -> None:
    task = await client.submit(prompt="refresh", image=make_picture())
    fresh = await client.get(task.id, sync_upstream=True)
    assert fresh.id == task.id and fresh.status in ("pending", "processing", "completed")


async def test_an_oversized_upload_is_413(client: AsyncClient) -> None:
    # The client refuses pictures over 10 MB before sending; this is what FoxAPI would answer
    # to one sent anyway (section 3), mapped to its own exception class.
    from kling_studio import PayloadTooLargeError
    from kling_studio.client._transport import Retry
    from kling_studio.contract import UPLOAD_STREAM_PATH

    big = b"\x89PNG" + bytes(10 * 1024 * 1024 + 1)
    with pytest.raises(PayloadTooLargeError) as info:
        await client._http.request_json(
            "POST", UPLOAD_STREAM_PATH, retry=Retry.IDEMPOTENT, files={"file": ("a.png", big)}
        )
    assert info.value.status_code == 413
