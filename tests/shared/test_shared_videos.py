"""Videos everyone can play: a shared history keeps each video once (by content) in its video
store (a real S3 server here), never in the database; any member's machine gets a local MP4 from
`video_file()`; `kling-studio history migrate --to URL` copies a local history with its videos,
copying nothing twice when run again; videos an older shared history holds in its database still
play, and `history migrate --videos s3://...` moves them into the store."""

from __future__ import annotations

import hashlib
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


def _objects(store: str) -> list[str]:
    import obstore

    from kling_studio.store import open_store

    return sorted(o["path"] for o in obstore.list(open_store(store)._store).collect())


def test_any_member_gets_any_video_and_a_video_is_stored_once(
    postgres: object,
    postgres_url: str,
    s3_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(postgres, PostgresServer)
    monkeypatch.setenv("KLING_STUDIO_VIDEOS", s3_store)
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "ada-machine"))
    with History(postgres_url, user="ada") as ada:
        first = _finished_with_video(ada, "one", "task-1", MP4)
        again = _finished_with_video(ada, "the same video again", "task-2", MP4)
        assert ada.video_file(first).read_bytes() == MP4
        unsaved = ada.journal_submit(prepared("not done"))
        with pytest.raises(HistoryError, match="has no saved video"):
            ada.video_file(unsaved)
    database = urlsplit(postgres_url).path.lstrip("/")
    assert postgres.sql(database, "SELECT count(*) FROM videos") == [(0,)]  # no bytes in SQL
    sha = hashlib.sha256(MP4).hexdigest()
    assert _objects(s3_store) == [f"{sha}.mp4"]  # kept once

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
    postgres: object,
    postgres_url: str,
    s3_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(postgres, PostgresServer)
    local = tmp_path / "mine" / "history.sqlite3"
    with History(local, user="ada") as mine:
        with_video = _finished_with_video(mine, "kept", "task-a", MP4)
        failed = mine.journal_submit(prepared("failed"))
        mine.update(failed, api("task-b", "failed", error={"code": "x", "message": "no"}))
        mine.set_rating(with_video, rating=5, note="best")

    to = ("--to", postgres_url, "--to-videos", s3_store)
    done = _kls("--history", str(local), "history", "migrate", *to)
    assert done.returncode == 0, done.stderr
    assert "copied 2 task(s), 1 video(s)" in done.stdout and s3_store in done.stdout
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert postgres.password not in done.stdout + done.stderr
    assert secret not in done.stdout + done.stderr
    again = _kls("history", "migrate", "--history", str(local), *to)
    assert again.returncode == 0, again.stderr
    assert "copied 0 task(s)" in again.stdout and "2 task(s) were there already" in again.stdout

    database = urlsplit(postgres_url).path.lstrip("/")
    assert postgres.sql(database, "SELECT count(*) FROM tasks") == [(2,)]
    assert postgres.sql(database, "SELECT count(*) FROM videos") == [(0,)]
    assert _objects(s3_store) == [f"{hashlib.sha256(MP4).hexdigest()}.mp4"]
    monkeypatch.setenv("KLING_STUDIO_VIDEOS", s3_store)
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "another-machine"))
    with History(postgres_url, user="bob") as shared:
        record = shared[with_video]
        assert (record.user, record.rating, record.note) == ("ada", None, None)  # bob's own
        (judged,) = shared.judgements([with_video])[with_video]  # ada's judgement came along
        assert (judged.user, judged.rating, judged.note) == ("ada", 5, "best")
        assert shared[failed].status == "failed"
        (local.parent / "videos" / "task-a.mp4").unlink()  # gone from the first machine too
        assert shared.video_file(with_video).read_bytes() == MP4


def test_migrate_without_a_target_is_a_usage_error(tmp_path: Path) -> None:
    done = _kls("--history", str(tmp_path / "h.sqlite3"), "history", "migrate")
    assert done.returncode == 2 and "needs --to URL" in done.stderr


def test_videos_an_old_shared_history_holds_still_play_and_move_into_the_store(
    postgres: object,
    postgres_url: str,
    s3_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A history made before stores kept bytes in its `videos` table: they play as they are, and
    `history migrate --videos` moves them (twice is harmless), leaving none in the database."""
    from sqlalchemy import create_engine

    from kling_studio.history._schema import tasks, videos

    assert isinstance(postgres, PostgresServer)
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "ada-machine"))
    with History(postgres_url, user="ada") as ada:
        old = _finished_with_video(ada, "old", "task-old", MP4)
    sha = hashlib.sha256(MP4).hexdigest()
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # as the previous version left it: bytes in SQL, no store
        conn.execute(videos.insert().values(sha256=sha, size=len(MP4), data=MP4, stored_at="x"))
        conn.execute(tasks.update().values(video_stored_at=None))
    engine.dispose()
    database = urlsplit(postgres_url).path.lstrip("/")
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "bob-machine"))
    with History(postgres_url, user="bob", videos=s3_store) as bob:
        assert bob.video_file(old).read_bytes() == MP4  # from the table: it still plays

    for _ in range(2):
        moved = _kls("--history", postgres_url, "history", "migrate", "--videos", s3_store)
        assert moved.returncode == 0, moved.stderr
    assert "moved 0 video(s)" in moved.stdout  # the second run found nothing left
    assert postgres.sql(database, "SELECT count(*) FROM videos") == [(0,)]
    assert _objects(s3_store) == [f"{sha}.mp4"]
    monkeypatch.setenv("KLING_STUDIO_HOME", str(tmp_path / "carol-machine"))
    with History(postgres_url, user="carol", videos=s3_store) as carol:
        assert carol[old].video_stored and carol.video_file(old).read_bytes() == MP4
