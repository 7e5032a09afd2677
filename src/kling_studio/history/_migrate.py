"""Copy a history into another (`kling-studio history migrate --to URL`): typically one
person's SQLite file into the team's PostgreSQL history. Every task keeps its local id, times,
request and rating; its author is the copying user when it had none; its video goes with it
(into the shared store, stored once per content). A task already in the target is left alone,
so running the copy twice copies nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._blobs import file_sha256, keep_bytes

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ._store import History


@dataclass(frozen=True)
class Copied:
    tasks: int  # copied now
    skipped: int  # already in the target
    videos: int  # video files copied with them


def copy_history(source: History, target: History) -> Copied:
    from sqlalchemy import select

    from ._schema import tasks

    def read(conn: Connection) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(select(tasks)).mappings()]

    def existing(conn: Connection) -> set[str]:
        return set(conn.execute(select(tasks.c.local_id)).scalars())

    rows = source._run(read, write=False)
    have = target._run(existing, write=False)
    copied = videos = 0
    for row in rows:
        if row["local_id"] in have:
            continue
        row.update(lease_owner=None, lease_until=None)
        row["author"] = row["author"] or source.user
        video = source._load_path(row["video_path"])
        has_file = video is not None and video.is_file()
        if has_file:
            assert video is not None
            row["video_path"] = str(video)  # this machine's file; others read the store
            row["video_sha256"] = row.get("video_sha256") or file_sha256(video)

        blob = video if has_file and target.shared else None

        def write(conn: Connection, row: dict[str, Any] = row, blob: Path | None = blob) -> None:
            if blob is not None:
                keep_bytes(conn, blob, row["video_sha256"])
            conn.execute(tasks.insert().values(row))

        target._run(write, write=True)
        copied += 1
        videos += int(has_file)
    return Copied(tasks=copied, skipped=len(rows) - copied, videos=videos)
