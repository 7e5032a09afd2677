"""Videos everyone can play: a shared history keeps each video once (by content), any member's
machine gets a local MP4 from `video_file()`, and `kling-studio history migrate --to URL`
copies a local history with its videos, copying nothing twice when run again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kling_studio.errors import HistoryError
from kling_studio.history._store import History

from ..history.test_store import api, completed, prepared
from ..postgres_server import PostgresServer

MP4 = b"\0\0\0\x18ftypisom" + os.urandom(4096)  # bytes as a video file would hold


def _finished_with_video(history: History, prompt: str, task_id: str, data: bytes) -> str:
    local_id = history.journal_submit(prepared(prompt))
    history.mark_created(local_id, api(task_id, "pending"))
    history.update(local_id, completed(task_id, url=f"http://127.0.0.1:9/{task_id}.mp4"))
    path = history.cache.path_for(task_id)
    path.write_bytes(data)
    history.set_video(local_id, path)
    return local_id


def test_any_member_gets_any_video_and_a_video_is_stored_once(
    postgres: object, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(postgres, PostgresServer)
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "ada-machine"))
    with History(postgres_url, user="ada") as ada:
        first = _finished_with_video(ada, "one", "task-1", MP4)
        again = _finished_with_video(ada, "the same video again", "task-2", MP4)
        assert ada.video_file(first).read_bytes() == MP4
        unsaved = ada.journal_submit(prepared("not done"))
        with pytest.raises(HistoryError, match="has no saved video"):
            ada.video_file(unsaved)
    database = urlsplit(postgres_url).path.lstrip("/")
    assert postgres.sql(database, "SELECT count(*) FROM videos") == [(1,)]  # kept once

    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "bob-machine"))
    with History(postgres_url, user="bob") as bob:
        assert not bob[first].has_video  # not on this machine...
        path = bob.video_file(first)  # ...until asked for
        assert path.is_file() and path.read_bytes() == MP4
        assert tmp_path / "bob-machine" in path.parents
        assert bob.video_file(again) == path  # one content, one local file


def _kls(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kling_studio", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_copies_a_local_history_and_its_videos_once(
    postgres: object, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(postgres, PostgresServer)
    local = tmp_path / "mine" / "history.sqlite3"
    with History(local, user="ada") as mine:
        with_video = _finished_with_video(mine, "kept", "task-a", MP4)
        failed = mine.journal_submit(prepared("failed"))
        mine.update(failed, api("task-b", "failed", error={"code": "x", "message": "no"}))
        mine.set_rating(with_video, rating=5, note="best")

    done = _kls("--history", str(local), "history", "migrate", "--to", postgres_url)
    assert done.returncode == 0, done.stderr
    assert "copied 2 task(s) and 1 video(s)" in done.stdout
    assert postgres.password not in done.stdout + done.stderr
    again = _kls("history", "migrate", "--history", str(local), "--to", postgres_url)
    assert again.returncode == 0, again.stderr
    assert "copied 0 task(s)" in again.stdout and "2 were there already" in again.stdout

    database = urlsplit(postgres_url).path.lstrip("/")
    assert postgres.sql(database, "SELECT count(*) FROM tasks") == [(2,)]
    assert postgres.sql(database, "SELECT count(*) FROM videos") == [(1,)]
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "another-machine"))
    with History(postgres_url, user="bob") as shared:
        record = shared[with_video]
        assert (record.user, record.rating, record.note) == ("ada", 5, "best")
        assert shared[failed].status == "failed"
        (local.parent / "videos" / "task-a.mp4").unlink()  # gone from the first machine too
        assert shared.video_file(with_video).read_bytes() == MP4


def test_migrate_without_a_target_is_a_usage_error(tmp_path: Path) -> None:
    done = _kls("--history", str(tmp_path / "h.sqlite3"), "history", "migrate")
    assert done.returncode == 2 and "needs --to URL" in done.stderr
