"""Videos everyone can play. Every saved video is kept in the history's video store (a folder, by
default the `videos/` beside the history, or an S3 bucket: `store/`), once per content (by
SHA-256), and the task records its hash and when the store took it (`video_stored_at`). No video
bytes go into the database; a shared history made before stores kept them in its `videos` table,
and those old rows still play (`history migrate --videos` moves them into the store).

A store that is down or refuses the credentials loses nothing: the video stays on the machine
that saved it, the task says why it is not in the store yet (`store_error`), and
`upload_pending()` (run by `resume` and by the runner while the store is away) puts it there once
the store answers. `video_file()` writes a video kept elsewhere into this machine's cache the
first time it is asked for.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import HistoryError, VideoStoreError
from ..media._posters import poster_path_for
from ..store import VideoStore
from ..store._objects import file_sha256
from ._records import TaskRecord
from ._rows import Scrubber, iso, now

if TYPE_CHECKING:
    from sqlalchemy import Connection, Label

__all__ = ["Kept", "Uploads", "Videos", "file_sha256", "video_stored"]

_T = TypeVar("_T")
# A player may keep reading ranges for a while: an hour outlives any clip's viewing.
SIGNED_URL_SECONDS = 3600


@dataclass(frozen=True)
class Uploads:
    """What `upload_pending()` did: videos the store took, and videos still waiting here."""

    uploaded: int
    waiting: int


@dataclass(frozen=True)
class Kept:
    """What keeping a saved video in the store came to."""

    sha256: str
    stored: bool  # the store holds it (now, or already did)
    error: str | None = None  # why not (the store was down or refused the credentials)


def video_stored() -> Label[bool]:
    """A column for reading tasks: whether the task's video can be fetched on any machine (the
    store took it, or an old shared history holds its bytes), answered without reading them."""
    from sqlalchemy import or_, select

    from ._schema import tasks, videos

    held = select(videos.c.sha256).where(videos.c.sha256 == tasks.c.video_sha256)
    return or_(tasks.c.video_stored_at.is_not(None), held.exists()).label("video_stored")


class Videos:
    shared: bool
    videos_dir: Path
    store: VideoStore
    _scrub: Scrubber

    def _run(self, work: Callable[[Connection], _T], *, write: bool) -> _T:
        raise NotImplementedError

    def __getitem__(self, local_id: str) -> TaskRecord:
        raise NotImplementedError

    def _load_path(self, stored: str | None) -> Path | None:
        raise NotImplementedError

    # --- writing -----------------------------------------------------------------------------

    def keep_video(self, path: str | os.PathLike[str], sha256: str | None = None) -> Kept:
        """Put a saved video (and its poster, when there is one) into the store unless it is
        there already; streamed. A store that is down, refuses the credentials or cannot be
        written is not an error here: the answer says why, and the video stays where it is
        until `upload_pending()`. Blocking: call it off the event loop."""
        video = Path(path)
        sha256 = sha256 or file_sha256(video)
        try:
            self.store.put_file(video, sha256)
            poster = poster_path_for(video)
            if poster.is_file():
                self.store.put_file(poster, sha256, "poster")
        except VideoStoreError as exc:  # the video stays here either way: nothing is lost
            message = f"{exc}; the video is kept on this machine and uploaded once it answers"
            return Kept(sha256, False, self._scrub(message))
        return Kept(sha256, True)

    def upload_pending(self) -> Uploads:
        """Put into the store every video saved on this machine that it has not taken yet (the
        store was away). Those it still refuses keep their reason. Blocking."""
        from sqlalchemy import and_, select

        from ._schema import tasks

        def pending(conn: Connection) -> list[tuple[str, str, str]]:
            query = select(tasks.c.local_id, tasks.c.video_path, tasks.c.video_sha256).where(
                and_(
                    tasks.c.video_sha256.is_not(None),
                    tasks.c.video_stored_at.is_(None),
                    tasks.c.video_path.is_not(None),
                )
            )
            return [(r[0], r[1], r[2]) for r in conn.execute(query)]

        uploaded = waiting = 0
        for local_id, stored_path, sha256 in self._run(pending, write=False):
            path = self._load_path(stored_path)
            if path is None or not path.is_file():
                continue  # saved on another machine: that one uploads it
            kept = self.keep_video(path, sha256)
            self._mark_kept(local_id, kept)
            uploaded += int(kept.stored)
            waiting += int(not kept.stored)
        return Uploads(uploaded, waiting)

    def _mark_kept(self, local_id: str, kept: Kept) -> None:
        from ._schema import tasks

        changes = {"store_error": kept.error, "updated_at": iso(now())}
        if kept.stored:
            changes["video_stored_at"] = iso(now())

        def work(conn: Connection) -> None:
            query = tasks.update().where(tasks.c.local_id == local_id).values(changes)
            conn.execute(query)

        self._run(work, write=True)

    # --- reading -----------------------------------------------------------------------------

    def video_signer(self, record: TaskRecord) -> str | None:
        """A short-lived URL a browser can fetch the record's video from: the S3 store's
        presigned GET (with Range), or None (a folder store, no video in the store). The
        studio's player prefers it to every other source and falls back when it fails."""
        if self.store.location.kind != "s3" or not record.video_stored:
            return None
        sha256 = self.video_sha256(record.local_id)
        return self.store.signed_url(sha256, SIGNED_URL_SECONDS) if sha256 else None

    def video_sha256(self, local_id: str) -> str | None:
        from sqlalchemy import select

        from ._schema import tasks

        def work(conn: Connection) -> str | None:
            query = select(tasks.c.video_sha256).where(tasks.c.local_id == local_id)
            return conn.execute(query).scalar()

        return self._run(work, write=False)

    def video_file(self, local_id: str) -> Path:
        """A local MP4 of the task's video: the saved file, or the store's copy (or an old
        shared history's bytes) written into this machine's cache. HistoryError when the task
        has no video anywhere."""
        record = self[local_id]
        if record.has_video and record.video_path is not None:
            return record.video_path
        sha256 = self.video_sha256(local_id) if record.video_stored else None
        if sha256 is None:
            why = (
                record.store_error
                or record.download_error
                or (
                    "it has not been downloaded yet (kling-studio resume fetches it)"
                    if record.status == "completed"
                    else f"the task is {record.status}"
                )
            )
            raise HistoryError(f"Task {local_id} has no saved video: {why}")
        target = self.videos_dir / f"{sha256}.mp4"
        if target.is_file():
            return target
        if self._legacy_bytes_to(sha256, target):
            return target
        try:
            self.store.get_file(sha256, target)
            if self.store.exists(sha256, "poster"):
                self.store.get_file(sha256, poster_path_for(target), "poster")
        except VideoStoreError as exc:
            hint = ""
            if self.shared and self.store.kind == "folder":
                hint = (
                    " (a folder store is one machine's: give everyone one store, e.g. "
                    "KLING_STUDIO_VIDEOS=s3://bucket/prefix)"
                )
            raise HistoryError(
                f"Task {local_id} has no saved video on this machine, and fetching it failed: "
                f"{exc}{hint}"
            ) from None
        return target

    def _legacy_bytes_to(self, sha256: str, target: Path) -> bool:
        """Write bytes an old shared history holds in its `videos` table into `target`."""
        data = self._legacy_bytes(sha256)
        if data is None:
            return False
        if hashlib.sha256(data).hexdigest() != sha256:
            raise HistoryError(f"The shared history's copy of the video {sha256[:12]} is damaged")
        part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            part.write_bytes(data)
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
        return True

    def _legacy_bytes(self, sha256: str) -> bytes | None:
        from sqlalchemy import select

        from ._schema import videos

        def work(conn: Connection) -> bytes | None:
            return conn.execute(select(videos.c.data).where(videos.c.sha256 == sha256)).scalar()

        data = self._run(work, write=False)
        return None if data is None else bytes(data)
