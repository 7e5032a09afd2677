"""The video cache against a real HTTP server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import io
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from kling_studio.errors import VideoExpiredError
from kling_studio.history._videos import DownloadError, VideoCache, check_video, file_name


def make_mp4(seconds: float = 1.0, size: int = 64, fps: int = 10) -> bytes:
    """A real H.264 MP4 clip, made with PyAV."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(int(seconds * fps)):
            pixels = np.full((size, size, 3), (i * 20) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


MP4 = make_mp4()


class Server:
    """Routes: /ok.mp4, /truncated.mp4, /flaky.mp4 (500 then OK), /cut-once.mp4,
    /gone.mp4 (410), /forbidden (403), /missing (404), /html (200, not a video),
    /busy (429 Retry-After: 0 then OK), /slow.mp4, /redirect -> /ok.mp4, /teapot (418)."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.peers: list[tuple[str, int]] = []  # the client's address, per request
        self.lock = threading.Lock()
        self.slow_started = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with server.lock:
                    server.hits[path] += 1
                    hit = server.hits[path]
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    server.peers.append(self.client_address)
                server.route(self, path, hit)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    @staticmethod
    def send(handler: BaseHTTPRequestHandler, code: int, body: bytes, **headers: str) -> None:
        handler.send_response(code)
        handler.send_header("Content-Type", headers.pop("ctype", "video/mp4"))
        handler.send_header("Content-Length", headers.pop("length", str(len(body))))
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()

    def route(self, h: BaseHTTPRequestHandler, path: str, hit: int) -> None:
        send = self.send
        if path == "/ok.mp4":
            send(h, 200, MP4)
        elif path == "/truncated.mp4" or (path == "/cut-once.mp4" and hit == 1):
            send(h, 200, MP4[: len(MP4) // 2], length=str(len(MP4)))
            h.close_connection = True
        elif path == "/cut-once.mp4":
            send(h, 200, MP4)
        elif path == "/flaky.mp4":
            send(h, 500, b"oops", ctype="text/plain") if hit == 1 else send(h, 200, MP4)
        elif path == "/busy":
            if hit == 1:
                send(h, 429, b"slow down", ctype="text/plain", Retry_After="0")
            else:
                send(h, 200, MP4)
        elif path == "/busy-until":  # Retry-After as an HTTP date (RFC 9110), 2 s ahead
            if hit == 1:
                when = email.utils.formatdate(time.time() + 2, usegmt=True)
                send(h, 429, b"slow down", ctype="text/plain", Retry_After=when)
            else:
                send(h, 200, MP4)
        elif path == "/huge.mp4":  # declares far more than any video could be
            send(h, 200, MP4[:1000], length=str(3 * 2**30))
            h.close_connection = True
        elif path == "/gone.mp4":
            send(h, 410, b"gone", ctype="text/plain")
        elif path == "/forbidden":
            send(h, 403, b"<Error>AccessDenied</Error>", ctype="application/xml")
        elif path == "/missing":
            send(h, 404, b"not found", ctype="text/plain")
        elif path == "/html":
            send(h, 200, b"<html>login</html>", ctype="text/html")
        elif path == "/fake-ftyp":
            send(h, 200, b"\0\0\0\x18ftypisom" + b"\0" * 200)
        elif path == "/empty":
            send(h, 200, b"")
        elif path == "/slow.mp4":
            self.slow_started.set()
            h.send_response(200)
            h.send_header("Content-Length", str(len(MP4)))
            h.end_headers()
            with contextlib.suppress(ConnectionError):  # a cancelled client hangs up
                for i in range(0, len(MP4), 512):  # about 0.25 s in all
                    h.wfile.write(MP4[i : i + 512])
                    h.wfile.flush()
                    time.sleep(0.25 * 512 / len(MP4))
        elif path == "/redirect":
            h.send_response(302)
            h.send_header("Location", "/ok.mp4")
            h.send_header("Content-Length", "0")
            h.end_headers()
        else:
            send(h, 418, b"teapot", ctype="text/plain")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def cache(tmp_path: Path) -> VideoCache:
    return VideoCache(tmp_path / "videos", backoff=0.01)


def leftovers(cache: VideoCache) -> list[Path]:
    return [p for p in cache.root.iterdir() if p.name.startswith(".")]


# --- names -------------------------------------------------------------------------------------


def test_plain_task_ids_keep_their_name(cache: VideoCache) -> None:
    tid = "task-unified-1757165031-uyujaw3d"
    assert cache.path_for(tid) == cache.root / f"{tid}.mp4"
    assert cache.path_for("A_b-9") == cache.root / "A_b-9.mp4"
    assert cache.path_for("x" * 100).name == "x" * 100 + ".mp4"


@pytest.mark.parametrize(
    "task_id",
    [
        "../../etc/passwd",
        "a/b",
        "a\\b",
        "",
        ".",
        "..",
        "视频任务",
        "x" * 101,
        "y" * 5000,
        "nul\x00byte",
        "CON",
        "nul",
        "task id with spaces",
        "/absolute",
        "~",
        "\ud800",
    ],
)
def test_unsafe_task_ids_are_hashed_inside_root(cache: VideoCache, task_id: str) -> None:
    path = cache.path_for(task_id)
    assert path.parent == cache.root
    assert path.name.startswith("sha256.") and path.name.endswith(".mp4")
    assert len(path.name) == len("sha256.") + 64 + len(".mp4")
    assert cache.path_for(task_id) == path  # stable


def test_names_are_distinct(cache: VideoCache) -> None:
    ids = ["a", "A", "a/b", "a\\b", "../a", "视频", "x" * 101, "x" * 102, ""]
    assert len({file_name(i) for i in ids}) == len(ids)
    hashed = file_name("a/b").removesuffix(".mp4")
    assert file_name(hashed) != file_name("a/b")  # a hashed name cannot be a plain id


def test_path_for_refuses_non_strings(cache: VideoCache) -> None:
    with pytest.raises(TypeError):
        cache.path_for(42)  # type: ignore[arg-type]


# --- downloads ---------------------------------------------------------------------------------


async def test_download_saves_a_checked_video(server: Server, cache: VideoCache) -> None:
    assert cache.existing("t1") is None
    path = await cache.download(server.url("/ok.mp4"), "t1")
    assert path == cache.path_for("t1") and path.read_bytes() == MP4
    assert cache.existing("t1") == path
    assert leftovers(cache) == []
    # Already saved: no second request.
    assert await cache.download(server.url("/ok.mp4"), "t1") == path
    assert server.hits["/ok.mp4"] == 1
    # overwrite=True fetches again.
    await cache.download(server.url("/ok.mp4"), "t1", overwrite=True)
    assert server.hits["/ok.mp4"] == 2


async def test_redirects_are_followed(server: Server, cache: VideoCache) -> None:
    path = await cache.download(server.url("/redirect"), "t-redirect")
    assert path.read_bytes() == MP4


async def test_the_key_is_never_sent_even_with_a_shared_client(
    server: Server, cache: VideoCache
) -> None:
    headers = {"Authorization": "Bearer sk-test-secret", "X-Other": "kept"}
    async with httpx.AsyncClient(headers=headers, auth=("user", "sk-test-pw")) as http:
        await cache.download(server.url("/ok.mp4"), "t-shared", http=http)
        assert not http.is_closed  # a client passed in is not ours to close
    seen = server.headers[-1]
    assert "authorization" not in seen and seen.get("x-other") == "kept"
    await cache.download(server.url("/ok.mp4"), "t-own")
    assert "authorization" not in server.headers[-1]


async def test_server_error_then_ok_is_retried(server: Server, cache: VideoCache) -> None:
    path = await cache.download(server.url("/flaky.mp4"), "t-flaky")
    assert path.read_bytes() == MP4 and server.hits["/flaky.mp4"] == 2


async def test_rate_limit_then_ok_is_retried(server: Server, cache: VideoCache) -> None:
    path = await cache.download(server.url("/busy"), "t-busy")
    assert path.read_bytes() == MP4 and server.hits["/busy"] == 2


async def test_truncated_body_is_retried(server: Server, cache: VideoCache) -> None:
    path = await cache.download(server.url("/cut-once.mp4"), "t-cut")
    assert path.read_bytes() == MP4 and server.hits["/cut-once.mp4"] == 2
    assert leftovers(cache) == []


async def test_always_truncated_gives_up_without_a_file(server: Server, cache: VideoCache) -> None:
    with pytest.raises(DownloadError, match="3 attempt") as info:
        await cache.download(server.url("/truncated.mp4"), "t-trunc", attempts=3)
    assert "127.0.0.1" in str(info.value)
    assert server.hits["/truncated.mp4"] == 3
    assert cache.existing("t-trunc") is None and leftovers(cache) == []


@pytest.mark.parametrize(
    ("route", "code"), [("/gone.mp4", 410), ("/missing", 404), ("/forbidden", 403)]
)
async def test_expired_url_is_not_retried(
    server: Server, cache: VideoCache, route: str, code: int
) -> None:
    with pytest.raises(VideoExpiredError, match="24 hours") as info:
        await cache.download(server.url(route), "t-old")
    assert info.value.status_code == code and info.value.task_id == "t-old"
    assert server.hits[route] == 1
    assert cache.existing("t-old") is None and leftovers(cache) == []


@pytest.mark.parametrize("route", ["/html", "/fake-ftyp", "/empty"])
async def test_not_a_video_is_refused(server: Server, cache: VideoCache, route: str) -> None:
    with pytest.raises(DownloadError, match="could not be saved"):
        await cache.download(server.url(route), "t-bad", attempts=2)
    assert server.hits[route] == 2
    assert cache.existing("t-bad") is None and leftovers(cache) == []


async def test_other_client_errors_are_not_retried(server: Server, cache: VideoCache) -> None:
    with pytest.raises(DownloadError, match="HTTP 418"):
        await cache.download(server.url("/teapot"), "t-tea")
    assert server.hits["/teapot"] == 1


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/a.mp4", "/ok.mp4", "javascript:alert(1)"]
)
async def test_only_http_urls(cache: VideoCache, url: str) -> None:
    with pytest.raises(DownloadError, match="http"):
        await cache.download(url, "t-scheme")


async def test_unreachable_host_gives_up(cache: VideoCache) -> None:
    import socket

    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="ConnectError"):
        await cache.download(f"http://127.0.0.1:{port}/x.mp4", "t-down", attempts=2)
    assert leftovers(cache) == []


async def test_concurrent_downloads_of_one_task(server: Server, cache: VideoCache) -> None:
    paths = await asyncio.gather(
        *(cache.download(server.url("/slow.mp4"), "t-same", overwrite=True) for _ in range(5))
    )
    assert set(paths) == {cache.path_for("t-same")}
    assert server.hits["/slow.mp4"] == 5
    assert paths[0].read_bytes() == MP4 and leftovers(cache) == []
    check_video(paths[0])


async def test_cancelled_download_leaves_nothing(server: Server, cache: VideoCache) -> None:
    job = asyncio.create_task(cache.download(server.url("/slow.mp4"), "t-cancel"))
    assert await asyncio.to_thread(server.slow_started.wait, 10)
    await asyncio.sleep(0.02)  # mid-body: the body takes 0.25 s to arrive
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert server.hits["/slow.mp4"] == 1
    assert cache.existing("t-cancel") is None and leftovers(cache) == []


def test_check_video(tmp_path: Path) -> None:
    good = tmp_path / "good.mp4"
    good.write_bytes(MP4)
    check_video(good)
    for name, data in {
        "empty": b"",
        "text": b"hello world, not a video",
        "ftyp-garbage": b"\0\0\0\x18ftypisom" + os.urandom(500),
        "half": MP4[: len(MP4) // 3],
    }.items():
        bad = tmp_path / name
        bad.write_bytes(data)
        with pytest.raises(ValueError):
            check_video(bad)


def test_a_cut_faststart_mp4_is_refused(tmp_path: Path) -> None:
    # With its index first, PyAV opens a cut file without complaint; the box walk does not.
    whole, cut = tmp_path / "whole.mp4", tmp_path / "cut.mp4"
    with av.open(str(whole), mode="w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i in range(10):
            pixels = np.random.default_rng(i).integers(0, 255, (64, 64, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = whole.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    cut.write_bytes(data[: len(data) * 3 // 4])
    check_video(whole)
    with av.open(str(cut)) as container:  # what PyAV alone would accept
        assert container.streams.video
    with pytest.raises(ValueError, match="incomplete"):
        check_video(cut)


def test_webm_is_accepted(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm") as container:
        stream = container.add_stream("libvpx-vp9", rate=10)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    path = tmp_path / "clip.webm"
    path.write_bytes(buffer.getvalue())
    check_video(path)


def test_clean_partials(cache: VideoCache) -> None:
    cache.root.mkdir(parents=True)
    old = cache.root / ".t1.mp4.abc.part"
    new = cache.root / ".t2.mp4.def.part"
    video = cache.root / "t3.mp4"
    for p in (old, new, video):
        p.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert cache.clean_partials() == 1
    assert not old.exists() and new.exists() and video.exists()


async def test_retry_after_as_an_http_date_is_honoured(
    server: Server, cache: VideoCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A virtual clock for the waits: record each delay, sleep none of it.
    real_sleep = asyncio.sleep
    delays: list[float] = []

    async def record(delay: float, *args: Any, **kwargs: Any) -> None:
        delays.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", record)
    path = await cache.download(server.url("/busy-until"), "t-date")
    assert path.read_bytes() == MP4 and server.hits["/busy-until"] == 2
    assert 0.9 <= max(delays) <= 2.1  # the server's date, not the 0.01 s backoff


async def test_a_body_far_larger_than_any_video_is_refused_at_once(
    server: Server, cache: VideoCache
) -> None:
    with pytest.raises(DownloadError, match=r"serves 3\.0 GiB, far more than any video"):
        await cache.download(server.url("/huge.mp4"), "t-huge")
    assert server.hits["/huge.mp4"] == 1 and leftovers(cache) == []


async def test_downloads_share_one_connection(server: Server, cache: VideoCache) -> None:
    for n in range(3):
        await cache.download(server.url("/ok.mp4"), f"t-share-{n}")
    assert len(set(server.peers)) == 1  # one client, its connection kept alive
    await cache.aclose()


# -- against the simulator's CDN: encodings and stalls --------------------------------------


@pytest.fixture
def finished_video(sim: Any) -> Iterator[tuple[Any, str]]:
    """A finished task of the session simulator: (simulator, its video URL)."""
    from kling_studio import Client

    from ..conftest import make_picture

    sim.set_faults(None)
    with Client(sim.api_key, sim.base_url) as client:
        task = client.generate(prompt="to download", image=make_picture(), timeout=60)
    assert task.video_url
    yield sim, task.video_url
    sim.set_faults(None)


async def test_a_gzip_encoded_video_is_saved_decoded(
    finished_video: tuple[Any, str], cache: VideoCache
) -> None:
    sim, url = finished_video
    sim.set_faults("gzip=1@files")
    path = await cache.download(url, "t-gzip")
    check_video(path)
    assert sim.stats()["faults"].get("gzip") == 1


async def test_a_body_that_stalls_half_way_ends_at_the_deadline(
    finished_video: tuple[Any, str], cache: VideoCache
) -> None:
    sim, url = finished_video
    sim.set_faults("stall=1@files,stall_seconds=20")
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"not saved within the deadline.*resume"):
        await cache.download(url, "t-stall", deadline=time.monotonic() + 0.5)
    assert time.monotonic() - started < 2.0
    assert leftovers(cache) == []
