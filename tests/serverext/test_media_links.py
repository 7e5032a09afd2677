"""Signed links to history files: what the kernel signs is what the server serves, and nothing
a browser edits, forges or keeps past its expiry is accepted."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from kling_studio.serverext._links import (
    KEY_FILE,
    LINK_SECONDS,
    ROUTE_PREFIX,
    LinkRefused,
    ensure_key,
    find_key,
    sign,
    verify,
)


def _token(route: str) -> str:
    assert route.startswith(ROUTE_PREFIX)
    return route[len(ROUTE_PREFIX) :]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_signed_link_names_its_file_and_type(tmp_path: Path) -> None:
    key = ensure_key(tmp_path / "runtime")
    video = tmp_path / "videos" / "clip.mp4"
    video.parent.mkdir()
    video.write_bytes(b"x")
    link = verify(key, _token(sign(key, video) or ""))
    assert link.path == video.resolve()
    assert link.mime == "video/mp4"
    poster = video.with_name("clip.poster.jpg")
    assert verify(key, _token(sign(key, poster) or "")).mime == "image/jpeg"


def test_only_videos_and_posters_are_signed(tmp_path: Path) -> None:
    key = ensure_key(tmp_path)
    assert sign(key, tmp_path / "history.db") is None
    assert sign(key, tmp_path / "notes.txt") is None


def test_an_edited_path_breaks_the_signature(tmp_path: Path) -> None:
    key = ensure_key(tmp_path)
    body64, mac64 = _token(sign(key, tmp_path / "a.mp4") or "").removesuffix(".mp4").split(".")
    body = json.loads(base64.urlsafe_b64decode(body64 + "=="))
    for path in (str(tmp_path / ".." / "a.mp4"), "/etc/passwd.mp4", str(tmp_path / "b.mp4")):
        forged = _b64(json.dumps({**body, "p": path}).encode())
        with pytest.raises(LinkRefused):
            verify(key, f"{forged}.{mac64}.mp4")


def test_a_link_signed_with_another_key_is_refused(tmp_path: Path) -> None:
    route = sign(os.urandom(32), tmp_path / "a.mp4") or ""
    with pytest.raises(LinkRefused):
        verify(ensure_key(tmp_path), _token(route))


def test_an_expired_link_is_refused(tmp_path: Path) -> None:
    key = ensure_key(tmp_path)
    token = _token(sign(key, tmp_path / "a.mp4", now=1000.0) or "")
    verify(key, token, now=1000.0 + LINK_SECONDS - 1)
    with pytest.raises(LinkRefused, match="expired"):
        verify(key, token, now=1000.0 + LINK_SECONDS + 1)


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.mp4", "!!.??.mp4", "a..mp4"])
def test_malformed_links_are_refused(tmp_path: Path, token: str) -> None:
    with pytest.raises(LinkRefused):
        verify(ensure_key(tmp_path), token)


def test_a_signed_suffix_must_match_the_url(tmp_path: Path) -> None:
    key = ensure_key(tmp_path)
    token = _token(sign(key, tmp_path / "a.mp4") or "")
    with pytest.raises(LinkRefused):
        verify(key, token.removesuffix(".mp4") + ".jpg")


def test_the_key_is_made_once_and_private(tmp_path: Path) -> None:
    assert find_key(tmp_path) is None
    key = ensure_key(tmp_path)
    assert ensure_key(tmp_path) == key == find_key(tmp_path)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_a_key_others_can_read_is_not_trusted(tmp_path: Path) -> None:
    ensure_key(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    assert find_key(tmp_path) is None
    with pytest.raises(PermissionError):
        ensure_key(tmp_path)
