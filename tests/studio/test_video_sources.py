"""Where the player is told to get a video from, best first: a signed store URL, the Jupyter
server's media route for a file on this machine, else the bytes through the websocket; and the
bytes whenever the front end asks for them because a URL failed. The simulator is real; the
front end is replaced by recording what the widget sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kling_studio import Studio
from kling_studio.client._polling import PollPolicy
from kling_studio.history import TaskRecord
from kling_studio.serverext import _links
from kling_studio.simulator import Simulator
from kling_studio.studio import _media_links

from ..conftest import make_picture
from .test_widget_backend import Recorder, ask


@pytest.fixture
async def finished(sim: Simulator, tmp_path: Path) -> AsyncIterator[tuple[Studio, Recorder, str]]:
    """A studio whose one task has a saved video."""
    sim.set_faults(None)
    s = Studio(api_key=sim.api_key, base_url=sim.base_url, history=tmp_path / "h.sqlite3")
    s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
    rec = Recorder()
    s.send = rec  # type: ignore[method-assign]
    s.set_image(make_picture())
    local_id = await s.asubmit(prompt="a quiet lake", duration=5)
    await s.await_all(60)
    yield s, rec, local_id
    s.close()


@pytest.fixture
def runtime_with_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """This process as a kernel whose Jupyter server has kling-studio's media route."""
    runtime = tmp_path / "runtime"
    key = _links.ensure_key(runtime)
    monkeypatch.setattr(_media_links, "kernel_runtime_dir", lambda: runtime)
    return key


async def test_outside_jupyter_the_bytes_are_sent(finished: tuple[Studio, Recorder, str]) -> None:
    s, rec, local_id = finished
    video = await ask(s, rec, {"kind": "video", "local_id": local_id})
    assert video["ok"], video
    assert video["data"]["url"] is None and video["data"]["route"] is None
    assert video["data"]["chunks"] == len(rec.kinds("video_chunk")) >= 1


async def test_a_kernel_of_a_server_with_the_route_gets_a_route_and_no_bytes(
    finished: tuple[Studio, Recorder, str], runtime_with_route: bytes
) -> None:
    s, rec, local_id = finished
    video = await ask(s, rec, {"kind": "video", "local_id": local_id})
    assert video["ok"], video
    data = video["data"]
    assert data["url"] is None and data["chunks"] == 0 and not rec.kinds("video_chunk")
    route = data["route"]
    assert route.startswith(_links.ROUTE_PREFIX) and route.endswith(".mp4")
    link = _links.verify(runtime_with_route, route.removeprefix(_links.ROUTE_PREFIX))
    saved = s.history[local_id].video_path
    assert saved is not None and link.path == saved.resolve()
    assert data["size"] == saved.stat().st_size


async def test_when_the_url_failed_the_bytes_are_sent_anyway(
    finished: tuple[Studio, Recorder, str], runtime_with_route: bytes
) -> None:
    s, rec, local_id = finished
    video = await ask(s, rec, {"kind": "video", "local_id": local_id, "force_bytes": True})
    assert video["ok"], video
    assert video["data"]["route"] is None and video["data"]["url"] is None
    assert video["data"]["chunks"] == len(rec.kinds("video_chunk")) >= 1


async def test_the_route_can_be_turned_off(
    finished: tuple[Studio, Recorder, str],
    runtime_with_route: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s, rec, local_id = finished
    monkeypatch.setenv(_media_links.ENV_MEDIA_ROUTE, "0")
    video = await ask(s, rec, {"kind": "video", "local_id": local_id})
    assert video["data"]["route"] is None and video["data"]["chunks"] >= 1


async def test_a_signed_store_url_comes_first(
    finished: tuple[Studio, Recorder, str], runtime_with_route: bytes
) -> None:
    s, rec, local_id = finished
    asked: list[str] = []

    def signer(record: TaskRecord) -> str | None:
        asked.append(record.local_id)
        return "https://bucket.example/videos/abc.mp4?X-Amz-Signature=1"

    s.history.video_signer = signer
    video = await ask(s, rec, {"kind": "video", "local_id": local_id})
    assert video["data"]["url"] == "https://bucket.example/videos/abc.mp4?X-Amz-Signature=1"
    assert video["data"]["route"] is None and not rec.kinds("video_chunk")
    assert asked == [local_id]
    # The browser could not reach the store: the bytes, without asking the store again.
    again = await ask(s, rec, {"kind": "video", "local_id": local_id, "force_bytes": True})
    assert again["data"]["url"] is None and again["data"]["chunks"] >= 1
    assert asked == [local_id]


async def test_a_store_that_cannot_sign_falls_back_to_the_route(
    finished: tuple[Studio, Recorder, str], runtime_with_route: bytes
) -> None:
    s, rec, local_id = finished

    def signer(record: TaskRecord) -> str | None:
        raise OSError("store unreachable")

    s.history.video_signer = signer
    video = await ask(s, rec, {"kind": "video", "local_id": local_id})
    assert video["ok"], video
    assert video["data"]["route"] is not None and video["data"]["url"] is None
    s.history.video_signer = lambda record: None
    video = await ask(s, rec, {"kind": "video", "local_id": local_id})
    assert video["data"]["route"] is not None


async def test_history_rows_name_posters_by_route_when_the_page_asks(
    finished: tuple[Studio, Recorder, str], runtime_with_route: bytes
) -> None:
    s, rec, _ = finished
    by_route = await ask(s, rec, {"kind": "history", "poster_routes": True})
    row = by_route["data"]["rows"][0]
    assert row["poster"] is None
    link = _links.verify(runtime_with_route, row["poster_route"].removeprefix(_links.ROUTE_PREFIX))
    assert link.mime == "image/jpeg" and link.path.is_file()
    assert link.path.read_bytes()[:3] == b"\xff\xd8\xff"
    as_bytes = await ask(s, rec, {"kind": "history"})
    row = as_bytes["data"]["rows"][0]
    assert row["poster_route"] is None and row["poster"].startswith("data:image/jpeg;base64,")


async def test_outside_jupyter_posters_stay_bytes_even_when_routes_are_asked(
    finished: tuple[Studio, Recorder, str],
) -> None:
    s, rec, _ = finished
    row = (await ask(s, rec, {"kind": "history", "poster_routes": True}))["data"]["rows"][0]
    assert row["poster_route"] is None and row["poster"].startswith("data:image/jpeg;base64,")


async def test_a_snapshot_for_a_page_with_routes_leaves_earlier_posters_to_the_rows(
    finished: tuple[Studio, Recorder, str], runtime_with_route: bytes, sim: Simulator
) -> None:
    s, rec, local_id = finished
    own = (await ask(s, rec, {"kind": "snapshot", "poster_routes": True}))["data"]["cards"]
    assert own[0]["local_id"] == local_id and own[0]["poster"]  # this session's task: its own
    assert s.history.location.path is not None
    later = Studio(api_key=sim.api_key, base_url=sim.base_url, history=s.history.location.path)
    later_rec = Recorder()
    later.send = later_rec  # type: ignore[method-assign]
    try:
        by_route = await ask(later, later_rec, {"kind": "snapshot", "poster_routes": True})
        assert [c["poster"] for c in by_route["data"]["cards"]] == [None]
        as_bytes = await ask(later, later_rec, {"kind": "snapshot"})
        assert as_bytes["data"]["cards"][0]["poster"].startswith("data:image/jpeg;base64,")
    finally:
        later.close()


async def test_a_video_in_an_s3_store_plays_from_a_presigned_url_with_range(
    sim: Simulator, tmp_path: Path, s3_store: str
) -> None:
    """The real store signs the URL (no stand-in signer): the player's first source is the
    bucket itself, and it answers a Range request with 206 and the clip's bytes."""
    import httpx

    from kling_studio import History

    sim.set_faults(None)
    history = History(tmp_path / "h.sqlite3", videos=s3_store)
    s = Studio(api_key=sim.api_key, base_url=sim.base_url, history=history)
    try:
        s.client.poll_policy = PollPolicy(tail_max=0.05, min_interval=0.01)
        rec = Recorder()
        s.send = rec  # type: ignore[method-assign]
        s.set_image(make_picture())
        local_id = await s.asubmit(prompt="a quiet lake", duration=5)
        await s.await_all(60)
        video = await ask(s, rec, {"kind": "video", "local_id": local_id})
        assert video["ok"], video
        url = video["data"]["url"]
        assert url is not None and url.startswith("http://127.0.0.1:") and "Signature" in url
        assert not rec.kinds("video_chunk")
        saved = s.history[local_id].video_path
        assert saved is not None
        async with httpx.AsyncClient() as http:
            part = await http.get(url, headers={"Range": "bytes=0-99"})
        assert part.status_code == 206
        assert part.content == saved.read_bytes()[:100]
    finally:
        s.close()
