"""Fixtures and helpers for the simulator's tests: real HTTP on loopback, no mocks."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import av
import httpx
import pytest
from PIL import Image, ImageStat

from kling_studio.simulator import Simulator

FAST = 0.01  # time_scale: a 5 s clip is "estimated" at 0.45 s


def picture(
    color: tuple[int, int, int], size: tuple[int, int] = (640, 360), fmt: str = "PNG"
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def client(sim: Simulator, key: str | None = "default") -> httpx.Client:
    # trust_env=False: a proxy in the environment must never carry test traffic elsewhere.
    headers = {"Authorization": f"Bearer {sim.api_key if key == 'default' else key}"} if key else {}
    return httpx.Client(base_url=sim.base_url, headers=headers, trust_env=False, timeout=10)


def upload(api: httpx.Client, data: bytes, name: str = "picture.png") -> str:
    body = {"file_data": base64.b64encode(data).decode(), "file_name": name}
    response = api.post("/v1/files/upload/base64", json=body)
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/videos/generations", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def wait_done(api: httpx.Client, task_id: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = api.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in ("completed", "failed"):
            return task
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


def download(url: str, tmp_path: Any, name: str = "clip.mp4") -> Any:
    response = httpx.get(url, trust_env=False)
    assert response.status_code == 200, response.text
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def frames(path: Any) -> list[Image.Image]:
    with av.open(str(path)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


def mean_colour(image: Image.Image) -> tuple[float, ...]:
    """Mean colour of the top half: the caption band sits at the bottom."""
    top = image.crop((0, 0, image.width, image.height // 2))
    return tuple(ImageStat.Stat(top).mean)


def close_to(a: tuple[float, ...], b: tuple[float, ...], tolerance: float = 25) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(time_scale=FAST, seed=1) as running:
        yield running


@pytest.fixture
def api(sim: Simulator) -> Iterator[httpx.Client]:
    with client(sim) as http:
        yield http


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """For tests that only read: one server for the whole module."""
    with Simulator(time_scale=FAST, seed=2) as running:
        yield running


@pytest.fixture
def shared_api(shared_sim: Simulator) -> Iterator[httpx.Client]:
    with client(shared_sim) as http:
        yield http


@pytest.fixture
def red_url(api: httpx.Client) -> str:
    return upload(api, picture((220, 30, 30)), "red.png")


@pytest.fixture
def blue_url(api: httpx.Client) -> str:
    return upload(api, picture((30, 40, 220)), "blue.png")


MakeSim = Callable[..., Simulator]


@pytest.fixture
def make_sim() -> Iterator[MakeSim]:
    """Start a simulator with custom options; all are stopped at the end of the test."""
    started: list[Simulator] = []

    def make(**options: Any) -> Simulator:
        options.setdefault("time_scale", FAST)
        running = Simulator(**options).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
