"""Copy a history into another (`kling-studio history migrate --to URL`), and move an old shared
history's video bytes out of its database into its video store (`history migrate --videos`).

A copy takes every table a history has: tasks (each keeps its local id, times and request; its
author is the copying user when it had none), everyone's ratings, comparison plans, and, only
when asked (`budgets=True`), the budgets: a personal file must not raise a class's budget. Each
task's video goes from wherever the source keeps it (this machine's file, the source's store, an
old shared history's table) into the target's store, checked by hash; a target whose store is a
folder gets the file there, so its records name a file. A task, comparison or budget already in
the target is left alone, so running the copy twice copies nothing twice.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import HistoryError
from ._rows import iso, now

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

    from ._store import History


@dataclass(frozen=True)
class Copied:
    tasks: int  # copied now
    skipped: int  # already in the target
    videos: int  # videos copied with them
    comparisons: int = 0
    budgets: int = 0


@dataclass(frozen=True)
class Moved:
    videos: int  # videos moved from the database's table into the store
    tasks: int  # tasks whose video now is in the store


def _rows(history: History, table: Table) -> list[dict[str, Any]]:
    from sqlalchemy import select

    def read(conn: Connection) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(select(table)).mappings()]

    return history._run(read, write=False)


def _keys(history: History, column: Any) -> set[str]:
    from sqlalchemy import select

    def read(conn: Connection) -> set[str]:
        return set(conn.execute(select(column)).scalars())

    return history._run(read, write=False)


def copy_history(source: History, target: History, *, budgets: bool = False) -> Copied:
    from ._schema import budgets as budgets_table
    from ._schema import comparisons, ratings, settings, tasks

    judgements: dict[str, list[dict[str, Any]]] = {}
    for judgement in _rows(source, ratings):
        judgements.setdefault(judgement["local_id"], []).append(judgement)
    have = _keys(target, tasks.c.local_id)
    rows = _rows(source, tasks)
    copied = videos = 0
    for row in rows:
        if row["local_id"] in have:
            continue
        row.update(lease_owner=None, lease_until=None)
        row["author"] = row["author"] or source.user
        videos += _carry_video(source, target, row)

        def write(conn: Connection, row: dict[str, Any] = row) -> None:
            conn.execute(tasks.insert().values(row))
            for judgement in judgements.get(row["local_id"], []):
                conn.execute(ratings.insert().values(judgement))

        target._run(write, write=True)
        copied += 1
    plans = _copy_new(source, target, comparisons, comparisons.c.group_id)
    limits = 0
    if budgets:  # the budget time zone (a `settings` row) goes with the budgets it shapes
        limits = _copy_new(source, target, budgets_table, budgets_table.c.user)
        _copy_new(source, target, settings, settings.c.key)
    return Copied(copied, len(rows) - copied, videos, plans, limits)


def _carry_video(source: History, target: History, row: dict[str, Any]) -> int:
    """Put the task's video into the target's store and point `row` at it; 1 if it had one."""
    from ..store._objects import file_sha256

    if row["video_path"] is None and row["video_sha256"] is None:
        return 0
    try:
        path = source.video_file(row["local_id"])
    except HistoryError as exc:
        if row["video_sha256"] is None:  # a path recorded but the file is gone: nothing to carry
            row.update(video_path=None, video_stored_at=None, store_error=None)
            return 0
        raise HistoryError(
            f"task {row['local_id']}'s video could not be read from {source.videos} ({exc}); "
            "nothing more was copied: run the migration again once the store answers"
        ) from None
    sha256 = row["video_sha256"] or file_sha256(path)
    kept = target.keep_video(path, sha256)
    local = path
    if target.store.kind == "folder" and kept.stored:
        folder = target.store.location.folder
        assert folder is not None
        local = folder / target.store.key(sha256)
    row.update(
        video_path=target._store_path(local),
        video_sha256=sha256,
        video_stored_at=iso(now()) if kept.stored else None,
        store_error=kept.error,
    )
    return 1


def _copy_new(source: History, target: History, table: Table, key: Any) -> int:
    have = _keys(target, key)
    new = [r for r in _rows(source, table) if r[key.name] not in have]

    def write(conn: Connection) -> None:
        for r in new:
            conn.execute(table.insert().values(r))

    if new:
        target._run(write, write=True)
    return len(new)


def move_videos_to_store(history: History) -> Moved:
    """Move every video an old shared history holds in its database into its store: each put,
    read back and checked by hash before its bytes leave the database. Runnable again (what
    has moved is gone from the table); ends with no video bytes in the database."""
    from sqlalchemy import and_, delete

    from ._schema import tasks, videos

    moved = marked = 0
    for sha256 in sorted(_keys(history, videos.c.sha256)):
        data = history._legacy_bytes(sha256)
        if data is None:
            continue  # moved by another run meanwhile
        if hashlib.sha256(data).hexdigest() != sha256:
            raise HistoryError(
                f"the database's copy of the video {sha256[:12]} is damaged (its bytes do not "
                "match its hash); it was left where it is"
            )
        spool = history.videos_dir / f".move.{uuid.uuid4().hex}.part"
        check = history.videos_dir / f".check.{uuid.uuid4().hex}.part"
        try:
            spool.write_bytes(data)
            del data
            history.store.put_file(spool, sha256)
            history.store.get_file(sha256, check)  # read back: checked against its hash
        except Exception as exc:
            raise HistoryError(
                f"the video {sha256[:12]} could not be moved into {history.videos} ({exc}); it "
                "stays in the database: run the migration again"
            ) from None
        finally:
            spool.unlink(missing_ok=True)
            check.unlink(missing_ok=True)
        stamp = str(iso(now()))

        def work(conn: Connection, sha256: str = sha256, stamp: str = stamp) -> int:
            done = conn.execute(
                tasks.update()
                .where(and_(tasks.c.video_sha256 == sha256, tasks.c.video_stored_at.is_(None)))
                .values(video_stored_at=stamp, store_error=None)
            ).rowcount
            conn.execute(delete(videos).where(videos.c.sha256 == sha256))
            return int(done or 0)

        marked += history._run(work, write=True)
        moved += 1
    return Moved(moved, marked)
