"""`history migrate` copies every table a history has: a round trip SQLite -> PostgreSQL (videos
in a real S3 store) -> SQLite gives back every task, rating, comparison (and, when asked, budget)
field by field, and every video by hash, even once the first machine's files are gone."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from kling_studio.history._migrate import copy_history
from kling_studio.history._schema import budgets, comparisons, ratings, tasks
from kling_studio.history._store import History

from .test_store import api, completed, prepared

# Where a copy's video lives, which machine follows it, and its store's bookkeeping differ by
# design; every other field comes back as it was.
PLACE = {"video_path", "video_stored_at", "store_error", "lease_owner", "lease_until"}


def _video(history: History, prompt: str, task_id: str, data: bytes, **kw: Any) -> str:
    local_id = history.journal_submit(prepared(prompt), **kw)
    history.mark_created(local_id, api(task_id, "pending"))
    history.update(local_id, completed(task_id, url=f"http://127.0.0.1:9/{task_id}.mp4"))
    path = history.cache.path_for(task_id)
    path.write_bytes(data)
    history.set_video(local_id, path)
    return local_id


def _table(history: History, table: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    rows = history._run(
        lambda c: [dict(r) for r in c.execute(select(table)).mappings()], write=False
    )
    return sorted(rows, key=repr)


def _fields(history: History) -> list[dict[str, Any]]:
    return sorted(
        ({k: v for k, v in row.items() if k not in PLACE} for row in _table(history, tasks)),
        key=lambda r: r["local_id"],
    )


def test_a_round_trip_through_postgresql_and_s3_gives_back_every_table_and_video(
    postgres_url: str, s3_store: str, tmp_path: Path
) -> None:
    clips = [b"\0\0\0\x18ftypisom" + os.urandom(5000) for _ in range(2)]
    with History(tmp_path / "a" / "history.sqlite3", user="ada") as first:
        group = "cmp-1"
        ids = [
            _video(first, "a", "task-a", clips[0], group_id=group, variant={"resolution": "720p"}),
            _video(first, "b", "task-b", clips[1], group_id=group, variant={"resolution": "1080p"}),
        ]
        failed = first.journal_submit(prepared("failed"))
        first.update(failed, api("task-f", "failed", error={"code": "x", "message": "no"}))
        first.save_comparison(group, {"title": "720p or 1080p", "variants": ids})
        first.set_rating(ids[0], rating=4, note="crisp")
        with History(first.path, user="bob") as bob:
            bob.set_rating(ids[0], winner=True)
        first.set_budget("ada", credits=100.0)
        original = {t: _table(first, t) for t in (ratings, comparisons, budgets)}
        fields = _fields(first)
        sha = {i: hashlib.sha256(c).hexdigest() for i, c in zip(ids, clips, strict=True)}

        with History(postgres_url, user="teacher", videos=s3_store) as shared:
            done = copy_history(first, shared)
            assert (done.tasks, done.videos, done.comparisons, done.budgets) == (3, 2, 1, 0)
            assert _table(shared, budgets) == []  # a personal file's budgets stay out...
            assert copy_history(first, shared, budgets=True).budgets == 1  # ...unless asked
            again = copy_history(first, shared, budgets=True)
            assert (again.tasks, again.skipped, again.comparisons, again.budgets) == (0, 3, 0, 0)
            assert (
                shared._run(
                    lambda c: c.exec_driver_sql("SELECT count(*) FROM videos").scalar(), write=False
                )
                == 0
            )
            for local_id in ids:
                assert shared[local_id].video_stored

    # The first machine's files (its tasks' and its folder store's) are gone: the videos now
    # live only in the S3 store.
    for video in (tmp_path / "a" / "videos").glob("*.mp4"):
        video.unlink()
    with (
        History(postgres_url, user="teacher", videos=s3_store) as shared,
        History(tmp_path / "b" / "history.sqlite3", user="ada") as back,
    ):
        done = copy_history(shared, back, budgets=True)
        assert (done.tasks, done.videos, done.comparisons, done.budgets) == (3, 2, 1, 1)
        assert _fields(back) == fields
        assert {t: _table(back, t) for t in (ratings, comparisons, budgets)} == original
        for local_id in ids:
            record = back[local_id]
            assert record.has_video and record.video_stored  # names a file of its own
            assert tmp_path / "b" in record.video_path.parents
            assert hashlib.sha256(record.video_path.read_bytes()).hexdigest() == sha[local_id]
        assert back.comparison_plan("cmp-1") == {"title": "720p or 1080p", "variants": ids}
