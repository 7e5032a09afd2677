"""Where pictures come from: own uploads read directly, other loopback servers fetched, and
every other host never contacted (a placeholder is drawn instead)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from PIL import ImageStat

from kling_studio.simulator import Simulator

from .conftest import close_to, create, download, frames, mean_colour, picture, wait_done

GREEN = (20, 200, 60)


class Pictures(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {
        "/green.png": picture(GREEN),
        "/huge.png": b"\x89PNG" + b"\0" * (10 * 1024 * 1024 + 10),
    }

    def do_GET(self) -> None:
        data = self.files.get(self.path)
        self.send_response(200 if data else 404)
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def picture_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pictures)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_other_loopback_servers_are_fetched(
    sim: Simulator, api: httpx.Client, picture_server: int, host: str, tmp_path: Path
) -> None:
    url = f"http://{host}:{picture_server}/green.png"
    done = wait_done(api, create(api, prompt="x", image_url=url)["id"])
    assert done["status"] == "completed"
    assert close_to(mean_colour(frames(download(done["results"][0]["url"], tmp_path))[0]), GREEN)
    assert sim.stats()["picture_sources"] == {"loopback": 1}


def test_loopback_errors_fail_the_task(api: httpx.Client, picture_server: int) -> None:
    base = f"http://127.0.0.1:{picture_server}"
    missing = create(api, prompt="x", image_url=f"{base}/missing.png")["id"]
    huge = create(api, prompt="x", image_url=f"{base}/huge.png")["id"]
    closed = create(api, prompt="x", image_url=f"http://127.0.0.1:{free_port()}/a.png")["id"]
    assert wait_done(api, missing)["error"]["code"] == "image_fetch_failed"
    assert "404" in wait_done(api, missing)["error"]["message"]
    assert wait_done(api, huge)["error"]["code"] == "invalid_image"
    assert "10 MB" in wait_done(api, huge)["error"]["message"]
    assert wait_done(api, closed)["error"]["code"] == "image_fetch_failed"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Trap:
    """A listening socket that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.1)
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


def test_other_hosts_are_never_contacted(
    sim: Simulator, api: httpx.Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # If the simulator fetched these URLs through any proxy from the environment, the trap
    # would see it; with no proxy it would fail to resolve/connect and the task would fail.
    trap = Trap()
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.setenv(name, trap.url)
    try:
        task = create(
            api,
            prompt="far away",
            image_url="https://example.com/start.jpg",
            image_tail_url="http://10.1.2.3/end.png",
        )
        done = wait_done(api, task["id"])
    finally:
        trap.close()
    assert trap.connections == 0
    assert done["status"] == "completed"
    assert sim.stats()["picture_sources"] == {"placeholder": 2}
    first = frames(download(done["results"][0]["url"], tmp_path))[0]
    assert max(ImageStat.Stat(first).stddev) > 10  # drawn text, not a blank frame


@pytest.mark.parametrize(
    "url",
    [
        "http://127.example.com/a.png",
        "http://localhost.example.com/a.png",
        "http://[::ffff:8.8.8.8]/a.png",
    ],
)
def test_names_that_look_local_are_not_fetched(sim: Simulator, api: httpx.Client, url: str) -> None:
    assert wait_done(api, create(api, prompt="x", image_url=url)["id"])["status"] == "completed"
    assert sim.stats()["picture_sources"] == {"placeholder": 1}
