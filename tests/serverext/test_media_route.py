"""The Jupyter server's media route, over real HTTP to a real `jupyter lab` with the extension
as the package installs it: Range (206), HEAD, types, authentication, a base URL prefix like a
JupyterHub single-user server's, and no way to read a file no link was signed for."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kling_studio.serverext._links import ROUTE_PREFIX, find_key, sign
from tests.browser import harness

TOKEN = "route-test-token"


@contextlib.contextmanager
def _server(token: str = "", base_url: str = "/") -> Iterator[harness.JupyterServer]:
    server = harness.start_jupyter_server(token=token, base_url=base_url)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.base_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def open_server() -> Iterator[harness.JupyterServer]:
    with _server() as server:
        yield server


@pytest.fixture(scope="module")
def hub_like_server() -> Iterator[harness.JupyterServer]:
    """Token authentication and a JupyterHub-like base URL."""
    with _server(token=TOKEN, base_url="/user/alice/") as s:
        yield s


def _key(server: harness.JupyterServer) -> bytes:
    key = find_key(server.base_dir / "runtime")
    assert key is not None, "the extension made no key in the server's runtime folder"
    return key


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "videos" / "clip.mp4"
    path.parent.mkdir()
    path.write_bytes(os.urandom(300_000))
    return path


def test_a_range_request_gets_206_and_only_that_range(
    open_server: harness.JupyterServer, video: Path
) -> None:
    url = f"{open_server.url}/{sign(_key(open_server), video)}"
    data = video.read_bytes()
    r = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "video/mp4"
    assert r.content == data[1000:2000]
    tail = httpx.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == data[-500:]
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == data


def test_head_answers_the_size_and_type_without_a_body(
    open_server: harness.JupyterServer, video: Path
) -> None:
    r = httpx.head(f"{open_server.url}/{sign(_key(open_server), video)}")
    assert r.status_code == 200
    assert int(r.headers["content-length"]) == video.stat().st_size
    assert r.headers["accept-ranges"] == "bytes"
    assert r.content == b""


def test_a_poster_is_served_as_jpeg(open_server: harness.JupyterServer, tmp_path: Path) -> None:
    poster = tmp_path / "clip.poster.jpg"
    poster.write_bytes(b"\xff\xd8\xff" + os.urandom(100))
    r = httpx.get(f"{open_server.url}/{sign(_key(open_server), poster)}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content == poster.read_bytes()


def test_no_other_file_can_be_reached(
    open_server: harness.JupyterServer, video: Path, tmp_path: Path
) -> None:
    route = sign(_key(open_server), video) or ""
    token = route[len(ROUTE_PREFIX) :]
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"not yours")
    base = f"{open_server.url}/{ROUTE_PREFIX}"
    attempts = [
        f"{base}{token}/../../../../etc/passwd",
        f"{base}..%2F..%2F..%2Fetc%2Fpasswd",
        f"{base}{token[:-4]}.jpg",  # the signed type changed
        f"{base}x{token}",  # the signed body changed
        f"{base}{sign(os.urandom(32), secret)}",  # signed with a guessed key
        f"{base}{token}/extra",
        f"{open_server.url}/kling-studio/media/{secret}",
        f"{open_server.url}/kling-studio/media/",
    ]
    for url in attempts:
        r = httpx.get(url, follow_redirects=True)  # Jupyter drops a trailing slash by redirect
        assert r.status_code in (403, 404), (url, r.status_code)
        assert b"not yours" not in r.content and b"root:" not in r.content
    forged = httpx.get(f"{base}x{token}")
    assert forged.status_code == 403


def test_a_signed_file_that_is_gone_is_404(open_server: harness.JupyterServer, video: Path) -> None:
    url = f"{open_server.url}/{sign(_key(open_server), video)}"
    video.unlink()
    assert httpx.get(url).status_code == 404


def test_the_route_needs_the_servers_authentication_and_honours_its_base_url(
    hub_like_server: harness.JupyterServer, video: Path
) -> None:
    route = sign(_key(hub_like_server), video)
    assert hub_like_server.url.endswith("/user/alice")
    url = f"{hub_like_server.url}/{route}"
    anonymous = httpx.get(url, headers={"Range": "bytes=0-99"})
    assert anonymous.status_code in (302, 403)  # a browser is sent to the login page
    assert anonymous.content != video.read_bytes()[:100]
    r = httpx.get(url, headers={"Range": "bytes=0-99", "Authorization": f"token {TOKEN}"})
    assert r.status_code == 206 and r.content == video.read_bytes()[:100]
    outside = httpx.get(
        f"http://127.0.0.1:{hub_like_server.port}/{route}",
        headers={"Authorization": f"token {TOKEN}"},
    )
    assert outside.status_code == 404  # only under the base URL
