"""Shared fixtures: pictures made with Pillow, an isolated data folder, no real key."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees a real key or writes to the user's data folder."""
    monkeypatch.delenv("FOXAPI_API_KEY", raising=False)
    monkeypatch.delenv("FOXAPI_BASE_URL", raising=False)
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "home"))


def make_picture(
    width: int = 640,
    height: int = 360,
    color: tuple[int, int, int] = (200, 40, 40),
    fmt: str = "PNG",
) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def picture() -> Callable[..., bytes]:
    return make_picture


@pytest.fixture
def picture_file(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "frame.png", **kwargs: object) -> Path:
        fmt = "JPEG" if name.lower().endswith((".jpg", ".jpeg")) else "PNG"
        path = tmp_path / name
        path.write_bytes(make_picture(fmt=fmt, **kwargs))  # type: ignore[arg-type]
        return path

    return make


@pytest.fixture(scope="session")
def sim() -> Iterator[object]:
    """One fast simulator for the session; tests that change faults restore them."""
    from kling_studio.simulator import Simulator

    with Simulator(time_scale=0.02, seed=7) as s:
        yield s
