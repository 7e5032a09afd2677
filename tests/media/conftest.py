"""A simulator rendering 640 px wide clips (so a last frame passes the 300 px rule and a
poster is smaller than its video), and a studio on it whose front end is a recorder."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kling_studio import Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.simulator import Simulator

from ..conftest import make_picture

RED = (220, 30, 30)
BLUE = (30, 30, 220)
GREEN = (30, 200, 30)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []

    def __call__(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        json.dumps(content)  # everything sent must be JSON
        self.sent.append((content, list(buffers or [])))

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [m for m, _ in self.sent if m.get("kind") == kind]


Pair = tuple[Studio, Recorder]


@pytest.fixture(scope="module")
def wide_sim() -> Iterator[Simulator]:
    with Simulator(time_scale=0.004, seed=3, render_width=640, fps=4) as s:
        yield s


@pytest.fixture
async def studio(wide_sim: Simulator, tmp_path: Path) -> AsyncIterator[Pair]:
    s = Studio(api_key=wide_sim.api_key, base_url=wide_sim.base_url, history=tmp_path / "h.db")
    s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
    rec = Recorder()
    s.send = rec  # type: ignore[method-assign]
    yield s, rec
    s.close()


async def ask(studio: Studio, rec: Recorder, msg: dict[str, Any]) -> dict[str, Any]:
    """Send a front-end message and wait for its one reply."""
    req_id = f"r{len(rec.sent)}-{msg['kind']}"
    studio._on_message(studio, {**msg, "req_id": req_id}, [])
    for _ in range(3000):
        found = [m for m in rec.kinds("reply") if m["req_id"] == req_id]
        if found:
            return found[0]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no reply to {msg['kind']}")


async def clip(
    studio: Studio,
    first: tuple[int, int, int] = RED,
    tail: tuple[int, int, int] | None = None,
    *,
    size: tuple[int, int] = (640, 360),
    **fields: Any,
) -> str:
    """Generate one simulated clip (from `first`, crossfading into `tail`); its local id."""
    studio.set_image(make_picture(*size, color=first))
    studio.set_image_tail(make_picture(*size, color=tail) if tail else None)
    record = await studio.agenerate(timeout=60, **{"prompt": "a scene", "duration": 5, **fields})
    assert record.status == "completed" and record.has_video, record
    return record.local_id


def decoded(data: bytes) -> Any:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.load()
        image = im.copy()
        image.format = im.format  # a copy forgets what it was read from
        return image
