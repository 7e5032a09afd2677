"""Videos everyone can play. A SQLite history keeps its videos as files beside it. A shared
(PostgreSQL) history also keeps each video's bytes in the database, once per content (by
SHA-256: a video kept twice is stored once), so any member's machine can play any task's video:
`video_file()` writes it into this machine's cache the first time it is asked for.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import HistoryError
from ._records import TaskRecord
from ._rows import iso, now

if TYPE_CHECKING:
    from sqlalchemy import Connection, Label

_T = TypeVar("_T")
CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def video_stored() -> Label[bool]:
    """A column for reading tasks: whether the shared store holds the task's video bytes (so
    it can be played on any machine). Answered by the database, without reading the bytes."""
    from sqlalchemy import select

    from ._schema import tasks, videos

    held = select(videos.c.sha256).where(videos.c.sha256 == tasks.c.video_sha256)
    return held.exists().label("video_stored")


def keep_bytes(conn: Connection, path: Path, sha256: str) -> None:
    """Store a video's bytes under its hash unless they are there already."""
    from sqlalchemy import select

    from ._schema import videos

    if conn.execute(select(videos.c.sha256).where(videos.c.sha256 == sha256)).first():
        return
    data = path.read_bytes()
    conn.execute(
        videos.insert().values(sha256=sha256, size=len(data), data=data, stored_at=iso(now()))
    )


class Videos:
    shared: bool
    videos_dir: Path
    #: A short-lived URL a browser can fetch a record's video from (an S3 store's presigned
    #: GET), or None (no such URL: a folder, no video). None until a store provides one; the
    #: studio's player prefers it to every other source.
    video_signer: Callable[[TaskRecord], str | None] | None = None

    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        raise NotImplementedError

    def __getitem__(self, local_id: str) -> TaskRecord:
        raise NotImplementedError

    def video_sha256(self, local_id: str) -> str | None:
        from sqlalchemy import select

        from ._schema import tasks

        def work(conn: Connection) -> str | None:
            query = select(tasks.c.video_sha256).where(tasks.c.local_id == local_id)
            return conn.execute(query).scalar()

        return self._run(work, write=False)

    def video_file(self, local_id: str) -> Path:
        """A local MP4 of the task's video: the saved file, or (shared history) the stored
        bytes written into this machine's cache. HistoryError when the task has no video."""
        record = self[local_id]
        if record.has_video and record.video_path is not None:
            return record.video_path
        sha256 = self.video_sha256(local_id) if self.shared else None
        if sha256 is None:
            why = record.download_error or (
                "it has not been downloaded yet (kling-studio resume fetches it)"
                if record.status == "completed"
                else f"the task is {record.status}"
            )
            raise HistoryError(f"Task {local_id} has no saved video: {why}")
        target = self.videos_dir / f"{sha256}.mp4"
        if target.is_file():
            return target
        data = self._video_bytes(sha256)
        part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            part.write_bytes(data)
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
        return target

    def _video_bytes(self, sha256: str) -> bytes:
        from sqlalchemy import select

        from ._schema import videos

        def work(conn: Connection) -> bytes | None:
            return conn.execute(select(videos.c.data).where(videos.c.sha256 == sha256)).scalar()

        data = self._run(work, write=False)
        if data is None or hashlib.sha256(data).hexdigest() != sha256:
            raise HistoryError(
                f"The shared history lacks the video {sha256[:12]} (or it is damaged)"
            )
        return bytes(data)
