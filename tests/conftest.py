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
    monkeypatch.delenv("KLING_STUDIO_HISTORY", raising=False)
    monkeypatch.delenv("KLING_STUDIO_USER", raising=False)
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """One real PostgreSQL server for the session (tests/postgres_server.py): skipped when the
    machine has none, a failure under KLING_STUDIO_REQUIRE_POSTGRES=1."""
    import os

    from .postgres_server import (
        ENV_REQUIRE,
        ENV_URL,
        PostgresServer,
        find_binaries,
        required,
        throwaway_server,
    )

    given = os.environ.get(ENV_URL, "").strip()
    if given:
        yield PostgresServer(given)
        return
    binaries = find_binaries()
    if binaries is None:
        reason = f"no PostgreSQL binaries here (install postgresql, or set {ENV_URL})"
        if required():
            pytest.fail(f"{reason}, and {ENV_REQUIRE}=1", pytrace=False)
        pytest.skip(reason)
    with throwaway_server(binaries) as server:
        yield server


@pytest.fixture
def postgres_url(postgres: object) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    from .postgres_server import PostgresServer

    assert isinstance(postgres, PostgresServer)
    return postgres.new_database()
