"""A picture's SHA-256 is computed once, however many steps of an upload ask for it."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from kling_studio import AsyncClient, VideoRequest
from kling_studio import pictures as pictures_module
from kling_studio.simulator import Simulator

from ..conftest import make_picture


async def test_preparing_a_local_picture_hashes_its_bytes_once(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_picture(1200, 800)
    passes: list[int] = []

    class CountingHashlib:
        @staticmethod
        def sha256(payload: bytes = b"", **kw: Any) -> Any:
            if bytes(payload) == data:
                passes.append(len(payload))
            return hashlib.sha256(payload, **kw)

    monkeypatch.setattr(pictures_module, "hashlib", CountingHashlib)
    async with AsyncClient(sim.api_key, sim.base_url) as client:
        prepared = await client.prepare(VideoRequest.build(prompt="a boat", image=data))
    assert prepared.payload["image_url"].startswith("http")
    assert passes == [len(data)]
