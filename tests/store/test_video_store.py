"""The video store: content-addressed objects written only if absent, streamed in and out, on a
folder, in memory and on a real S3 server (SeaweedFS, signatures checked)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import obstore
import pytest

from kling_studio.errors import ConfigurationError, VideoStoreError
from kling_studio.store import VideoStore, open_store, parse_location

from ..s3_server import S3Server


def clip(path: Path, size: int, seed: int = 1) -> str:
    """A file of `size` pseudo-random bytes; returns its SHA-256."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    with path.open("wb") as fh:
        left = size
        while left > 0:
            fh.write(block[: min(left, len(block))])
            left -= len(block)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=["memory", "folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VideoStore:
    if request.param == "memory":
        return open_store("memory://")
    if request.param == "folder":
        return open_store(tmp_path / "store")
    return open_store(request.getfixturevalue("s3_store"))


@pytest.mark.parametrize("size", [3000, 7 << 20])  # under and over a chunk
def test_a_clip_kept_twice_is_one_object_and_comes_back_whole(
    store: VideoStore, tmp_path: Path, size: int
) -> None:
    sha = clip(tmp_path / "a.mp4", size)
    assert not store.exists(sha)
    first = store.put_file(tmp_path / "a.mp4")
    assert (first.sha256, first.size, first.written) == (sha, size, True)
    again = store.put_file(tmp_path / "a.mp4", sha)
    assert again.written is False and store.exists(sha)
    back = store.get_file(sha, tmp_path / "out" / "b.mp4")
    assert hashlib.sha256(back.read_bytes()).hexdigest() == sha
    assert [p.name for p in back.parent.iterdir()] == ["b.mp4"]  # no partial file left
    assert not store.exists(sha, "poster")


async def test_a_stream_is_kept_under_the_hash_of_its_bytes(
    store: VideoStore, tmp_path: Path
) -> None:
    sha = clip(tmp_path / "a.mp4", 300_000)
    data = (tmp_path / "a.mp4").read_bytes()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    outcome = await store.put_stream(chunks(), tmp_path / "spool")
    assert outcome.sha256 == sha and outcome.written and store.exists(sha)
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_missing_or_damaged_object_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "store")
    sha = clip(tmp_path / "a.mp4", 5000)
    with pytest.raises(VideoStoreError, match="has no video") as missing:
        store.get_file(sha, tmp_path / "b.mp4")
    assert missing.value.retryable is False
    store.put_file(tmp_path / "a.mp4")
    (tmp_path / "store" / f"{sha}.mp4").write_bytes(b"not the clip")
    with pytest.raises(VideoStoreError, match="damaged"):
        store.get_file(sha, tmp_path / "b.mp4")
    assert not (tmp_path / "b.mp4").exists()


def test_a_signed_url_serves_ranges_on_s3_and_none_elsewhere(s3_store: str, tmp_path: Path) -> None:
    sha = clip(tmp_path / "a.mp4", 200_000)
    store = open_store(s3_store)
    store.put_file(tmp_path / "a.mp4")
    url = store.signed_url(sha, 60)
    assert url is not None and os.environ["AWS_SECRET_ACCESS_KEY"] not in url
    answer = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert answer.status_code == 206
    assert answer.content == (tmp_path / "a.mp4").read_bytes()[100:200]
    assert open_store(tmp_path / "f").signed_url(sha, 60) is None
    assert open_store("memory://").signed_url(sha, 60) is None


def test_wrong_credentials_name_the_store_but_never_the_secret(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wrong = "Wr0ng-" + s3.secret_key[::-1]
    for name, value in s3.env(secret_key=wrong).items():
        monkeypatch.setenv(name, value)
    location = s3.new_store()
    store = open_store(location)
    clip(tmp_path / "a.mp4", 4000)
    with pytest.raises(VideoStoreError) as refused:
        store.put_file(tmp_path / "a.mp4")
    message = str(refused.value)
    assert "refused the credentials" in message and location in message
    assert wrong not in message and s3.secret_key not in message and wrong not in repr(store)
    assert refused.value.retryable


def test_a_store_that_is_down_is_named_and_retryable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ..s3_server import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nobody")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret-at-all")
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    store = open_store("s3://down-bucket/videos")
    sha = clip(tmp_path / "a.mp4", 4000)
    with pytest.raises(VideoStoreError, match=r"s3://down-bucket/videos could not") as down:
        store.exists(sha)
    assert down.value.retryable and "not-a-real-secret" not in str(down.value)


_RACE = """
import sys
from pathlib import Path
from kling_studio.store import open_store
store = open_store(sys.argv[1])
sys.stdin.readline()  # both start together
print(store.put_file(Path(sys.argv[2])).written, flush=True)
"""


@pytest.mark.parametrize("size", [4000, 6 << 20])
def test_two_processes_saving_the_same_clip_make_one_object(
    s3_store: str, tmp_path: Path, size: int
) -> None:
    sha = clip(tmp_path / "a.mp4", size)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, s3_store, str(tmp_path / "a.mp4")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert "True" in results  # one of them wrote it (both, at most, the same bytes)
    store = open_store(s3_store)
    listed = obstore.list(store._store).collect()
    assert [o["path"] for o in listed] == [f"{sha}.mp4"]
    assert listed[0]["size"] == size


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("s3://Bad_Bucket/x", "not an S3 bucket name"),
        ("s3://key:secret@bucket/x", "no credentials"),
        ("gs://bucket/x", "folder path or s3://"),
        ("s3://bucket/../x", r"'\.\.'"),
    ],
)
def test_a_bad_store_setting_says_what_to_write(value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as bad:
        parse_location(value)
    assert "secret" not in str(bad.value).replace("no credentials", "")


def test_the_setting_comes_from_the_argument_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert parse_location(None, tmp_path / "v").folder == tmp_path / "v"
    monkeypatch.setenv("KLING_STUDIO_VIDEOS", "s3://class-videos/2026/")
    assert parse_location(None, tmp_path / "v").display == "s3://class-videos/2026"
    assert parse_location(tmp_path / "mine", tmp_path / "v").folder == tmp_path / "mine"
